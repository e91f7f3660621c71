import type { Context, MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import type { z } from "zod";
import type { AppBindings } from "../env";
import { ApiError } from "../errors";
import { checksJsonBody } from "../openapi/checked-by-middleware";
import { describeMalformedBody, shapeHints } from "./body-hints";
import { PARSE_AT_ONCE_CHARS, parseJsonTextInSlices } from "./json-slices";
import type { JsonSyntaxLocation } from "./json-text";

/** JSON Pointer (RFC 6901) of a zod issue path, e.g. `/items/0/name`. */
export function toJsonPointer(path: PropertyKey[]): string {
  return path.map((key) => `/${String(key).replaceAll("~", "~0").replaceAll("/", "~1")}`).join("");
}

/**
 * Validates a JSON request body with zod; put `requireJson` before it. A body that is not JSON becomes
 * MALFORMED_JSON with its line, column and a hint; one that does not match becomes BAD_REQUEST
 * listing each problem with its pointer. The result is `c.req.valid("json")`.
 *
 * Routes list `requireJson, jsonBody(schema)` in their `createRoute` middleware, with the schema
 * also in `request.body` (for the document and the handler's types): route middleware runs before
 * zod-openapi's own body check, and admission must come after validation, so that a malformed
 * request is refused before it is counted. The router then leaves zod-openapi's check of the same
 * schema out (`checksJsonBody`): the body is parsed and checked once.
 *
 * The body is parsed here rather than by Hono's validator: `c.req.json()` parses the body text again
 * on every call (Hono keeps the text, not the value), which would undo the sliced parse of a large
 * body below and parse it twice.
 */
export const jsonBody = <T extends z.ZodType>(schema: T) => {
  const check: MiddlewareHandler<
    AppBindings,
    string,
    { in: { json: z.input<T> }; out: { json: z.output<T> } }
  > = async (c, next) => {
    const value = await bodyValue(c);
    // The body schemas have no async refinements: the synchronous check skips a promise per node.
    const result = schema.safeParse(value);
    if (!result.success) throw requestShapeProblem("json", result.error, shapeHints(value));
    c.req.addValidatedData("json", result.data as object);
    await next();
  };
  return checksJsonBody(check, schema);
};

function malformedBody(text: string, location?: JsonSyntaxLocation): ApiError {
  const malformed = describeMalformedBody(text, location);
  return new ApiError("MALFORMED_JSON", malformed.detail, {
    extensions: {
      line: malformed.line,
      column: malformed.column,
      ...(malformed.hint && { hint: malformed.hint }),
    },
  });
}

/**
 * The body's JSON value, parsed once. A body of more than PARSE_AT_ONCE_CHARS is parsed in slices
 * that share the thread: JSON.parse of a multi-MB body holds the isolate's thread for 100 ms or
 * more, and every other request on it waits. A body nested deeper than any schema or document may
 * be (MAX_DEPTH, below the body's own two levels) is refused before it is built.
 */
async function bodyValue(c: Context<AppBindings>): Promise<unknown> {
  const text = await c.req.text();
  if (text.length <= PARSE_AT_ONCE_CHARS) {
    try {
      return JSON.parse(text);
    } catch {
      throw malformedBody(text);
    }
  }
  const maxDepth = c.get("config").MAX_DEPTH + BODY_LEVELS;
  const parsed = await parseJsonTextInSlices(text, maxDepth);
  if (parsed.ok) {
    // Hono's json() parses the cached text again (natively, in one stretch: about 50 ms for 3.7 MB;
    // it never reads bodyCache.json): a later reader of this request's json(), such as zod-openapi's
    // validator on a route whose body our middleware does not check, gets this value instead.
    const value = Promise.resolve(parsed.value);
    c.req.json = <J>() => value as Promise<J>;
    return parsed.value;
  }
  if ("tooDeep" in parsed) {
    throw new ApiError("LIMIT_EXCEEDED", `The request body is nested deeper than ${maxDepth} levels.`, {
      extensions: { limit: "max_depth" },
    });
  }
  throw malformedBody(text, parsed.error);
}

/** Levels of a body above the schema or document it carries (`{"documents": [ ... ]}`). */
const BODY_LEVELS = 2;

const PARTS: Record<string, string> = { json: "body", query: "query", param: "path", header: "headers" };

/** The one BAD_REQUEST for a request part that does not match its schema: each problem with its pointer. */
export function requestShapeProblem(
  target: string,
  error: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> },
  hints: string[] = [],
): ApiError {
  const shape = `The request ${PARTS[target] ?? target} does not match the expected shape.`;
  return new ApiError("BAD_REQUEST", hints.length > 0 ? `${shape} ${hints.join(" ")}` : shape, {
    extensions: {
      errors: error.issues.map((issue) => ({ pointer: toJsonPointer(issue.path), detail: issue.message })),
      ...(hints.length > 0 && { hints }),
    },
  });
}

/** A JSON media type, with or without parameters (`application/json`, `application/merge-patch+json; charset=utf-8`). */
const JSON_CONTENT_TYPE = /^application\/([\w.+-]+\+)?json\s*(;|$)/i;
/**
 * zod-openapi's rule for a route that declares a JSON body (its media-type gate, left out with its
 * body check, see `checksJsonBody`): stricter on spaces and parameters. Both must hold, as before.
 */
const DECLARED_JSON_CONTENT_TYPE = /^application\/([a-z.-]+\+)?json(;\s*[a-zA-Z0-9-]+=([^;]+))*$/i;

/** Rejects a body sent with a non-JSON Content-Type (415) instead of silently validating `{}`. */
export const requireJson = createMiddleware(async (c, next) => {
  const type = c.req.header("Content-Type") ?? "";
  if (!JSON_CONTENT_TYPE.test(type) || !DECLARED_JSON_CONTENT_TYPE.test(type)) {
    throw new ApiError(
      "UNSUPPORTED_MEDIA_TYPE",
      "Send the body as JSON with Content-Type: application/json.",
    );
  }
  await next();
});
