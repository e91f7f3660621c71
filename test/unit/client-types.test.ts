import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { CLIENT_TYPES_PATH, clientTypesText } from "../../scripts/client-types";

describe("clients/typescript types", () => {
  it("match what openapi-typescript generates from the current /openapi.json", async () => {
    const committed = await readFile(CLIENT_TYPES_PATH, "utf8");
    const current = await clientTypesText();
    // On failure: `npm run client:generate` and commit the result with the route change.
    expect(
      committed === current,
      "clients/typescript/generated/api-types.ts is stale: npm run client:generate",
    ).toBe(true);
  });
});
