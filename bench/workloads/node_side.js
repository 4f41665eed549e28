// Node BullMQ doing the same work as bench/workloads/python_side.py; prints one JSON line.
//   node node_side.js worker  QUEUE JOB N CONCURRENCY SLEEP_MS
//   node node_side.js produce MODE N          (MODE: sequential | concurrent | bulk)
const { Queue, Worker } = require("bullmq");
const IORedis = require("ioredis");

const url = process.env.BENCH_REDIS_URL;
const prefix = process.env.BENCH_PREFIX;
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
const now = () => Number(process.hrtime.bigint()) / 1e9;
// Redis's INFO cpu + stats + commandstats, on a connection of its own (bench/workloads/redis_cost.py reads it)
const redisInfo = async () => {
  const probe = new IORedis(url);
  const text = await probe.info("cpu", "stats", "commandstats");
  await probe.quit();
  return text;
};
// the median PING round trip in ms on the worker's connection kind (ioredis)
async function roundTripMs(connection) {
  await connection.ping();
  const samples = [];
  for (let i = 0; i < 300; i++) {
    const t0 = now();
    await connection.ping();
    samples.push(now() - t0);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] * 1000;
}

async function fill(connection, queueName, jobName, n) {
  const queue = new Queue(queueName, { connection, prefix });
  for (let start = 0; start < n; start += 1000) {
    const batch = Math.min(1000, n - start);
    await queue.addBulk(Array.from({ length: batch }, () => ({ name: jobName, data: {}, opts: { removeOnComplete: true } })));
  }
  await queue.close();
}

async function worker(connection, [queueName, jobName, n, concurrency, sleepMs]) {
  n = Number(n);
  await fill(connection, queueName, jobName, n);
  let count = 0;
  let slept = 0; let sleeps = 0;
  let resolveDone;
  const done = new Promise((resolve) => { resolveDone = resolve; });
  const rtt = await roundTripMs(connection);
  const before = await redisInfo();
  const started = now(); const cpu0 = cpu();
  let firstAt = 0; let lastAt = 0;
  const w = new Worker(queueName, async () => {
    count += 1;
    if (count === 1) firstAt = now();
    if (count === n) lastAt = now();
    if (count >= n) resolveDone();
    if (Number(sleepMs)) {
      const t0 = now();
      await new Promise((r) => setTimeout(r, Number(sleepMs)));
      slept += now() - t0; sleeps += 1;
    }
  }, { connection, prefix, concurrency: Number(concurrency) });
  await done;
  const result = { jobs: n, wall: now() - started, cpu: cpu() - cpu0, rtt_ms: rtt };
  await w.close();  // every job completed: Redis's cost of all of them
  result.redis_before = before;
  result.redis_after = await redisInfo();
  if (sleeps) {
    result.job_ms = (slept / sleeps) * 1000;
    result.ceiling_per_s = Number(concurrency) / ((result.job_ms + rtt) / 1000);
    // compared with the steady rate, first job's start to the last's (start-up left out)
    result.steady_per_s = (n - 1) / (lastAt - firstAt);
    result.of_ceiling = result.steady_per_s / result.ceiling_per_s;
  }
  return result;
}

async function produce(connection, [mode, n]) {
  n = Number(n);
  const queue = new Queue("emailSend", { connection, prefix, defaultJobOptions: { removeOnComplete: true } });
  const data = { to: "user@example.com", template: "welcome" };
  await queue.add("afterSignUpEmail", data);
  const before = await redisInfo();
  const started = now(); const cpu0 = cpu();
  if (mode === "sequential") {
    for (let i = 0; i < n; i++) await queue.add("afterSignUpEmail", data);
  } else if (mode === "concurrent") {
    let remaining = n;
    const producer = async () => { while (remaining > 0) { remaining -= 1; await queue.add("afterSignUpEmail", data); } };
    await Promise.all(Array.from({ length: 50 }, producer));
  } else {
    for (let start = 0; start < n; start += 1000) {
      const batch = Math.min(1000, n - start);
      await queue.addBulk(Array.from({ length: batch }, () => ({ name: "afterSignUpEmail", data })));
    }
  }
  const result = { jobs: n, wall: now() - started, cpu: cpu() - cpu0 };
  result.redis_before = before;
  result.redis_after = await redisInfo();
  await queue.close();
  return result;
}

async function main() {
  const [command, ...args] = process.argv.slice(2);
  const connection = new IORedis(url, { maxRetriesPerRequest: null });
  const result = command === "worker" ? await worker(connection, args) : await produce(connection, args);
  console.log(JSON.stringify(result));
  await connection.quit();
}

main().catch((error) => { console.error(error); process.exit(1); });
