import { report, spendScan } from "../../context";
import type { KeywordDefinition } from "../../keyword";

function decodeBase64(s: string): string | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) return null;
  try {
    return atob(s);
  } catch {
    return null;
  }
}

/**
 * `contentEncoding: "base64"` and `contentMediaType: "application/json"` as one check. Only draft-07
 * lets implementations assert content; 2019-09 made both annotations, so later dialects omit this.
 */
export const contentEncoding: KeywordDefinition = {
  keyword: "contentEncoding",
  alsoFor: ["contentMediaType"],
  instance: "string",
  drafts: [7],
  compile(_value, schema, compiler) {
    if (typeof schema.contentEncoding !== "string" && typeof schema.contentMediaType !== "string")
      return null;
    const base64 = schema.contentEncoding === "base64";
    const json = schema.contentMediaType === "application/json";
    if (!base64 && !json) return null;
    const location = compiler.location(json ? "contentMediaType" : "contentEncoding");
    return (instance, context) => {
      spendScan(context, (instance as string).length);
      const decoded = base64 ? decodeBase64(instance as string) : (instance as string);
      let ok = decoded !== null;
      if (ok && json) {
        try {
          JSON.parse(decoded as string);
        } catch {
          ok = false;
        }
      }
      if (!ok && context.full)
        report(context, location, base64 && decoded === null ? "must be valid base64" : "must be valid JSON");
      return ok;
    };
  },
};
