// Node BullMQ's events beside the generated Python code (test helper for test_events_interop.py).
//   node events.js listen URL PREFIX QUEUE ID...  prints "ready" once its QueueEvents listens, then
//       waits for each job with job.waitUntilFinished and prints, as JSON, what came back and
//       the "completed" events QueueEvents saw
//   node events.js work URL PREFIX QUEUE N        processes N jobs: "ok" jobs report progress 50
//       then return {processedBy: "node", n}; "bad" jobs throw "node says no"
const { Job, Queue, QueueEvents, Worker } = require("bullmq");
const IORedis = require("ioredis");

async function listen(url, prefix, queueName, ids) {
  const connection = new IORedis(url, { maxRetriesPerRequest: null });
  const queue = new Queue(queueName, { connection, prefix });
  const events = new QueueEvents(queueName, { connection: { url }, prefix });
  const completed = [];
  events.on("completed", ({ jobId, returnvalue }) => completed.push({ jobId, returnvalue }));
  await events.waitUntilReady();
  console.log("ready");
  const results = {};
  for (const id of ids) {
    const job = await Job.fromId(queue, id);
    results[id] = await job.waitUntilFinished(events, 20000);
  }
  console.log(JSON.stringify({ results, completed }));
  await events.close();
  await queue.close();
  await connection.quit();
}

async function work(url, prefix, queueName, count) {
  const connection = new IORedis(url, { maxRetriesPerRequest: null });
  let left = count;
  let done;
  const finished = new Promise((resolve) => { done = resolve; });
  const settle = () => { left -= 1; if (left === 0) done(); };
  const worker = new Worker(
    queueName,
    async (job) => {
      if (job.name === "bad") throw new Error("node says no");
      await job.updateProgress(50);
      return { processedBy: "node", n: job.data.n };
    },
    { connection, prefix },
  );
  worker.on("completed", settle);
  worker.on("failed", (job) => { if (job.attemptsMade >= (job.opts.attempts || 1)) settle(); });
  await finished;
  await worker.close();
  await connection.quit();
}

async function main() {
  const [command, url, prefix, queueName, ...rest] = process.argv.slice(2);
  if (command === "listen") await listen(url, prefix, queueName, rest);
  else if (command === "work") await work(url, prefix, queueName, Number(rest[0]));
  else throw new Error(`unknown command ${command}`);
}

main().catch((error) => { console.error(error); process.exit(1); });
