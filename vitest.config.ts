import { defineConfig } from "vitest/config";

// Projects: "unit" (Node: pure logic beside the code, the local bridges and fakes),
// "worker" (the app inside workerd), "e2e" (the built Worker under wrangler dev).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          environment: "node",
          include: ["src/**/*.test.ts", "test/unit/**/*.test.ts", "test/bridges/**/*.test.ts", "test/fakes/**/*.test.ts"],
          testTimeout: 20_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
