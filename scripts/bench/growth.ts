/**
 * How validation cost grows (issue 22 item 7): CPU per call of our engine next to ajv (compiled with
 * new Function, which Workers forbid) and @cfworker/json-schema (eval-free), in this Node process,
 * against
 *  - document size: an array of order-like records, 1 kB → 1 MB, valid, first-error output;
 *  - schema size: an object schema of 1 kB → 1 MB of property subschemas, a document filling every
 *    property; "fresh" = compile a schema not seen before + its first validation (a new isolate, or a
 *    distinct inline schema), "cached" = validation with the compiled schema kept;
 *  - batch size: 1 → 1,000 records validated one by one in one call (the validation share of a
 *    batch call; the HTTP route adds parsing and the response);
 *  - error count: 1,000 records of which 1 → 1,000 are invalid, every error reported (our `basic`
 *    output, ajv `allErrors`, @cfworker without short-circuit).
 * CPU is process.cpuUsage() (user + system) around the calls, so time this process spends
 * descheduled on a busy machine does not count; each cell is the median of interleaved rounds.
 * Documents and schemas are generated here (deterministic), not read from fixtures.
 */
import { Validator as CfValidator } from "@cfworker/json-schema";
import { Ajv2020 } from "ajv/dist/2020.js";
import { compileSchema } from "../../src/engine";

export const ENGINES = ["schema-meter", "ajv", "@cfworker/json-schema"] as const;
export type EngineName = (typeof ENGINES)[number];

export interface GrowthPoint {
  /** The x value: bytes, documents or errors. */
  x: number;
  /** CPU µs per call. */
  us: number;
}
export interface GrowthSeries {
  name: string;
  points: GrowthPoint[];
}
export interface GrowthPanel {
  title: string;
  xLabel: string;
  series: GrowthSeries[];
}

const RECORD_SCHEMA = {
  type: "object",
  required: ["id", "name", "quantity", "price", "tags", "address", "status"],
  additionalProperties: false,
  properties: {
    id: { type: "integer", minimum: 1 },
    name: { type: "string", minLength: 1, maxLength: 200 },
    quantity: { type: "integer", minimum: 0, maximum: 1000 },
    price: { type: "number", exclusiveMinimum: 0 },
    tags: { type: "array", items: { type: "string", maxLength: 32 }, maxItems: 20, uniqueItems: true },
    address: {
      type: "object",
      required: ["street", "city", "zip"],
      properties: {
        street: { type: "string" },
        city: { type: "string" },
        zip: { type: "string", minLength: 4, maxLength: 10 },
      },
    },
    status: { enum: ["new", "paid", "shipped", "cancelled"] },
  },
};
const ARRAY_SCHEMA = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "array",
  items: RECORD_SCHEMA,
};

function record(i: number, valid = true) {
  return {
    id: i + 1,
    name: `Customer number ${i}`,
    quantity: valid ? i % 1000 : -1,
    price: 1 + (i % 97) / 4,
    tags: ["alpha", "beta", `t${i % 13}`],
    address: { street: `${i} Main Street`, city: "Springfield", zip: `${10000 + (i % 89999)}` },
    status: ["new", "paid", "shipped", "cancelled"][i % 4],
  };
}
const RECORD_BYTES = JSON.stringify(record(500)).length;
const recordsOfSize = (bytes: number) =>
  Array.from({ length: Math.max(1, Math.round(bytes / (RECORD_BYTES + 1))) }, (_, i) => record(i));

/**
 * An object schema of about `bytes` of property subschemas (each documented, as real schemas are:
 * about 60 bytes per subschema, near the real-world corpus' large schemas), and a document filling
 * every property.
 */
function wideSchema(bytes: number, salt: number) {
  const property = (i: number) => ({
    description: `Property ${i} of the generated growth schema: an object with a required integer a, a short string b and an enumerated c.`,
    type: "object",
    required: ["a"],
    properties: {
      a: { type: "integer", minimum: 0 },
      b: { type: "string", maxLength: 20 },
      c: { enum: ["x", "y", i % 7] },
    },
  });
  const one = JSON.stringify(property(0)).length + 12;
  const count = Math.max(1, Math.round(bytes / one));
  const properties: Record<string, unknown> = {};
  const document: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) {
    properties[`p${i}`] = property(i);
    document[`p${i}`] = { a: i, b: "value", c: "x" };
  }
  return {
    schema: {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      $comment: `growth ${salt}`,
      type: "object",
      properties,
    },
    document,
  };
}

type Call = () => unknown | Promise<unknown>;
const cpuUs = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

/** CPU µs per call: calls until `ms` of CPU have gone (at least `minCalls`); `prepare` runs untimed. */
async function perCall(make: () => Call, ms: number, minCalls = 3): Promise<number> {
  let spent = 0;
  let calls = 0;
  while (calls < minCalls || spent < ms * 1000) {
    const call = make();
    const start = cpuUs();
    const result = call();
    if (result instanceof Promise) await result;
    spent += cpuUs() - start;
    calls++;
    if (calls > 1_000_000) break;
  }
  return spent / calls;
}

/** For fast calls: run `inner` times per timed call so the clock's resolution does not matter. */
const repeated =
  (fn: () => unknown, inner: number): Call =>
  () => {
    for (let i = 0; i < inner; i++) fn();
  };

interface Cell {
  series: string;
  x: number;
  make: () => Call;
  /** Calls per timed call (the figure is divided by it). */
  inner: number;
}

async function measureCells(cells: Cell[], ms: number, rounds: number): Promise<Map<string, GrowthPoint[]>> {
  const samples = cells.map(() => [] as number[]);
  const failed = new Set<number>();
  for (const [k, cell] of cells.entries()) {
    try {
      await perCall(cell.make, Math.min(ms, 20), 1); // warm-up
    } catch (error) {
      failed.add(k); // reported as n/a, with the reason
      console.warn(`[growth] ${cell.series} at ${cell.x}: ${(error as Error).message}`);
    }
  }
  for (let r = 0; r < rounds; r++) {
    for (const [k, cell] of cells.entries()) {
      if (!failed.has(k)) samples[k]?.push((await perCall(cell.make, ms)) / cell.inner);
    }
  }
  const bySeries = new Map<string, GrowthPoint[]>();
  cells.forEach((cell, k) => {
    const sorted = [...(samples[k] ?? [])].sort((a, b) => a - b);
    const points = bySeries.get(cell.series) ?? [];
    points.push({ x: cell.x, us: sorted[Math.floor(sorted.length / 2)] ?? Number.NaN });
    bySeries.set(cell.series, points);
  });
  return bySeries;
}

const toPanel = (title: string, xLabel: string, bySeries: Map<string, GrowthPoint[]>): GrowthPanel => ({
  title,
  xLabel,
  series: [...bySeries].map(([name, points]) => ({ name, points })),
});

const innerFor = (bytes: number) => Math.max(1, Math.round(20_000 / bytes));

export const SIZES = [1_000, 10_000, 100_000, 1_000_000];
export const COUNTS = [1, 10, 100, 1_000];

export async function measureGrowth(options: { ms: number; rounds: number; log?: (line: string) => void }) {
  const { ms, rounds } = options;
  const log = options.log ?? (() => {});
  const ajvFor = (allErrors: boolean) => new Ajv2020({ strict: false, validateFormats: false, allErrors });
  const ours = await compileSchema(ARRAY_SCHEMA);
  const oursRecord = await compileSchema({ $schema: ARRAY_SCHEMA.$schema, ...RECORD_SCHEMA });
  const ajvArray = ajvFor(false).compile(ARRAY_SCHEMA);
  const ajvArrayAll = ajvFor(true).compile(ARRAY_SCHEMA);
  const ajvRecord = ajvFor(false).compile(RECORD_SCHEMA);
  const cfArray = new CfValidator(ARRAY_SCHEMA as never, "2020-12", true);
  const cfArrayAll = new CfValidator(ARRAY_SCHEMA as never, "2020-12", false);
  const cfRecord = new CfValidator(RECORD_SCHEMA as never, "2020-12", true);

  const expectValid = (name: string, valid: boolean, want: boolean) => {
    if (valid !== want) throw new Error(`growth bench: ${name} says valid=${valid}, expected ${want}`);
  };

  log("document size");
  const docCells: Cell[] = [];
  for (const bytes of SIZES) {
    const doc = recordsOfSize(bytes);
    expectValid("ours", ours.validate(doc, { output: "flag" }).valid, true);
    expectValid("ajv", ajvArray(doc) as boolean, true);
    expectValid("cfworker", cfArray.validate(doc).valid, true);
    const inner = innerFor(bytes);
    docCells.push(
      {
        series: "schema-meter",
        x: bytes,
        inner,
        make: () => repeated(() => ours.validate(doc, { output: "flag" }), inner),
      },
      { series: "ajv", x: bytes, inner, make: () => repeated(() => ajvArray(doc), inner) },
      {
        series: "@cfworker/json-schema",
        x: bytes,
        inner,
        make: () => repeated(() => cfArray.validate(doc), inner),
      },
    );
  }
  const documentPanel = toPanel(
    "Document size (valid, first error)",
    "document bytes",
    await measureCells(docCells, ms, rounds),
  );

  log("schema size");
  const schemaCells: Cell[] = [];
  const ajvFresh = ajvFor(false);
  let salt = 0;
  for (const bytes of SIZES) {
    const fixed = wideSchema(bytes, -1);
    // A validator that cannot compile this schema (ajv's code generator overflows the stack on the
    // widest one) gets n/a in its cells, with the reason printed.
    const attempt = async <T>(name: string, build: () => T | Promise<T>): Promise<T | undefined> => {
      try {
        return await build();
      } catch (error) {
        console.warn(`[growth] ${name} cannot compile the ${bytes}-byte schema: ${(error as Error).message}`);
        return undefined;
      }
    };
    const needs = <T>(value: T | undefined): T => {
      if (value === undefined) throw new Error("did not compile");
      return value;
    };
    const oursCached = await attempt("schema-meter", () => compileSchema(fixed.schema));
    const ajvCached = await attempt("ajv", () => ajvFor(false).compile(fixed.schema));
    const cfCached = await attempt(
      "@cfworker",
      () => new CfValidator(fixed.schema as never, "2020-12", true),
    );
    if (oursCached) expectValid("ours", oursCached.validate(fixed.document, { output: "flag" }).valid, true);
    if (ajvCached) expectValid("ajv", ajvCached(fixed.document) as boolean, true);
    if (cfCached) expectValid("cfworker", cfCached.validate(fixed.document).valid, true);
    const inner = innerFor(bytes);
    // Fresh: a new schema object (new $comment) each call, built before the clock starts.
    const fresh = () => wideSchema(bytes, salt++).schema;
    schemaCells.push(
      {
        series: "schema-meter fresh",
        x: bytes,
        inner: 1,
        make: () => {
          const schema = fresh();
          return async () => (await compileSchema(schema)).validate(fixed.document, { output: "flag" });
        },
      },
      {
        // One Ajv instance (its own metaschema compiled once), each schema a new object, so
        // compiled afresh, and removed after its call so the instance's cache does not grow.
        series: "ajv fresh",
        x: bytes,
        inner: 1,
        make: () => {
          const schema = fresh();
          return () => {
            ajvFresh.compile(schema)(fixed.document);
            ajvFresh.removeSchema(schema);
          };
        },
      },
      {
        series: "@cfworker fresh",
        x: bytes,
        inner: 1,
        make: () => {
          const schema = fresh();
          return () => new CfValidator(schema as never, "2020-12", true).validate(fixed.document);
        },
      },
      {
        series: "schema-meter cached",
        x: bytes,
        inner,
        make: () => repeated(() => needs(oursCached).validate(fixed.document, { output: "flag" }), inner),
      },
      {
        series: "ajv cached",
        x: bytes,
        inner,
        make: () => repeated(() => needs(ajvCached)(fixed.document), inner),
      },
      {
        series: "@cfworker cached",
        x: bytes,
        inner,
        make: () => repeated(() => needs(cfCached).validate(fixed.document), inner),
      },
    );
  }
  const schemaPanel = toPanel(
    "Schema size (fresh compile + first validation, and cached)",
    "schema bytes",
    await measureCells(schemaCells, ms, rounds),
  );

  log("batch size");
  const batchCells: Cell[] = [];
  for (const count of COUNTS) {
    const docs = Array.from({ length: count }, (_, i) => record(i));
    const inner = Math.max(1, Math.round(100 / count));
    const each = (fn: (doc: unknown) => unknown) => () => {
      for (const doc of docs) fn(doc);
    };
    batchCells.push(
      {
        series: "schema-meter",
        x: count,
        inner,
        make: () =>
          repeated(
            each((d) => oursRecord.validate(d, { output: "flag" })),
            inner,
          ),
      },
      {
        series: "ajv",
        x: count,
        inner,
        make: () =>
          repeated(
            each((d) => ajvRecord(d)),
            inner,
          ),
      },
      {
        series: "@cfworker/json-schema",
        x: count,
        inner,
        make: () =>
          repeated(
            each((d) => cfRecord.validate(d)),
            inner,
          ),
      },
    );
  }
  const batchPanel = toPanel(
    "Batch size (records validated in one call)",
    "documents",
    await measureCells(batchCells, ms, rounds),
  );

  log("error count");
  const errorCells: Cell[] = [];
  for (const errors of COUNTS) {
    // 1,000 records; every (1000/errors)-th is invalid (one error each).
    const step = 1000 / errors;
    const doc = Array.from({ length: 1000 }, (_, i) => record(i, i % step !== 0));
    // maxErrors above the count: every error is reported, as ajv's allErrors and @cfworker do.
    const all = { output: "basic", maxErrors: 10_000 } as const;
    const result = ours.validate(doc, all);
    expectValid("ours", result.valid, false);
    if ((result.errors?.length ?? 0) < errors)
      throw new Error(`growth bench: ${result.errors?.length ?? 0} errors reported, ${errors} expected`);
    errorCells.push(
      { series: "schema-meter", x: errors, inner: 1, make: () => () => ours.validate(doc, all) },
      { series: "ajv", x: errors, inner: 1, make: () => () => ajvArrayAll(doc) },
      { series: "@cfworker/json-schema", x: errors, inner: 1, make: () => () => cfArrayAll.validate(doc) },
    );
  }
  const errorPanel = toPanel(
    "Error count (1,000 records, all errors reported)",
    "invalid records",
    await measureCells(errorCells, ms, rounds),
  );

  return [documentPanel, schemaPanel, batchPanel, errorPanel];
}

const compact = (n: number) =>
  n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1_000 ? `${n / 1_000}k` : String(n);
const microseconds = (us: number) =>
  !Number.isFinite(us)
    ? "n/a"
    : us >= 1000
      ? `${(us / 1000).toFixed(us >= 10_000 ? 0 : 1)} ms`
      : `${us.toFixed(us >= 10 ? 0 : 1)} µs`;

/** The panels as markdown tables (one row per x, one column per series) plus ours/peer ratios. */
export function growthTables(panels: GrowthPanel[]): string {
  const lines: string[] = [];
  for (const panel of panels) {
    lines.push(`${panel.title}: CPU per call`, "");
    lines.push(`| ${panel.xLabel} | ${panel.series.map((s) => s.name).join(" | ")} |`);
    lines.push(`|---:|${panel.series.map(() => "---:").join("|")}|`);
    const xs = panel.series[0]?.points.map((p) => p.x) ?? [];
    for (const [i, x] of xs.entries()) {
      lines.push(
        `| ${compact(x)} | ${panel.series.map((s) => microseconds(s.points[i]?.us ?? Number.NaN)).join(" | ")} |`,
      );
    }
    lines.push("");
  }
  return lines.join("\n");
}
