// Waiting for results, Node BullMQ's side (job.waitUntilFinished on a QueueEvents); one JSON line.
// The same work as bench/workloads/waiting.py, with a Node worker in the same process.
//   node waiting.js latency N   N sequential round trips: add a job, wait for its result
//   node waiting.js waiters N   N jobs added, N concurrent waiters, then the worker (concurrency
//                               100) starts; results/s, and the connections held while waiting
const { Queue, QueueEvents, Worker } = require("bullmq");
const IORedis = require("ioredis");

const url = process.env.BENCH_REDIS_URL;
const prefix = process.env.BENCH_PREFIX;
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
const now = () => Number(process.hrtime.bigint()) / 1e9;
const WARM_UP = 20;

async function connections() {
  const observer = new IORedis(url);
  const list = await observer.client("LIST");
  await observer.quit();
  return list.trim().split("\n").length - 1;
}

async function latency(n) {
  const connection = new IORedis(url, { maxRetriesPerRequest: null });
  const queue = new Queue("pings", { connection, prefix });
  const events = new QueueEvents("pings", { connection: { url }, prefix });
  const worker = new Worker("pings", async () => null, { connection, prefix });
  await events.waitUntilReady();
  const roundTrip = async () => {
    const job = await queue.add("ping", {}, { removeOnComplete: false });
    await job.waitUntilFinished(events, 30000);
  };
  for (let i = 0; i < WARM_UP; i++) await roundTrip();
  const times = [];
  const started = now(); const cpu0 = cpu();
  for (let i = 0; i < n; i++) {
    const before = now();
    await roundTrip();
    times.push(now() - before);
  }
  const result = { jobs: n, wall: now() - started, cpu: cpu() - cpu0 };
  times.sort((a, b) => a - b);
  const middle = Math.floor(times.length / 2);
  result.p50_ms = (times.length % 2 ? times[middle] : (times[middle - 1] + times[middle]) / 2) * 1000;
  result.p99_ms = times[Math.max(Math.floor(times.length * 0.99) - 1, 0)] * 1000;
  await worker.close(); await events.close(); await queue.close(); await connection.quit();
  return result;
}

async function waiters(n) {
  const before = await connections();
  const connection = new IORedis(url, { maxRetriesPerRequest: null });
  const queue = new Queue("noopC100", { connection, prefix });
  const events = new QueueEvents("noopC100", { connection: { url }, prefix });
  await events.waitUntilReady();
  const jobs = await queue.addBulk(
    Array.from({ length: n }, () => ({ name: "noopC100Job", data: {}, opts: { removeOnComplete: false } })),
  );
  const waits = jobs.map((job) => job.waitUntilFinished(events, 120000));
  await new Promise((resolve) => setTimeout(resolve, 200)); // every waiter has checked its job
  const during = (await connections()) - before;
  const started = now(); const cpu0 = cpu();
  const worker = new Worker("noopC100", async () => null, { connection, prefix, concurrency: 100 });
  await Promise.all(waits);
  const result = { jobs: n, wall: now() - started, cpu: cpu() - cpu0, connections: during };
  await worker.close(); await events.close(); await queue.close(); await connection.quit();
  return result;
}

async function main() {
  const [command, n] = process.argv.slice(2);
  const result = command === "latency" ? await latency(Number(n)) : await waiters(Number(n));
  console.log(JSON.stringify(result));
}

main().catch((error) => { console.error(error); process.exit(1); });
