// Node BullMQ reading and driving flows on the same queues as our Python code (test helper).
//   node flows.js flow     REDIS_URL PREFIX FLOW_JSON         FlowProducer.add(flow); prints the
//                                                            tree of job ids {id, children: [...]}
//   node flows.js children REDIS_URL PREFIX QUEUE JOB_ID     prints what Node's Job says of a parent:
//                                                            values, ignored failures, dependencies
//   node flows.js add      REDIS_URL PREFIX QUEUE NAME DATA_JSON OPTS_JSON   queue.add; prints the id
//   node flows.js work     REDIS_URL PREFIX PARENT_ID        Node workers on parts and orders until
//                                                            job PARENT_ID of orders completes
const { FlowProducer, Job, Queue, Worker } = require("bullmq");
const IORedis = require("ioredis");

function ids(node) {
  return { id: node.job.id, children: (node.children || []).map(ids) };
}

async function main() {
  const [command, url, prefix, ...rest] = process.argv.slice(2);
  const connection = new IORedis(url, { maxRetriesPerRequest: null });
  if (command === "flow") {
    const producer = new FlowProducer({ connection, prefix });
    const tree = await producer.add(JSON.parse(rest[0]));
    console.log(JSON.stringify(ids(tree)));
    await producer.close();
  } else if (command === "children") {
    const [queueName, jobId] = rest;
    const queue = new Queue(queueName, { connection, prefix });
    const job = await Job.fromId(queue, jobId);
    console.log(
      JSON.stringify({
        state: await job.getState(),
        values: await job.getChildrenValues(),
        ignored: await job.getIgnoredChildrenFailures(),
        dependencies: await job.getDependencies(),
        counts: await job.getDependenciesCount(),
        returnvalue: job.returnvalue,
      }),
    );
    await queue.close();
  } else if (command === "add") {
    const [queueName, name, data, opts] = rest;
    const queue = new Queue(queueName, { connection, prefix });
    const job = await queue.add(name, JSON.parse(data), JSON.parse(opts));
    console.log(JSON.stringify(job.id));
    await queue.close();
  } else if (command === "work") {
    const [parentId] = rest;
    const parts = new Worker(
      "parts",
      async (job) => ({ sku: job.data.sku, cents: job.data.cents, by: "node" }),
      { connection, prefix },
    );
    const orders = new Worker(
      "orders",
      async (job) => {
        const values = Object.values(await job.getChildrenValues());
        const cents = values.reduce((sum, value) => sum + value.cents, 0);
        return { order_id: job.data.order_id, cents, parts: values.length, by: "node" };
      },
      { connection, prefix },
    );
    const result = await new Promise((resolve) =>
      orders.on("completed", (job, value) => { if (job.id === parentId) resolve(value); }),
    );
    console.log(JSON.stringify(result));
    await parts.close();
    await orders.close();
  } else {
    throw new Error(`unknown command ${command}`);
  }
  await connection.quit();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
