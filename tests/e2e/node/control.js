// Node BullMQ reading and driving the state our queue control leaves (test helper).
//   node control.js counts URL PREFIX QUEUE [ID...]  prints {counts, states: {id: state}}
//   node control.js jobs URL PREFIX QUEUE STATE START END ASC   prints the ids getJobs lists
//   node control.js run URL PREFIX QUEUE N ok|fail   processes N jobs; prints their ids in order
//   node control.js hold URL PREFIX QUEUE   takes one job, prints its id, completes it at stdin's end
//   node control.js metrics URL PREFIX QUEUE   prints {completed, failed}: getMetrics of each
//   node control.js clients URL PREFIX QUEUE   prints {workers, names, queueEvents}: who Node sees
const { Queue, Worker } = require("bullmq");
const IORedis = require("ioredis");

const STATES = ["waiting", "active", "delayed", "prioritized", "completed", "failed", "paused", "waiting-children"];

async function main() {
  const [command, url, prefix, name, ...rest] = process.argv.slice(2);
  const connection = new IORedis(url, { maxRetriesPerRequest: null });
  const queue = new Queue(name, { connection, prefix });
  if (command === "counts") {
    const states = {};
    for (const id of rest) {
      const job = await queue.getJob(id);
      states[id] = job ? await job.getState() : "missing";
    }
    console.log(JSON.stringify({ counts: await queue.getJobCounts(...STATES), states }));
  } else if (command === "clients") {
    const workers = await queue.getWorkers();
    console.log(JSON.stringify({
      workers: await queue.getWorkersCount(),
      names: workers.map((worker) => worker.rawname).sort(),
      queueEvents: (await queue.getQueueEvents()).length,
    }));
  } else if (command === "metrics") {
    const read = async (type) => {
      const { meta, data, count } = await queue.getMetrics(type);
      return { count: meta.count, data, points: count };
    };
    console.log(JSON.stringify({ completed: await read("completed"), failed: await read("failed") }));
  } else if (command === "jobs") {
    const [state, start, end, asc] = rest;
    const jobs = await queue.getJobs([state], Number(start), Number(end), asc === "true");
    console.log(JSON.stringify(jobs.map((job) => job.id)));
  } else if (command === "run" || command === "hold") {
    const wanted = command === "hold" ? 1 : Number(rest[0]);
    const ids = [];
    let release;
    const held = new Promise((resolve) => { release = resolve; });
    const worker = new Worker(
      name,
      async (job) => {
        ids.push(job.id);
        if (command === "hold") {
          console.log(JSON.stringify(job.id));
          process.stdin.resume();
          process.stdin.on("end", release);
          await held;
          return "held";
        }
        if (rest[1] === "fail") throw new Error(`node failed ${job.id}`);
        return { by: "node", id: job.id };
      },
      { connection, prefix },
    );
    await new Promise((resolve) => {
      let left = wanted;
      const done = () => { left -= 1; if (left === 0) resolve(); };
      worker.on("completed", done);
      worker.on("failed", done);
    });
    await worker.close();
    if (command === "run") console.log(JSON.stringify(ids));
  }
  await queue.close();
  await connection.quit();
}

main().catch((error) => { console.error(error); process.exit(1); });
