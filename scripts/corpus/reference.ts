/**
 * The reference validators of the real-world corpus: ajv (the class for the schema's draft; strict off,
 * all errors, ajv-formats) and @cfworker/json-schema. Both get the folder's bundled `refs/` documents
 * under the URLs of its `refs.json`. Used by fetch.ts (to keep only generated documents whose intent
 * both references confirm) and by reference-verdicts.ts (the committed verdicts.json).
 */
import { type Schema as CfSchema, Validator as CfValidator } from "@cfworker/json-schema";
import type { AnySchema } from "ajv";
import Ajv from "ajv";
import Ajv2019 from "ajv/dist/2019";
import Ajv2020 from "ajv/dist/2020";
import draft06 from "ajv/dist/refs/json-schema-draft-06.json";
import AjvDraft04 from "ajv-draft-04";
import addFormats from "ajv-formats";

export type Draft = "draft-04" | "draft-06" | "draft-07" | "2019-09" | "2020-12";
export type RefVerdict = "valid" | "invalid" | "error";

export function draftOf(schema: unknown): Draft {
  const uri = typeof schema === "object" && schema !== null ? (schema as { $schema?: unknown }).$schema : "";
  const s = typeof uri === "string" ? uri : "";
  if (s.includes("draft-04")) return "draft-04";
  if (s.includes("draft-06")) return "draft-06";
  if (s.includes("2019-09")) return "2019-09";
  if (s.includes("2020-12")) return "2020-12";
  // draft-07, and no $schema at all (our API defaults to 2020-12; ajv's default class is draft-07).
  return s ? "draft-07" : "2020-12";
}

/** Compiled once per schema; `check` gives the verdict of one document. */
export interface Reference {
  ajv(document: unknown): RefVerdict;
  cfworker(document: unknown): RefVerdict;
}

function strip(schema: unknown): AnySchema {
  return schema as AnySchema;
}

/** The last schema ajv could not compile, for the scripts' logs. */
export let lastAjvError = "";

export function reference(
  schema: unknown,
  refs: Record<string, unknown>,
  draft = draftOf(schema),
): Reference {
  let ajvCheck: (d: unknown) => RefVerdict = () => "error";
  // With its meta-schemas first; again without them where the schema is (or embeds) one of them,
  // which ajv refuses as a second schema under the same URI.
  for (const meta of [true, false]) {
    try {
      const options = { strict: false, allErrors: true, validateSchema: false, meta } as const;
      const ajv =
        draft === "draft-04"
          ? new AjvDraft04(options)
          : draft === "2019-09"
            ? new Ajv2019(options)
            : draft === "2020-12"
              ? new Ajv2020(options)
              : new Ajv(options);
      if (draft === "draft-06" && meta) ajv.addMetaSchema(draft06);
      addFormats(ajv);
      for (const [url, doc] of Object.entries(refs)) {
        if (!ajv.getSchema(url)) ajv.addSchema(strip(doc), url);
      }
      const validate = ajv.compile(strip(schema));
      ajvCheck = (d) => (validate(d) ? "valid" : "invalid");
      break;
    } catch (error) {
      lastAjvError = String(error);
    }
  }
  let cfCheck: (d: unknown) => RefVerdict;
  try {
    const cfDraft = draft === "draft-04" ? "4" : draft === "draft-06" || draft === "draft-07" ? "7" : draft;
    const validator = new CfValidator(schema as CfSchema, cfDraft, false);
    for (const [url, doc] of Object.entries(refs)) validator.addSchema(doc as CfSchema, url);
    cfCheck = (d) => {
      try {
        return validator.validate(d).valid ? "valid" : "invalid";
      } catch {
        return "error";
      }
    };
  } catch {
    cfCheck = () => "error";
  }
  return { ajv: ajvCheck, cfworker: cfCheck };
}
