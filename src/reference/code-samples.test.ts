import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { newApp } from "../app";
import { type CodeSample, codeSamplesOf } from "./code-samples";

const dir = mkdtempSync(join(tmpdir(), "code-samples-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every sample the customer document carries, by operation. */
async function customerSamples() {
  const response = await newApp().request("/openapi.json", {}, {});
  const document = (await response.json()) as {
    paths: Record<string, Record<string, { "x-codeSamples": CodeSample[] }>>;
  };
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => ({
      name: `${method} ${path}`,
      samples: operation["x-codeSamples"],
    })),
  );
}

/** Exit status and stderr of a syntax check of `source` by the language's own tool. */
function syntaxCheck(sample: CodeSample, name: string) {
  const file = join(
    dir,
    `${name.replace(/\W+/g, "_")}.${{ Shell: "sh", JavaScript: "mjs", Python: "py" }[sample.lang]}`,
  );
  writeFileSync(file, sample.source);
  const [command, ...args] = {
    Shell: ["bash", "-n", file],
    JavaScript: [process.execPath, "--check", file],
    Python: ["python3", "-c", "import ast, sys; ast.parse(open(sys.argv[1]).read())", file],
  }[sample.lang];
  const run = spawnSync(command as string, args, { encoding: "utf8" });
  return { status: run.status, stderr: run.stderr };
}

const hasPython = spawnSync("python3", ["--version"]).status === 0;

describe("code samples", () => {
  it("every customer operation has curl, JavaScript and Python samples that parse", async () => {
    for (const { name, samples } of await customerSamples()) {
      expect(
        samples.map((sample) => sample.label),
        name,
      ).toEqual(["curl", "JavaScript", "Python"]);
      for (const sample of samples) {
        if (sample.lang === "Python" && !hasPython) continue;
        const check = syntaxCheck(sample, `${name} ${sample.label}`);
        expect(check.status, `${name} ${sample.label}:\n${sample.source}\n${check.stderr}`).toBe(0);
      }
    }
  });

  it("send the route's credential and its example body; Python literals spelled the Python way", () => {
    const [curl, javascript, python] = codeSamplesOf("post", "/v1/validate", {
      security: [{ bearerToken: [] }],
      requestBody: {
        content: { "application/json": { example: { schema: true, data: null, note: "it's" } } },
      },
    });
    expect(curl?.source).toContain('-H "Authorization: Bearer $SCHEMA_METER_TOKEN"');
    expect(curl?.source).toContain(`"note": "it'\\''s"`);
    expect(javascript?.source).toMatch(/Authorization: `Bearer \$\{process\.env\.SCHEMA_METER_TOKEN\}`/);
    expect(python?.source).toContain('"schema": True');
    expect(python?.source).toContain('"data": None');
    const signup = codeSamplesOf("post", "/v1/signup", {});
    expect(signup.every((sample) => !sample.source.includes("Authorization"))).toBe(true);
  });

  it("the curl sample's JSON survives the shell quoting", () => {
    const [curl] = codeSamplesOf("post", "/v1/validate", {
      requestBody: { content: { "application/json": { example: { text: 'it\'s "quoted"' } } } },
    });
    // Run the quoted -d argument through bash and read back what curl would send.
    const body = /-d ('(?:[^']|'\\'')*')$/.exec(curl?.source ?? "")?.[1] ?? "";
    const sent = execFileSync("bash", ["-c", `printf %s ${body}`], { encoding: "utf8" });
    expect(JSON.parse(sent)).toEqual({ text: 'it\'s "quoted"' });
  });
});
