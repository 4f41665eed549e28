// Zod's verdicts on many values in one process (test helper for test_zod_properties.py).
//   NODE_PATH=<node_modules with zod> node zod_check.js
// Reads one JSON request a line on stdin: {"source": JS, "name": NAME, "values": [...]}, where
// JS is plain JavaScript (no imports) that defines NAME with `z` in scope. Writes one JSON line
// back per request: {"accepted": [bool, ...], "issues": [first issue or null, ...]}, or
// {"error": message} when the source does not evaluate to a Zod schema.
const readline = require("node:readline");
const { z } = require("zod");

function verdicts(request) {
  const schema = new Function("z", `"use strict";\n${request.source}\nreturn ${request.name};`)(z);
  if (!schema || typeof schema.safeParse !== "function") {
    throw new Error(`${request.name} is not a Zod schema`);
  }
  const accepted = [];
  const issues = [];
  for (const value of request.values) {
    const outcome = schema.safeParse(value);
    accepted.push(outcome.success);
    issues.push(outcome.success ? null : JSON.stringify(outcome.error.issues[0] ?? null));
  }
  return { accepted, issues };
}

const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on("line", (line) => {
  let answer;
  try {
    answer = verdicts(JSON.parse(line));
  } catch (error) {
    answer = { error: String(error && error.stack ? error.stack : error) };
  }
  process.stdout.write(`${JSON.stringify(answer)}\n`);
});
