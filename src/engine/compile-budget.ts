import { RETAINED_BYTES_PER_DOCUMENT_BYTE, RETAINED_BYTES_PER_NODE } from "./compiled-schema";
import { ValidationLimitError } from "./errors";

// Compiling is work a request causes too, so it is counted in the units of the cost model and its
// memory is bounded by the compiled-schema weight the cache already uses (compiled-schema.ts).
// Measured on the corpus' largest schemas (node 20, 2-core dev machine, warm; scripts/probe-compile.ts):
// vega-lite (1.9 MB, 8,368 subschemas) 130-190 ms, biome (0.98 MB, 12,633) 150-230 ms, octokit
// webhooks (0.63 MB, 6,163) 85-145 ms: 15-20 us per subschema, where a validation unit is about
// 0.25 us (MAX_COMPILE_STEPS' 2,000,000 is about 0.5 s). The metaschema check is cheap (biome:
// 237,000 units, 11 ms) and spends its actual units; each pattern spends its CompiledPattern.compileUnits.

/**
 * The most the metaschema check may spend: it is one stretch of synchronous work (a validation
 * cannot pause), so it is held to about what one document's validation may do (MAX_DOCUMENT_STEPS,
 * 200,000) and a little more: biome's needs 237,000; a schema whose check needs more is refused
 * (`cpu_budget`) after about 30 ms of CPU here, which is less than parsing its 3.7 MB took.
 */
export const METASCHEMA_CHECK_MAX_UNITS = 300_000;

/** Units one compiled subschema costs: its measured CPU (about 20 us) in validation units. */
export const COMPILE_UNITS_PER_SUBSCHEMA = 80;
/** Units per byte of JSON text of the compilation's documents (parsing, scanning, hashing): 1 per 64. */
export const COMPILE_BYTES_PER_UNIT = 64;

/** The work and memory one compilation may use; exceeding either throws ValidationLimitError. */
export class CompileBudget {
  private spent = 0;

  constructor(
    /** Work units: the metaschema check's, COMPILE_UNITS_PER_SUBSCHEMA a subschema, bytes / 64. */
    readonly maxSteps: number,
    /** Compiled weight (CompiledSchema.retainedBytes' model) the compilation may reach. */
    readonly maxRetainedBytes: number,
  ) {}

  /** The units left, for the metaschema check. */
  get remaining(): number {
    return Math.max(0, this.maxSteps - this.spent);
  }

  /** The units spent so far (the build pauses by them). */
  get used(): number {
    return this.spent;
  }

  spend(units: number): void {
    this.afford(units);
    this.spent += units;
  }

  /** Throws what spending `units` more would, without spending them. */
  afford(units: number): void {
    if (this.spent + units > this.maxSteps) {
      throw new ValidationLimitError(
        "budget",
        `compiling the schema needs more than ${this.maxSteps} work units`,
        this.maxSteps,
      );
    }
  }

  /** Checks the weight of `nodes` compiled subschemas over documents of `documentBytes`. */
  checkWeight(nodes: number, documentBytes: number): void {
    const weight = nodes * RETAINED_BYTES_PER_NODE + documentBytes * RETAINED_BYTES_PER_DOCUMENT_BYTE;
    if (weight > this.maxRetainedBytes) {
      throw new ValidationLimitError(
        "compiled_schema_bytes",
        `the compiled schema would take more than ${this.maxRetainedBytes} bytes`,
        this.maxRetainedBytes,
      );
    }
  }
}
