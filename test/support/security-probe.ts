/**
 * The denial-of-service reproductions of the security review and how one is measured against the
 * built Worker under `workerd serve`: shared by `npm run probe:security` (which prints the figures)
 * and the "security" test project (which asserts bounds on them).
 */
import { readFileSync } from "node:fs";
import { obtainBenchToken } from "../../scripts/bench/token";
import type { LocalStack } from "./local-stack";
import type { WorkerdProcess } from "./workerd-serve";

/** The tier probes run on: a rate limit that cannot throttle them. */
export const PROBE_TIER = "probe";
export const RATE_LIMIT_TIERS = {
  free: { limit: 5, windowSeconds: 10 },
  [PROBE_TIER]: { limit: 1_000_000, windowSeconds: 10 },
};

/** The Worker's configuration for a probe: the stack's, with the probe tier and a short admission timeout. */
export function probeVars(stack: LocalStack): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const [name, value] of Object.entries(stack.vars)) if (value !== undefined) vars[name] = value;
  vars.RATE_LIMIT_TIERS = JSON.stringify(RATE_LIMIT_TIERS);
  vars.ADMISSION_TIMEOUT_MS = "1000";
  return vars;
}

/** A token on the probe tier. */
export async function probeToken(worker: WorkerdProcess, stack: LocalStack): Promise<string> {
  return (await obtainBenchToken(worker.url, stack, PROBE_TIER, () => {})).token;
}

export interface Attack {
  name: string;
  /** What the review found, for the table. */
  finding: string;
  body: () => unknown;
  /** The body as text, when it is not JSON.stringify(body()) (malformed JSON, say). */
  text?: () => string;
  /** The status it is answered with when that is neither a 2xx nor a 422 (a malformed body's 400). */
  refusedWith?: number;
  /** Default /v1/validate. */
  path?: string;
  /** The test's wall-time bound when it must differ from the default (a multi-MB upload). */
  wallMs?: number;
}

const repeat = <T>(count: number, make: (i: number) => T): T[] =>
  Array.from({ length: count }, (_, i) => make(i));

/** An object schema of `count` properties made by `make`: a big schema to compile. */
const wideSchema = (count: number, make: (i: number) => unknown) => ({
  type: "object",
  properties: Object.fromEntries(repeat(count, (i) => [`p${i}`, make(i)])),
});

/** A 300-character pattern RE2 compiles in about 0.4 ms, made distinct by `i`. */
const longPattern = (i: number) =>
  `^(?:[a-z]+(?:-[a-z0-9]+)*\\.)+(?:com|org|net|io|dev)(?::[0-9]{1,5})?(?:/[\\w.~-]+)*(?:\\?(?:[\\w-]+=[\\w-]*&?)*)?-${i}-(?:a|b|c|d|e|f|g|h)+(?:x{2,9}|y{3,7}|z{1,4})*[A-F0-9]{8}-[A-F0-9]{4}-[A-F0-9]{12}$`;

export const ATTACKS: Attack[] = [
  {
    name: "anyof-fanout",
    finding: "5,000 anyOf branches over 80,000 items: 43 s, 4% of the step budget",
    body: () => ({
      schema: { items: { anyOf: repeat(5000, (i) => ({ const: i })) } },
      data: repeat(80_000, () => -1),
    }),
  },
  {
    name: "anyof-fanout-valid",
    finding: "the same fan-out under MAX_DOCUMENT_BYTES, every item matching the last branch",
    body: () => ({
      schema: { items: { anyOf: repeat(5000, (i) => ({ const: i })) } },
      data: repeat(16_000, () => 4999),
    }),
  },
  {
    name: "enrich-default-amplification",
    finding: "a 10 kB default filled into each of 5,000 empty objects",
    body: () => ({
      schema: { items: { properties: { a: { default: "x".repeat(10_000) } } } },
      data: repeat(5000, () => ({})),
      enrich: true,
    }),
  },
  {
    name: "regex-dot-repeat",
    finding: "unanchored `.{50000}x` on 100 kB: 12 s on the 'linear' native path",
    // Just under MAX_DOCUMENT_BYTES, so that the pattern is what is judged.
    body: () => ({ schema: { type: "string", pattern: ".{50000}x" }, data: "a".repeat(99_000) }),
  },
  {
    name: "regex-lookaround-catastrophic",
    finding: "lookaround with a nested quantifier (now accepted) on a long input must stay bounded",
    body: () => ({
      schema: { type: "string", pattern: "^(?=(a+)+$)" },
      data: `${"a".repeat(30_000)}!`,
    }),
  },
  {
    name: "speculative-errors",
    finding: "errors inside anyOf/oneOf/not not counted: 47 kB raised workerd to 748 MB",
    body: () => ({
      schema: {
        items: {
          anyOf: repeat(40, () => ({ items: { type: "string" } })),
        },
      },
      data: repeat(100, () => repeat(100, () => 0)),
    }),
  },
  {
    name: "enrich-amplification",
    finding: "annotations repeated per instance location: 20 kB request, 50 MB response",
    body: () => ({
      schema: { items: { title: "t".repeat(10_000), description: "d".repeat(8_000) } },
      data: repeat(5000, () => 0),
      enrich: true,
    }),
  },
  {
    name: "idn-punycode",
    finding: "quadratic punycode in idn-hostname before the length check: 160 kB took 3.6 s",
    body: () => ({
      schema: { type: "string", format: "idn-hostname" },
      data: "ä".repeat(45_000),
      format_assertion: true,
    }),
  },
  {
    name: "idn-punycode-enrich",
    finding: "the same normalisation runs during enrichment even without format_assertion",
    body: () => ({
      schema: { type: "string", format: "idn-hostname" },
      data: `${"ä".repeat(45_000)}.example`,
      enrich: true,
    }),
  },
  {
    name: "schema-compile-fanout",
    // A 3.7 MB body, and compiling up to MAX_COMPILE_STEPS (about 0.5 s of CPU, in slices).
    wallMs: 3000,
    finding: "a 3.7 MB schema of 90,000 small subschemas (MAX_BODY_BYTES is 4 MiB): compiling is counted",
    body: () => ({ schema: wideSchema(90_000, () => ({ type: "string", minLength: 1 })), data: {} }),
  },
  {
    name: "body-parse-malformed",
    wallMs: 3000,
    refusedWith: 400,
    finding: "a 3.7 MB body is one JSON.parse of about 100 ms, and locating its syntax error another 150 ms",
    body: () => null,
    text: () =>
      `${JSON.stringify({ schema: wideSchema(90_000, () => ({ type: "string", minLength: 1 })) }).slice(0, -1)},}`,
  },
  {
    name: "body-parse-deep",
    wallMs: 3000,
    finding: "a 3.7 MB body nested 500 levels deep is parsed whole before the depth limit refuses it",
    body: () => null,
    text: () =>
      `{"data": ${"[".repeat(500)}${JSON.stringify(wideSchema(90_000, () => ({ type: "string" })))}${"]".repeat(500)}, "schema": true}`,
  },
  {
    name: "schema-compile-patterns",
    // A 3.7 MB body, and compiling up to MAX_COMPILE_STEPS (about 0.5 s of CPU, in slices).
    wallMs: 3000,
    finding:
      "a 3.7 MB schema of 12,000 distinct long patterns: 4 s of CPU to compile before patterns were counted",
    body: () => ({
      schema: wideSchema(12_000, (i) => ({ type: "string", pattern: longPattern(i) })),
      data: {},
    }),
  },
  {
    name: "schema-compile-weight",
    // A 3.7 MB body, and compiling up to MAX_COMPILE_STEPS (about 0.5 s of CPU, in slices).
    wallMs: 3000,
    finding: "a 3.6 MB schema whose compiled form would weigh 70 MB: refused before the memory is taken",
    body: () => ({
      schema: wideSchema(12_000, () => ({ type: "string", description: "d".repeat(250) })),
      data: {},
    }),
  },
  {
    name: "regex-too-large",
    finding: "a 'safe' pattern V8 refuses at match time: 500 with the pattern in the log",
    body: () => ({ schema: { type: "string", pattern: "(?:a{1000}){1000}" }, data: "a" }),
  },
  // Found after the review, by timing every keyword's own work per budget unit: linear scans and
  // structural comparisons that spent one unit (or none) whatever the size of what they scanned.
  {
    name: "unique-items-canonical",
    finding: "uniqueItems on 17 arrays of 2,800 items, 5,000 times over one document: 16 s in Node",
    body: () => ({
      schema: { allOf: repeat(5000, () => ({ uniqueItems: true })) },
      data: repeat(17, (i) => [...repeat(2800, () => 0), i]),
    }),
  },
  {
    name: "unique-items-pairwise",
    finding: "uniqueItems on 16 arrays compared pairwise, 5,000 times: 6.8 s in Node",
    body: () => ({
      schema: { allOf: repeat(5000, () => ({ uniqueItems: true })) },
      data: repeat(16, (i) => [...repeat(2900, () => 0), i]),
    }),
  },
  {
    name: "const-structural",
    finding: "a 20,000-item const compared 5,000 times through $ref: 0.4 s for 10,000 units",
    body: () => ({
      schema: {
        $defs: { big: { const: repeat(20_000, () => 0) } },
        anyOf: repeat(5000, () => ({ $ref: "#/$defs/big" })),
      },
      data: [...repeat(19_999, () => 0), 1],
    }),
  },
  {
    name: "content-json-parse",
    finding: "draft-07 contentMediaType parsing an 80 kB string 5,000 times: 3 s in Node",
    body: () => ({
      schema: {
        $schema: "http://json-schema.org/draft-07/schema#",
        allOf: repeat(5000, () => ({ contentMediaType: "application/json" })),
      },
      data: `[${"0,".repeat(40_000)}0]`,
    }),
  },
  {
    name: "min-length-count",
    finding: "minLength counting the code points of 99 kB, 5,000 times: 0.7 s in Node",
    body: () => ({
      schema: { allOf: repeat(5000, () => ({ minLength: 60_000 })) },
      data: "a".repeat(99_000),
    }),
  },
  {
    name: "format-uri-scan",
    finding: "format uri checked on 99 kB, 5,000 times: 0.4 s in Node",
    body: () => ({
      schema: { allOf: repeat(5000, () => ({ format: "uri" })) },
      data: `http://x/${"a".repeat(98_000)}`,
      format_assertion: true,
    }),
  },
  {
    name: "additional-properties-fanout",
    finding: "the dearest unit: 500 additionalProperties over 8,000 keys (the budget's worst case)",
    body: () => ({
      schema: { allOf: repeat(500, () => ({ properties: { a: {} }, additionalProperties: true })) },
      data: Object.fromEntries(repeat(8000, (i) => [`k${i}`, 0])),
    }),
  },
  {
    name: "batch-of-heavy-documents",
    finding: "100 documents that each spend a share of the budget: the whole batch is one request's work",
    path: "/v1/validate/batch",
    body: () => ({
      schema: { items: { anyOf: repeat(200, (i) => ({ const: i })) } },
      documents: repeat(100, () => repeat(400, () => 199)),
    }),
  },
  {
    name: "error-message-amplification",
    finding: "a 60 kB pattern quoted in each of 100 errors: a 60 kB request, a 6 MB response",
    body: () => ({
      schema: { items: { pattern: "b".repeat(60_000) } },
      data: repeat(100, () => "a"),
    }),
  },
  {
    name: "error-message-amplification-longest-pattern",
    finding:
      "the same with the longest pattern compiled (MAX_PATTERN_LENGTH, 4,096 characters): errors capped",
    body: () => ({
      schema: { items: { pattern: "b".repeat(4096) } },
      data: repeat(100, () => "a"),
    }),
  },
  {
    name: "error-location-amplification",
    finding: "a 60 kB property name in the instanceLocation of each of 100 errors",
    body: () => ({
      schema: { additionalProperties: { items: { type: "string" } } },
      data: { ["k".repeat(60_000)]: repeat(100, () => 0) },
      output: "detailed",
    }),
  },
  {
    name: "enrich-proto-key",
    finding: "enrichment drops __proto__ keys from the returned document",
    body: () => JSON.parse('{"schema":{"type":"object"},"data":{"__proto__":{"x":1},"a":1},"enrich":true}'),
  },
];

export function memoryKb(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: field("VmRSS"), hwm: field("VmHWM") };
}

export interface Outcome {
  status: number | string;
  ms: number;
  bytes: number;
  rssBeforeMb: number;
  peakMb: number;
  slowestHealthMs: number;
  healthTimeouts: number;
  detail: string;
  requestBytes: number;
  /** The response body. */
  text: string;
}

/** Sends one attack while sampling workerd's memory and probing GET /health every 50 ms. */
export async function runAttack(
  worker: WorkerdProcess,
  token: string,
  attack: Attack,
  capMs: number,
  healthTimeoutMs = 1000,
): Promise<Outcome> {
  // Built before the sampler starts: writing a multi-MB body holds this process's thread, and a
  // /health answered meanwhile would be read late and counted against the Worker.
  const body = attack.text ? attack.text() : JSON.stringify(attack.body());
  const before = memoryKb(worker.pid);
  let peak = before.hwm;
  let slowestHealthMs = 0;
  let healthTimeouts = 0;
  let running = true;
  const sampler = (async () => {
    while (running) {
      peak = Math.max(peak, memoryKb(worker.pid).hwm);
      const started = performance.now();
      try {
        await (
          await fetch(`${worker.url}/health`, { signal: AbortSignal.timeout(healthTimeoutMs) })
        ).arrayBuffer();
      } catch {
        healthTimeouts++;
      }
      slowestHealthMs = Math.max(slowestHealthMs, performance.now() - started);
      await new Promise((done) => setTimeout(done, 50));
    }
  })();
  const started = performance.now();
  let status: number | string;
  let bytes = 0;
  let detail = "";
  let text = "";
  try {
    const response = await fetch(`${worker.url}${attack.path ?? "/v1/validate"}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
      body,
      signal: AbortSignal.timeout(capMs),
    });
    status = response.status;
    text = await response.text();
    bytes = text.length;
    detail = text.slice(0, 160).replace(/\s+/g, " ");
  } catch (error) {
    status = (error as Error).name === "TimeoutError" ? `>${capMs} ms` : "error";
    detail = (error as Error).message;
  }
  const ms = performance.now() - started;
  running = false;
  await sampler;
  peak = Math.max(peak, memoryKb(worker.pid).hwm);
  return {
    status,
    ms,
    bytes,
    rssBeforeMb: before.rss / 1024,
    peakMb: peak / 1024,
    slowestHealthMs,
    healthTimeouts,
    detail: `request ${(body.length / 1024).toFixed(0)} kB; ${detail}`,
    requestBytes: body.length,
    text,
  };
}
