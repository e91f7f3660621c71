import { SchemaError } from "./errors";
import { isObject } from "./json";
import {
  BUNDLED,
  type Dialect,
  dialectFromMetaschema,
  knownDraft,
  normalizeId,
  type Registry,
  standardDialect,
} from "./registry";
import { hasScheme } from "./uri";

/** Loads the documents one compilation needs: bundled metaschemas, remotes, custom metaschemas. */
export class Loader {
  private readonly fetched = new Map<string, Promise<unknown>>();
  constructor(
    readonly reg: Registry,
    private readonly resolveRemote: ((uri: string) => Promise<unknown>) | undefined,
  ) {}

  /** Fetches a document (bundled metaschema or remote). Undefined when unavailable. */
  fetchDoc(uri: string): Promise<unknown> {
    const key = normalizeId(uri);
    let p = this.fetched.get(key);
    if (!p) {
      const bundled = BUNDLED.get(key);
      if (bundled !== undefined) p = Promise.resolve(bundled);
      else if (!this.resolveRemote || !hasScheme(key)) p = Promise.resolve(undefined);
      else {
        const resolve = this.resolveRemote;
        p = (async () => {
          try {
            return await resolve(key);
          } catch (e) {
            this.reg.failures.set(key, e instanceof Error ? e.message : String(e));
            return undefined;
          }
        })();
      }
      this.fetched.set(key, p);
    }
    return p;
  }

  /** The dialect a `$schema` URI names; loads custom metaschemas. */
  async dialect(schemaUri: string): Promise<Dialect> {
    const d = knownDraft(schemaUri);
    if (d) return standardDialect(d);
    const key = normalizeId(schemaUri);
    const cached = this.reg.dialects.get(key);
    if (cached) return cached;
    const meta = await this.fetchDoc(key);
    if (!isObject(meta)) throw new SchemaError("unsupported", `unknown $schema ${JSON.stringify(schemaUri)}`);
    const dialect = dialectFromMetaschema(key, meta);
    this.reg.dialects.set(key, dialect);
    return dialect;
  }

  async addDocument(root: unknown, uri: string, fallback: Dialect): Promise<void> {
    const dialect =
      isObject(root) && typeof root.$schema === "string" ? await this.dialect(root.$schema) : fallback;
    this.reg.addDocument(root, uri, dialect);
  }

  /** Loads every document referenced (transitively). */
  async loadReferenced(fallback: Dialect): Promise<void> {
    const tried = new Set<string>();
    for (;;) {
      const pending = [...this.reg.refBases].filter((u) => !this.reg.resources.has(u) && !tried.has(u));
      if (pending.length === 0) return;
      for (const u of pending) tried.add(u);
      const docs = await Promise.all(pending.map((u) => this.fetchDoc(u)));
      for (let i = 0; i < pending.length; i++) {
        const doc = docs[i];
        const uri = pending[i] as string;
        if (doc !== undefined && !this.reg.resources.has(uri)) await this.addDocument(doc, uri, fallback);
      }
    }
  }
}
