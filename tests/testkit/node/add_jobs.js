// Node BullMQ adds jobs to the shop's `orders` queue in every state a drain must tell apart
// (test helper):  node add_jobs.js REDIS_URL PREFIX   prints the job ids by state as JSON
const { Queue } = require("bullmq");
const IORedis = require("ioredis");

async function main() {
  const [url, prefix] = process.argv.slice(2);
  const connection = new IORedis(url, { maxRetriesPerRequest: null });
  const queue = new Queue("orders", { connection, prefix });
  const order = (id) => ({ order_id: id, amount_cents: 100 * id, email: `n${id}@example.com` });
  const ids = {
    waiting: (await queue.add("chargeOrder", order(1))).id,
    prioritized: (await queue.add("chargeOrder", order(2), { priority: 3 })).id,
    dueSoon: (await queue.add("chargeOrder", order(3), { delay: 300 })).id,
    dueLater: (await queue.add("chargeOrder", order(4), { delay: 3600000 })).id,
  };
  const counts = await queue.getJobCounts("wait", "prioritized", "delayed");
  console.log(JSON.stringify({ ids, counts }));
  await queue.close();
  await connection.quit();
}

main().catch((error) => { console.error(error); process.exit(1); });
