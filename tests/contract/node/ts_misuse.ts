// Wrong uses of the bundled example's TypeScript export: each line after an `// expect: TSnnnn`
// comment must fail `tsc --strict` there, with that error; nothing else may fail
// (test_typescript_export.py reads the markers).
import { createProducers, type AfterSignUpEmailResult } from "./bundled/index.js";

const jobs = createProducers({ host: "localhost", port: 6379 });

export async function wrongFieldType(): Promise<void> {
  // expect: TS2322
  await jobs.enqueueAfterSignUpEmail({ to: 42, template: "welcome" });
}

export async function missingField(): Promise<void> {
  // expect: TS2345
  await jobs.enqueueAfterSignUpEmail({ to: "ada@example.com" });
}

export async function unknownField(): Promise<void> {
  // expect: TS2353
  await jobs.enqueueAfterSignUpEmail({ to: "ada@example.com", template: "w", cc: "bob" });
}

export async function unknownJobName(): Promise<void> {
  // expect: TS2551
  await jobs.enqueueAfterSignupEmail({ to: "ada@example.com", template: "welcome" });
}

export async function unknownJobNameOnTheQueue(): Promise<void> {
  // expect: TS2345
  await jobs.queues.emailSend.add("afterSignIn", { to: "ada@example.com", template: "w" });
}

export async function payloadForAJobWithout(): Promise<void> {
  // expect: TS2353
  await jobs.enqueueDbCleanUp({ to: "ada@example.com" });
}

export async function wrongResultUse(): Promise<number> {
  const sent = await jobs.enqueueAfterSignUpEmailAndWait({ to: "ada@example.com", template: "w" });
  // expect: TS2322
  return sent.message_id;
}

export async function unknownResultField(): Promise<string> {
  const sent: AfterSignUpEmailResult = await jobs.enqueueAfterSignUpEmailAndWait({
    to: "ada@example.com",
    template: "w",
  });
  // expect: TS2551
  return sent.messageId;
}

export async function resultOfAJobWithout(): Promise<string> {
  // expect: TS2322
  return await jobs.enqueueDbCleanUpAndWait();
}

export async function wrongJobOption(): Promise<void> {
  // expect: TS2322
  await jobs.enqueueAfterSignUpEmail({ to: "ada@example.com", template: "w" }, { attempts: "3" });
}
