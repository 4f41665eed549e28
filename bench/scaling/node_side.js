// Node BullMQ for bench/scaling, doing what bench/scaling/worker.py, producer.py and
// `bullmq-codegen workers start` do for ours:
//   node node_side.js worker QUEUES SLEEP_MS [SAMPLES_FILE]
//       one Worker per queue (QUEUES comma-separated), concurrency BENCH_CONCURRENCY; prints
//       "ready", runs until SIGTERM, then closes and writes the stamped jobs' delays (ns):
//       {"samples": [[phase, sent, start delay, complete delay], ...]} (nanoseconds)
//   node node_side.js produce QUEUE JOB RATE SECONDS PHASE
//       adds RATE jobs/s for SECONDS, each stamped with the monotonic time before its add;
//       prints one JSON line (with the add calls' p50 and p99)
const { Queue, Worker } = require("bullmq");
const IORedis = require("ioredis");
const fs = require("fs");

const url = process.env.BENCH_REDIS_URL;
const prefix = process.env.BENCH_PREFIX;
const concurrency = Number(process.env.BENCH_CONCURRENCY); // the definitions' CONCURRENCY
const MAX_IN_FLIGHT = 1000;
const nowNs = () => Number(process.hrtime.bigint()); // CLOCK_MONOTONIC, as Python's monotonic_ns
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
const connect = () => new IORedis(url, { maxRetriesPerRequest: null });

async function worker([queues, sleepMs, samplesFile]) {
  const started = new Map();
  const samples = [];
  const sleep = Number(sleepMs);
  const processor = async (job) => {
    const phase = job.data && job.data.phase;
    if (phase) started.set(job.id, [phase, job.data.sent_ns, nowNs()]);
    if (sleep) await new Promise((resolve) => setTimeout(resolve, sleep));
  };
  const workers = queues.split(",").map((name) => {
    const w = new Worker(name, processor, { connection: connect(), prefix, concurrency });
    w.on("completed", (job) => {
      const entry = started.get(job.id);
      if (entry === undefined) return;
      started.delete(job.id);
      const [phase, sent, start] = entry;
      samples.push([phase, sent, start - sent, nowNs() - sent]);
    });
    return w;
  });
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  console.log("ready");
  await new Promise((resolve) => process.once("SIGTERM", resolve));
  await Promise.all(workers.map((w) => w.close()));
  if (samplesFile) fs.writeFileSync(samplesFile, JSON.stringify({ samples }));
  process.exit(0);
}

async function produce([queueName, jobName, rate, seconds, phase]) {
  rate = Number(rate);
  phase = Number(phase);
  const queue = new Queue(queueName, { connection: connect(), prefix, defaultJobOptions: { removeOnComplete: true } });
  await queue.add(jobName, { sent_ns: 0, phase: 0 }); // connect and load the scripts outside the clock
  const total = Math.round(rate * Number(seconds));
  let sent = 0;
  let inFlight = 0;
  let finished = 0;
  const calls = [];
  const started = nowNs();
  const cpu0 = cpu();
  await new Promise((resolve, reject) => {
    const tick = () => {
      const due = Math.min(total, Math.floor((rate * (nowNs() - started)) / 1e9));
      while (sent < due && inFlight < MAX_IN_FLIGHT) {
        sent += 1;
        inFlight += 1;
        const sentNs = nowNs();
        queue.add(jobName, { sent_ns: sentNs, phase }).then(() => {
          calls.push(nowNs() - sentNs);
          inFlight -= 1;
          finished += 1;
          if (finished === total) resolve();
        }, reject);
      }
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
  const wall = (nowNs() - started) / 1e9;
  calls.sort((a, b) => a - b);
  const percentileMs = (fraction) => Math.round(calls[Math.max(Math.ceil(fraction * calls.length) - 1, 0)] / 1e3) / 1e3;
  console.log(JSON.stringify({
    jobs: total, wall, jobs_per_s: total / wall, cpu: cpu() - cpu0,
    add_p50_ms: percentileMs(0.5), add_p99_ms: percentileMs(0.99),
  }));
  await queue.close();
  process.exit(0);
}

const [command, ...args] = process.argv.slice(2);
(command === "worker" ? worker(args) : produce(args)).catch((error) => {
  console.error(error);
  process.exit(1);
});
