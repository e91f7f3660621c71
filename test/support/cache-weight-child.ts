/**
 * Run by test/unit/schema-cache-weight.test.ts as `node --expose-gc --import tsx`: fills a
 * validation service's compiled-schema cache with distinct schemas of the heaviest shapes measured
 * (per node and per JSON byte) and prints, as one JSON line, the heap retained after a full GC
 * next to the cache's configured bytes.
 */
import { createValidationService, DEFAULT_VALIDATION_LIMITS } from "../../src/validation/service";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc");
const maxBytes = Number(process.argv[2] ?? 32 * 1024 * 1024);
const repeat = <T>(count: number, make: (i: number) => T): T[] =>
  Array.from({ length: count }, (_, i) => make(i));

const SHAPES: Array<(k: number) => unknown> = [
  (k) => ({ items: { anyOf: repeat(2000, (i) => ({ const: i + k })) } }),
  (k) => ({
    type: "object",
    properties: Object.fromEntries(
      repeat(1000, (i) => [`p${i}_${k}`, { type: "string", minLength: 1, maxLength: 9 }]),
    ),
  }),
  (k) => ({ enum: repeat(10_000, (i) => `v${i}_${k}`) }),
  (k) => ({
    $defs: Object.fromEntries(
      repeat(500, (i) => [`d${i}`, { $ref: `#/$defs/d${(i + 1) % 500}`, title: `t${k}` }]),
    ),
  }),
];

const service = createValidationService({
  fetchSchema: async () => {
    throw new Error("no remote schemas here");
  },
  limits: DEFAULT_VALIDATION_LIMITS,
  cache: { maxEntries: 100_000, maxBytes },
});
const request = (schema: unknown) => ({
  schema: { schema },
  documents: [{ data: 1 }],
  output: "flag" as const,
  formatAssertion: false,
  enrich: false,
});

await service.validate(request({ type: "number" }));
gc();
gc();
const before = process.memoryUsage().heapUsed;
for (let k = 0; k < 40; k++) for (const shape of SHAPES) await service.validate(request(shape(k)));
gc();
gc();
const retained = process.memoryUsage().heapUsed - before;
console.log(JSON.stringify({ retained, maxBytes }));
