// Node side of test_typescript_interop.py: enqueues through the bundled example's TypeScript
// producers for its Python workers, and prints what it saw as one JSON object.
//   node ts_interop.js REDIS_URL PREFIX
import { Job, QueueEvents } from "bullmq";
import { Redis } from "ioredis";
import { ZodError } from "zod";
import { createProducers, type AfterSignUpEmailResult, type DbCleanUpResult } from "./bundled/index.js";

async function main(): Promise<void> {
  const [url = "", prefix = ""] = process.argv.slice(2);
  const address = new URL(url);
  const connection = {
    host: address.hostname,
    port: Number(address.port),
    db: Number(address.pathname.slice(1) || "0"),
    ...(address.password ? { password: decodeURIComponent(address.password) } : {}),
  };
  const jobs = createProducers(connection, { prefix });
  const queue = jobs.queues.emailSend;
  const client = new Redis(url);
  const idCounter = `${prefix}:emailSend:id`;
  const events = new QueueEvents("emailSend", { connection, prefix });
  try {
    await events.waitUntilReady();
    // typed results, parsed by the result schemas
    const sent: AfterSignUpEmailResult = await jobs.enqueueAfterSignUpEmailAndWait({
      to: "node@example.com",
      template: "welcome",
    });
    const cleaned: DbCleanUpResult = await jobs.enqueueDbCleanUpAndWait({ delay: 0 });
    const added = await jobs.enqueueAfterSignUpEmail({ to: "ada@example.com", template: "w" });
    await added.waitUntilFinished(events, 20_000); // the counts below then stay as they are

    // a payload Zod rejects never reaches Redis
    const before = { counts: await queue.getJobCounts(), id: await client.get(idCounter) };
    let rejected: string[] = [];
    try {
      await jobs.enqueueAfterSignUpEmail({ to: "not an address", template: "w" });
    } catch (error) {
      if (!(error instanceof ZodError)) throw error;
      rejected = error.issues.map((issue) => issue.path.join("."));
    }
    const after = { counts: await queue.getJobCounts(), id: await client.get(idCounter) };

    // one sent raw, past Zod, that the worker's Pydantic refuses
    const raw = await queue.add("afterSignUpEmail", { to: 42 } as never, {
      attempts: 3,
      backoff: { type: "fixed", delay: 10 },
    });
    let failedReason = "";
    try {
      await raw.waitUntilFinished(events, 20_000);
    } catch (error) {
      failedReason = (error as Error).message;
    }
    const failed = await Job.fromId(queue, raw.id ?? "");
    console.log(
      JSON.stringify({
        sent,
        cleaned,
        added: { id: added.id, name: added.name, data: added.data, opts: added.opts },
        rejected,
        before,
        after,
        failedReason,
        attemptsMade: failed?.attemptsMade,
        state: await failed?.getState(),
      }),
    );
  } finally {
    await events.close();
    await jobs.close();
    client.disconnect();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
