// Node BullMQ and job schedulers (test helper for test_schedules.py).
//   node schedules.js list   REDIS_URL PREFIX QUEUE                 prints getJobSchedulers() as JSON
//   node schedules.js upsert REDIS_URL PREFIX QUEUE ID REPEAT TMPL  upsertJobScheduler(ID, REPEAT, TMPL)
//                                                                   (JSON arguments); prints the first job
//   node schedules.js work   REDIS_URL PREFIX QUEUE SECONDS         runs a Node worker for SECONDS,
//                                                                   then prints the ids it processed
const { Queue, Worker } = require("bullmq");
const IORedis = require("ioredis");

async function main() {
  const [command, url, prefix, queueName, ...rest] = process.argv.slice(2);
  const connection = new IORedis(url, { maxRetriesPerRequest: null });
  if (command === "list") {
    const queue = new Queue(queueName, { connection, prefix });
    console.log(JSON.stringify(await queue.getJobSchedulers(0, -1, true)));
    await queue.close();
  } else if (command === "upsert") {
    const [id, repeat, template] = rest;
    const queue = new Queue(queueName, { connection, prefix });
    const job = await queue.upsertJobScheduler(id, JSON.parse(repeat), JSON.parse(template));
    console.log(JSON.stringify({ id: job.id, opts: job.opts }));
    await queue.close();
  } else if (command === "work") {
    const processed = [];
    const worker = new Worker(queueName, async (job) => { processed.push(job.id); }, { connection, prefix });
    worker.on("error", (error) => console.error(error));
    await new Promise((resolve) => setTimeout(resolve, Number(rest[0]) * 1000));
    await worker.close();
    console.log(JSON.stringify(processed));
  }
  await connection.quit();
}

main().catch((error) => { console.error(error); process.exit(1); });
