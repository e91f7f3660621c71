import { zValidator } from "@hono/zod-validator";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { HTTPException } from "hono/http-exception";
import type { z } from "zod";
import type { AppBindings } from "../env";
import { ApiError } from "../errors";
import { describeMalformedBody, shapeHints } from "./body-hints";
import { PARSE_AT_ONCE_CHARS, parseJsonTextInSlices } from "./json-slices";
import type { JsonSyntaxLocation } from "./json-text";

/** JSON Pointer (RFC 6901) of a zod issue path, e.g. `/items/0/name`. */
export function toJsonPointer(path: PropertyKey[]): string {
  return path.map((key) => `/${String(key).replaceAll("~", "~0").replaceAll("/", "~1")}`).join("");
}

/**
 * Validates a JSON request body with zod; put `requireJson` before it. A body that is not JSON becomes MALFORMED_JSON (via
 * onError); one that does not match becomes BAD_REQUEST listing each problem with its pointer.
 *
 * Routes list `requireJson, jsonBody(schema)` in their `createRoute` middleware, with the schema
 * also in `request.body` (for the document and the handler's types): route middleware runs before
 * zod-openapi's own body check, and admission must come after validation, so that a malformed
 * request is refused before it is counted. zod-openapi's check of the same schema then passes.
 */
export const jsonBody = <T extends z.ZodType>(schema: T) => {
  const validator = zValidator("json", schema, (result) => {
    if (!result.success) throw requestShapeProblem("json", result.error, shapeHints(result.data));
  });
  // A body that is not JSON: its line, column and a hint (the validator only says "malformed").
  const located: typeof validator = async (c, next) => {
    await parseLargeBody(c);
    let parsed = false;
    try {
      return await validator(c, async () => {
        parsed = true;
        await next();
      });
    } catch (error) {
      if (parsed || !(error instanceof HTTPException) || error.status !== 400) throw error;
      throw malformedBody(await c.req.text());
    }
  };
  return located;
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
 * A body of more than PARSE_AT_ONCE_CHARS is parsed here, in slices that share the thread, and
 * handed to the validator through Hono's body cache: JSON.parse of a multi-MB body holds the
 * isolate's thread for 100 ms or more, and every other request on it waits. A body nested deeper
 * than any schema or document may be (MAX_DEPTH, below the body's own two levels) is refused
 * before it is built.
 */
async function parseLargeBody(c: Context): Promise<void> {
  if (Number(c.req.header("Content-Length")) <= PARSE_AT_ONCE_CHARS) return;
  const text = await c.req.text();
  if (text.length <= PARSE_AT_ONCE_CHARS) return;
  const maxDepth = (c as Context<AppBindings>).get("config").MAX_DEPTH + BODY_LEVELS;
  const parsed = await parseJsonTextInSlices(text, maxDepth);
  if (parsed.ok) {
    // Hono's json() parses its cached text again (natively, one stretch of about 50 ms for 3.7 MB,
    // once for our validator and once for zod-openapi's), whatever bodyCache.json holds: this
    // request's json() answers the value parsed in slices instead.
    const value = Promise.resolve(parsed.value);
    c.req.bodyCache.json = value;
    c.req.json = <T>() => value as Promise<T>;
    return;
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

/** Rejects a body sent with a non-JSON Content-Type (415) instead of silently validating `{}`. */
export const requireJson = createMiddleware(async (c, next) => {
  const type = c.req.header("Content-Type") ?? "";
  if (!/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(type)) {
    throw new ApiError(
      "UNSUPPORTED_MEDIA_TYPE",
      "Send the body as JSON with Content-Type: application/json.",
    );
  }
  await next();
});
