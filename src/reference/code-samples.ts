/**
 * `x-codeSamples` (the OpenAPI extension Scalar and Redoc show) for each operation: curl, JavaScript
 * (fetch, Node 18+ or a browser) and Python (standard library only), with the credential the route
 * takes and the request body's documented example, so every sample runs as written.
 */

export interface CodeSample {
  lang: "Shell" | "JavaScript" | "Python";
  label: string;
  source: string;
}

interface SampleOperation {
  security?: Record<string, string[]>[];
  requestBody?: { content?: Record<string, { example?: unknown }> };
}

/** The environment variable each security scheme's credential is read from in the samples. */
const CREDENTIAL_VARIABLES: Record<string, string> = {
  apiKey: "SCHEMA_METER_API_KEY",
  bearerToken: "SCHEMA_METER_TOKEN",
  adminToken: "SCHEMA_METER_ADMIN_TOKEN",
};

const indent = (text: string, spaces: number) => text.replaceAll("\n", `\n${" ".repeat(spaces)}`);

export function codeSamplesOf(method: string, path: string, operation: SampleOperation): CodeSample[] {
  const verb = method.toUpperCase();
  const scheme = Object.keys(operation.security?.[0] ?? {})[0];
  const credential = scheme ? (CREDENTIAL_VARIABLES[scheme] ?? "SCHEMA_METER_TOKEN") : undefined;
  const content = operation.requestBody?.content?.["application/json"];
  const body = content ? JSON.stringify(content.example ?? {}, null, 2) : undefined;
  // Path parameters as placeholders the reader replaces: /v1/keys/{id} → /v1/keys/ID.
  const url = path.replace(/\{([^}]+)\}/g, (_, name: string) => name.toUpperCase());

  const curl = [
    `curl -X ${verb} "$SCHEMA_METER_URL${url}"`,
    ...(credential ? [`  -H "Authorization: Bearer $${credential}"`] : []),
    ...(body ? ['  -H "Content-Type: application/json"', `  -d '${body.replaceAll("'", "'\\''")}'`] : []),
  ].join(" \\\n");

  const jsHeaders = [
    ...(credential ? [`Authorization: \`Bearer \${process.env.${credential}}\``] : []),
    ...(body ? ['"Content-Type": "application/json"'] : []),
  ];
  const javascript = [
    `const response = await fetch(\`\${process.env.SCHEMA_METER_URL}${url}\`, {`,
    `  method: "${verb}",`,
    ...(jsHeaders.length ? [`  headers: { ${jsHeaders.join(", ")} },`] : []),
    ...(body ? [`  body: JSON.stringify(${indent(body, 2)}),`] : []),
    "});",
    "// Errors are RFC 9457 problem+json: branch on `code`, show `detail`, quote `request_id`.",
    "console.log(response.status, await response.json());",
  ].join("\n");

  const pyHeaders = [
    ...(credential ? [`"Authorization": "Bearer " + os.environ["${credential}"]`] : []),
    ...(body ? ['"Content-Type": "application/json"'] : []),
  ];
  const python = [
    "import json, os, urllib.error, urllib.request",
    "",
    ...(body ? [`body = ${pythonLiteral(body)}`] : []),
    "request = urllib.request.Request(",
    `    os.environ["SCHEMA_METER_URL"] + "${url}",`,
    `    method="${verb}",`,
    `    headers={${pyHeaders.join(", ")}},`,
    ...(body ? ["    data=json.dumps(body).encode(),"] : []),
    ")",
    "try:",
    "    with urllib.request.urlopen(request, timeout=10) as response:",
    "        print(response.status, json.load(response))",
    "except urllib.error.HTTPError as error:  # problem+json: code, detail, request_id",
    "    print(error.code, json.load(error))",
  ].join("\n");

  return [
    { lang: "Shell", label: "curl", source: curl },
    { lang: "JavaScript", label: "JavaScript", source: javascript },
    { lang: "Python", label: "Python", source: python },
  ];
}

/** JSON text as a Python literal: the same text, with true/false/null spelled the Python way. */
function pythonLiteral(json: string): string {
  return json.replace(/("(?:[^"\\]|\\.)*")|\b(true|false|null)\b/g, (match, string?: string) =>
    string
      ? match
      : (({ true: "True", false: "False", null: "None" } as Record<string, string>)[match] ?? match),
  );
}
