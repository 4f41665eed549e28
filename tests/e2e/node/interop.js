// Node BullMQ on the same queues as the generated Python code (test helper).
//   node interop.js add  REDIS_URL PREFIX     adds jobs to emailSend; prints their ids as JSON
//   node interop.js work REDIS_URL PREFIX N   processes N jobs of emailSend, then exits
const { Queue, Worker } = require("bullmq");
const IORedis = require("ioredis");

async function main() {
  const [command, url, prefix, count] = process.argv.slice(2);
  const connection = new IORedis(url, { maxRetriesPerRequest: null });
  if (command === "add") {
    const queue = new Queue("emailSend", { connection, prefix });
    const valid = await queue.add("afterSignUpEmail", { to: "node@example.com", template: "welcome" });
    const invalid = await queue.add("afterSignUpEmail", { to: "not an address" }, { attempts: 3 });
    console.log(JSON.stringify({ valid: valid.id, invalid: invalid.id }));
    await queue.close();
  } else if (command === "work") {
    let left = Number(count);
    const worker = new Worker(
      "emailSend",
      async (job) => ({ processedBy: "node", name: job.name, to: job.data.to }),
      { connection, prefix },
    );
    await new Promise((resolve) => worker.on("completed", () => { left -= 1; if (left === 0) resolve(); }));
    await worker.close();
  }
  await connection.quit();
}

main().catch((error) => { console.error(error); process.exit(1); });
