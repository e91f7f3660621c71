import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const CHILD = resolve(import.meta.dirname, "../support/cache-weight-child.ts");
/** Retained heap may exceed the configured cache bytes by this factor (the inline-key memo included). */
const FACTOR = 1.5;

describe("the compiled-schema cache's weight", () => {
  it(`keeps the heap it retains under ${FACTOR} x its configured bytes, filled with the worst shapes`, async () => {
    const maxBytes = 16 * 1024 * 1024;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--expose-gc", "--import", "tsx", CHILD, String(maxBytes)],
      { cwd: resolve(import.meta.dirname, "../.."), maxBuffer: 1024 * 1024 },
    );
    const { retained } = JSON.parse(stdout.trim().split("\n").at(-1) as string) as { retained: number };
    expect(retained).toBeLessThan(maxBytes * FACTOR);
    // The cache fills: a weight far above the real heap would leave it mostly empty.
    expect(retained).toBeGreaterThan(maxBytes * 0.3);
  }, 60_000);
});
