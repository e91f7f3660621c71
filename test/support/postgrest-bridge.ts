/**
 * A PostgREST-RPC-compatible bridge for local runs and tests (dev tooling; production talks to
 * Supabase's real PostgREST). It speaks what PostgREST 12 speaks for `POST|GET|HEAD
 * /rest/v1/rpc/<function>`, so the unchanged `supabase.rpc()` client reaches a real Postgres:
 * JWT auth and role switching, one transaction per request with PostgREST's request settings,
 * overload resolution by argument names, PostgREST's result shapes, and its error bodies and
 * SQLSTATE-to-HTTP-status table. Table endpoints (`/rest/v1/<table>`) are not served: all of this
 * project's SQL is reached through functions.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type JWTPayload, errors as joseErrors, jwtVerify } from "jose";
import pg from "pg";

export interface PostgrestBridgeOptions {
  /** The database whose `public` functions are exposed. */
  databaseUrl: string;
  /** HS256 secret the JWTs are signed with (Supabase's JWT secret). */
  jwtSecret: string;
  /** Default 0: a free port chosen by the OS. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** `statement_timeout` of every request; a role's own setting (ALTER ROLE ... SET) wins. Default 8000. */
  statementTimeoutMs?: number;
  /** Role for requests without a JWT, and for JWTs without a `role` claim. Default `anon`. */
  anonRole?: string;
  /** Larger request bodies get 413. Default 1 MiB. */
  maxBodyBytes?: number;
  /** How long to wait for a database connection before answering 503. Default 1000 ms. */
  connectTimeoutMs?: number;
  /** Connections in the pool. Default 10. */
  poolSize?: number;
}

export interface PostgrestBridge {
  /** Base URL, to be used as SUPABASE_URL (the client appends `/rest/v1`). */
  url: string;
  /** HTTP requests received so far, whatever their outcome. */
  requestCount(): number;
  close(): Promise<void>;
}

const EXPOSED_SCHEMA = "public";
/** Supabase's db-extra-search-path. */
const SEARCH_PATH = '"public", "extensions"';
/** PostgREST's leeway for exp/nbf/iat. */
const JWT_CLOCK_SKEW_S = 30;
const RPC_PATH = /^\/rest\/v1\/rpc\/([^/]+)\/?$/;

export async function startPostgrestBridge(opts: PostgrestBridgeOptions): Promise<PostgrestBridge> {
  const config: BridgeConfig = {
    secret: new TextEncoder().encode(opts.jwtSecret),
    statementTimeoutMs: opts.statementTimeoutMs ?? 8000,
    anonRole: opts.anonRole ?? "anon",
    maxBodyBytes: opts.maxBodyBytes ?? 1024 * 1024,
  };
  const pool = new pg.Pool({
    connectionString: opts.databaseUrl,
    max: opts.poolSize ?? 10,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 1000,
    idleTimeoutMillis: 10_000,
    application_name: "postgrest-bridge",
  });
  // Idle connections die with the server ("terminating connection due to administrator command");
  // the pool drops them, and the next request reconnects. Without a listener this would crash.
  pool.on("error", () => {});

  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    handleRequest(req, res, pool, config).catch((error: unknown) => {
      // Last resort: a bug here must cost one request, not the bridge.
      const apiError = new ApiError(500, "PGRSTX00", "Internal bridge error", describe(error));
      if (!res.headersSent) sendError(res, apiError);
      else res.destroy();
    });
  });
  server.on("clientError", (_error, socket) => socket.destroy());

  await listen(server, opts.port ?? 0, opts.host ?? "127.0.0.1");
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    requestCount: () => requests,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await pool.end().catch(() => {});
    },
  };
}

interface BridgeConfig {
  secret: Uint8Array;
  statementTimeoutMs: number;
  anonRole: string;
  maxBodyBytes: number;
}

// ---------------------------------------------------------------------------------------------
// Request handling

async function handleRequest(
  req: IncomingMessage,
  res: ServerResponse,
  pool: pg.Pool,
  config: BridgeConfig,
): Promise<void> {
  try {
    const url = new URL(req.url ?? "/", "http://bridge.local");
    const match = RPC_PATH.exec(url.pathname);
    if (!match?.[1]) throw notServed(url.pathname);
    const method = req.method ?? "GET";
    if (method === "OPTIONS") {
      res.writeHead(200, { Allow: "OPTIONS,GET,HEAD,POST" }).end();
      return;
    }
    if (method !== "POST" && method !== "GET" && method !== "HEAD") {
      throw new ApiError(405, "PGRST101", `Cannot use the ${method} method on RPC`);
    }
    const fnName = decodePathSegment(match[1]);
    checkSchemaProfile(req, method);
    const media = negotiateMediaType(req.headers.accept);
    rejectUnsupportedQueryParams(url, method);
    const auth = await authenticate(req.headers.authorization, config);
    const payload =
      method === "POST" ? parseJsonPayload(await readBody(req, config.maxBodyBytes)) : queryPayload(url);

    const call: RpcCall = {
      fnName,
      method,
      path: `/rpc/${fnName}`,
      payload,
      media,
      auth,
      countRequested: /count=(exact|planned|estimated)/.test(String(req.headers.prefer ?? "")),
      headersJson: JSON.stringify(flattenHeaders(req)),
      cookiesJson: JSON.stringify(parseCookies(req.headers.cookie)),
    };
    const result = await runRpc(pool, config, call);
    sendResult(res, call, result);
  } catch (error) {
    if (error instanceof ApiError) sendError(res, error);
    else throw error;
  }
}

function notServed(pathname: string): ApiError {
  if (pathname.startsWith("/rest/v1/")) {
    return new ApiError(
      501,
      "PGRST127",
      "Feature not implemented",
      "The PostgREST bridge serves only /rest/v1/rpc/<function>: reach tables through functions.",
    );
  }
  return new ApiError(404, "PGRST125", "Invalid path specified in request URL");
}

function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ApiError(404, "PGRST125", "Invalid path specified in request URL");
  }
}

/** Only `public` is exposed; the client sends Content-Profile (POST) or Accept-Profile (GET/HEAD). */
function checkSchemaProfile(req: IncomingMessage, method: string): void {
  const header = method === "POST" ? req.headers["content-profile"] : req.headers["accept-profile"];
  const schema = Array.isArray(header) ? header[0] : header;
  if (schema !== undefined && schema !== EXPOSED_SCHEMA) {
    throw new ApiError(406, "PGRST106", `The schema must be one of the following: ${EXPOSED_SCHEMA}`);
  }
}

interface MediaChoice {
  /** `application/vnd.pgrst.object+json`: exactly one row, sent as an object. */
  singular: boolean;
  stripNulls: boolean;
  contentType: string;
}

/** PostgREST's RPC media types: JSON array/object representations, optionally `nulls=stripped`. */
function negotiateMediaType(accept: string | undefined): MediaChoice {
  if (!accept?.trim()) return { singular: false, stripNulls: false, contentType: "application/json" };
  const offered = accept.split(",").map((part) => part.trim());
  for (const range of offered) {
    const [type = "", ...params] = range.split(";").map((piece) => piece.trim().toLowerCase());
    const stripNulls = params.includes("nulls=stripped");
    if (type === "application/vnd.pgrst.object+json" || type === "application/vnd.pgrst.object") {
      return { singular: true, stripNulls, contentType: "application/vnd.pgrst.object+json" };
    }
    if (type === "application/vnd.pgrst.array+json" || type === "application/vnd.pgrst.array") {
      return { singular: false, stripNulls, contentType: "application/vnd.pgrst.array+json" };
    }
    if (type === "application/json" || type === "application/*" || type === "*/*") {
      return { singular: false, stripNulls: false, contentType: "application/json" };
    }
  }
  throw new ApiError(406, "PGRST107", `None of these media types are available: ${offered.join(", ")}`);
}

/** Filters, ordering and paging of set-returning functions are PostgREST features the bridge lacks. */
function rejectUnsupportedQueryParams(url: URL, method: string): void {
  for (const [key, value] of url.searchParams) {
    const reserved = RESERVED_QUERY_PARAMS.has(key);
    if ((key === "select" && value === "*") || (method !== "POST" && !reserved)) continue;
    throw new ApiError(
      400,
      "PGRST127",
      "Feature not implemented",
      `The PostgREST bridge does not support the query parameter "${key}" on RPC.`,
    );
  }
}

const RESERVED_QUERY_PARAMS = new Set([
  "select",
  "order",
  "limit",
  "offset",
  "columns",
  "on_conflict",
  "and",
  "or",
]);

// ---------------------------------------------------------------------------------------------
// Authentication: PostgREST verifies the JWT and becomes the role in its `role` claim.

interface AuthResult {
  role: string;
  claims: Record<string, unknown>;
  /** False for the anonymous role: a 42501 then means "log in" (401), not "forbidden" (403). */
  authenticated: boolean;
}

async function authenticate(header: string | undefined, config: BridgeConfig): Promise<AuthResult> {
  const anonymous = { role: config.anonRole, claims: { role: config.anonRole }, authenticated: false };
  // PostgREST 12 ignores other schemes and an empty bearer; both mean the anonymous role.
  const token = /^bearer\s+(.*)$/i.exec(header?.trim() ?? "")?.[1]?.trim();
  if (!token) return anonymous;

  let claims: JWTPayload;
  try {
    ({ payload: claims } = await jwtVerify(token, config.secret, {
      algorithms: ["HS256"],
      clockTolerance: JWT_CLOCK_SKEW_S,
    }));
  } catch (error) {
    throw jwtError(jwtFailureMessage(error, token));
  }
  if (typeof claims.iat === "number" && claims.iat > Date.now() / 1000 + JWT_CLOCK_SKEW_S) {
    throw jwtError("JWT issued at future");
  }
  const role = typeof claims.role === "string" && claims.role ? claims.role : config.anonRole;
  return { role, claims: { ...claims, role }, authenticated: role !== config.anonRole };
}

function jwtError(message: string): ApiError {
  return new ApiError(401, "PGRST301", message, null, null, {
    "WWW-Authenticate": `Bearer error="invalid_token", error_description=${JSON.stringify(message)}`,
  });
}

/** PostgREST 12's wording where it is known (it shows the Haskell jose error otherwise). */
function jwtFailureMessage(error: unknown, token: string): string {
  const code = (error as { code?: string }).code;
  const parts = token.split(".").length;
  if (code === joseErrors.JWTExpired.code) return "JWT expired";
  if (parts !== 3)
    return `JWSError (CompactDecodeError Invalid number of parts: Expected 3 parts; got ${parts})`;
  if (code === joseErrors.JWSSignatureVerificationFailed.code) return "JWSError JWSInvalidSignature";
  if (code === joseErrors.JOSEAlgNotAllowed.code) return "Wrong or unsupported encoding algorithm";
  if (code === joseErrors.JWTClaimValidationFailed.code) {
    const claim = (error as { claim?: string }).claim;
    if (claim === "nbf") return "JWT not yet valid";
    return `JWT claim "${claim}" is invalid`;
  }
  return "JWSError (CompactDecodeError Invalid JWT)";
}

// ---------------------------------------------------------------------------------------------
// Arguments

type Payload =
  /** A JSON object of named arguments, kept as the client's text so big numbers stay exact. */
  | { kind: "object"; keys: string[]; json: string }
  /** Any other JSON value: only a function with one unnamed json/jsonb parameter can take it. */
  | { kind: "raw"; json: string };

function parseJsonPayload(body: string): Payload {
  if (!body.trim()) return { kind: "object", keys: [], json: "{}" };
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new ApiError(400, "PGRST102", "Empty or invalid json");
  }
  if (isPlainObject(value)) return { kind: "object", keys: Object.keys(value), json: body };
  // PostgREST calls a function once with the first object of an array body.
  if (Array.isArray(value) && value.every(isPlainObject)) {
    const first = value[0] ?? {};
    return { kind: "object", keys: Object.keys(first), json: JSON.stringify(first) };
  }
  return { kind: "raw", json: body };
}

/** GET/HEAD: each query parameter is an argument (text, cast by Postgres); repeated ones form an array. */
function queryPayload(url: URL): Payload {
  const args: Record<string, string | string[]> = {};
  for (const [key, value] of url.searchParams) {
    if (RESERVED_QUERY_PARAMS.has(key)) continue;
    const previous = args[key];
    args[key] =
      previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  return { kind: "object", keys: Object.keys(args), json: JSON.stringify(args) };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.removeAllListeners("data");
        req.resume(); // drain without keeping it
        reject(
          new ApiError(
            413,
            "PGRST413",
            "Payload Too Large",
            `The bridge accepts request bodies up to ${maxBytes} bytes.`,
          ),
        );
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function flattenHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}

function parseCookies(header: string | undefined): Record<string, string> {
  const cookies: Record<string, string> = {};
  for (const pair of header?.split(";") ?? []) {
    const at = pair.indexOf("=");
    if (at > 0) cookies[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return cookies;
}

// ---------------------------------------------------------------------------------------------
// The function catalog: what PostgREST keeps in its schema cache, read per request here so that
// functions created by a test are callable at once (no schema reload needed).

interface Routine {
  name: string;
  volatile: boolean;
  returnsVoid: boolean;
  returnsSet: boolean;
  /** Table row type, composite type, or OUT/INOUT/TABLE columns: rows become JSON objects. */
  returnsComposite: boolean;
  params: RoutineParam[];
}

interface RoutineParam {
  name: string;
  /** Type as written in SQL, for json_to_record's column list. */
  type: string;
  required: boolean;
  variadic: boolean;
}

const ROUTINES_SQL = `
  select p.proname as name,
         p.provolatile = 'v' as volatile,
         p.prorettype = 'pg_catalog.void'::regtype as returns_void,
         p.proretset as returns_set,
         -- As PostgREST's schema cache: OUT, INOUT or TABLE columns make rows objects, even just one.
         coalesce(bt.typtype, rt.typtype) = 'c'
           or coalesce(p.proargmodes::text[] && '{t,b,o}', false) as returns_composite,
         p.pronargdefaults as defaults,
         coalesce((
           select json_agg(json_build_object(
                    'name', coalesce(a.name, ''),
                    'mode', coalesce(a.mode, 'i'),
                    'type', case when a.typ = 'pg_catalog.bpchar'::regtype then 'bpchar'
                                 else pg_catalog.format_type(a.typ, null) end)
                  order by a.ord)
           from unnest(coalesce(p.proallargtypes, p.proargtypes::oid[]), p.proargnames, p.proargmodes)
                  with ordinality as a(typ, name, mode, ord)
           where a.typ is not null
         ), '[]') as args
  from pg_catalog.pg_proc p
  join pg_catalog.pg_namespace n on n.oid = p.pronamespace
  join pg_catalog.pg_type rt on rt.oid = p.prorettype
  left join pg_catalog.pg_type bt on rt.typtype = 'd' and bt.oid = rt.typbasetype
  where n.nspname = $1 and p.proname = $2 and p.prokind = 'f'
    and p.prorettype not in ('pg_catalog.trigger'::regtype, 'pg_catalog.event_trigger'::regtype)`;

interface RoutineRow {
  name: string;
  volatile: boolean;
  returns_void: boolean;
  returns_set: boolean;
  returns_composite: boolean;
  defaults: number;
  args: { name: string; mode: string; type: string }[];
}

async function loadRoutines(client: pg.PoolClient, fnName: string): Promise<Routine[]> {
  const { rows } = await client.query<RoutineRow>(ROUTINES_SQL, [EXPOSED_SCHEMA, fnName]);
  return rows.map((row) => {
    const inputs = row.args.filter((arg) => arg.mode === "i" || arg.mode === "b" || arg.mode === "v");
    // Defaults belong to the last `pronargdefaults` input parameters.
    const firstOptional = inputs.length - row.defaults;
    return {
      name: row.name,
      volatile: row.volatile,
      returnsVoid: row.returns_void,
      returnsSet: row.returns_set,
      returnsComposite: row.returns_composite,
      params: inputs.map((arg, index) => ({
        name: arg.name,
        type: arg.type,
        required: index < firstOptional,
        variadic: arg.mode === "v",
      })),
    };
  });
}

type Resolved = { routine: Routine; singleUnnamed: boolean };

/**
 * PostgREST's overload resolution: a function matches when every argument key names one of its
 * parameters and every parameter without a default is given. Failing that, a function with a
 * single unnamed json/jsonb parameter takes the whole body.
 */
function resolveRoutine(routines: Routine[], payload: Payload, fnName: string, method: string): Resolved {
  const keys = payload.kind === "object" ? payload.keys : [];
  const matching =
    payload.kind === "object"
      ? routines.filter((routine) => {
          const names = new Set(routine.params.map((param) => param.name));
          if (routine.params.some((param) => !param.name)) return false;
          return (
            keys.every((key) => names.has(key)) &&
            routine.params.every((p) => !p.required || keys.includes(p.name))
          );
        })
      : [];
  const singleUnnamed = routines.filter(
    (routine) =>
      routine.params.length === 1 &&
      !routine.params[0]?.name &&
      /^jsonb?$/.test(routine.params[0]?.type ?? ""),
  );
  const candidates = matching.length > 0 ? matching : method === "POST" ? singleUnnamed : [];
  if (candidates.length > 1) {
    const list = candidates.map(
      (routine) =>
        `${EXPOSED_SCHEMA}.${routine.name}(${routine.params.map((p) => `${p.name} => ${p.type}`).join(", ")})`,
    );
    throw new ApiError(
      300,
      "PGRST203",
      `Could not choose the best candidate function between: ${list.join(", ")}`,
      null,
      "Try renaming the parameters or the function itself in the database so function overloading can be resolved",
    );
  }
  const routine = candidates[0];
  if (!routine) throw noRoutine(fnName, [...keys].sort(), routines);
  return { routine, singleUnnamed: matching.length === 0 };
}

function noRoutine(fnName: string, keys: string[], overloads: Routine[]): ApiError {
  const qualified = `${EXPOSED_SCHEMA}.${fnName}`;
  const withParams = keys.length === 0 ? " without parameters" : `(${keys.join(", ")})`;
  const searched =
    keys.length === 0
      ? " without parameters"
      : ` with parameter${keys.length > 1 ? "s" : ""} ${keys.join(", ")}`;
  const known = overloads[0];
  const hint = known
    ? `Perhaps you meant to call the function ${qualified}(${known.params
        .map((p) => p.name)
        .sort()
        .join(", ")})`
    : null;
  return new ApiError(
    404,
    "PGRST202",
    `Could not find the function ${qualified}${withParams} in the schema cache`,
    `Searched for the function ${qualified}${searched} or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.`,
    hint,
  );
}

// ---------------------------------------------------------------------------------------------
// SQL: the call, shaped like PostgREST's (json_to_record for typed named arguments; json_agg of
// the rows, or of the scalar, for the body), with $1 = the arguments as JSON.

function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function buildCallSql(
  resolved: Resolved,
  payload: Payload,
  media: MediaChoice,
): { text: string; values: string[] } {
  const { routine, singleUnnamed } = resolved;
  const fn = `${ident(EXPOSED_SCHEMA)}.${ident(routine.name)}`;
  const scalar = !routine.returnsComposite;

  // PostgREST calls a scalar function in the select list (one column, pgrst_scalar) and a
  // composite one in FROM (its columns become the JSON object's keys).
  const callAs = (call: string, lateral: boolean) =>
    scalar
      ? `${lateral ? "lateral " : ""}(select ${call} as pgrst_scalar) pgrst_call`
      : `${lateral ? "lateral " : ""}${call} pgrst_call`;

  let from: string;
  if (singleUnnamed) {
    from = callAs(`${fn}($1::${routine.params[0]?.type ?? "json"})`, false);
  } else {
    const given = routine.params.filter(
      (param) => payload.kind === "object" && payload.keys.includes(param.name),
    );
    const namedArgs = given.map(
      (p) => `${p.variadic ? "variadic " : ""}${ident(p.name)} := pgrst_body.${ident(p.name)}`,
    );
    const typedColumns = given.map((p) => `${ident(p.name)} ${p.type}`);
    from =
      given.length === 0
        ? callAs(`${fn}()`, false)
        : "(select $1::json as json_data) pgrst_payload, " +
          `lateral (select * from json_to_record(pgrst_payload.json_data) as _(${typedColumns.join(", ")}) limit 1) pgrst_body, ` +
          callAs(`${fn}(${namedArgs.join(", ")})`, true);
  }
  const source = `select ${scalar ? "pgrst_call.pgrst_scalar" : "pgrst_call.*"} from ${from}`;

  const strip = (json: string) => (media.stripNulls ? `json_strip_nulls(${json})` : json);
  const rows = scalar ? "json_agg(_postgrest_t.pgrst_scalar)" : "json_agg(_postgrest_t)";
  const body =
    media.singular || !routine.returnsSet
      ? `coalesce(${strip(`${rows}->0`)}, 'null')`
      : `coalesce(${strip(rows)}, '[]')`;

  const text = `
    with pgrst_source as (${source})
    select pg_catalog.count(_postgrest_t)::int as page_total,
           (${body})::text as body,
           nullif(pg_catalog.current_setting('response.headers', true), '') as response_headers,
           nullif(pg_catalog.current_setting('response.status', true), '') as response_status
    from (select * from pgrst_source) _postgrest_t`;
  // A call without arguments has no $1, and Postgres refuses a parameter it was not asked for.
  return { text, values: from.includes("$1") ? [payload.json] : [] };
}

// ---------------------------------------------------------------------------------------------
// Execution: one transaction per request, as PostgREST does it.

interface RpcCall {
  fnName: string;
  method: string;
  path: string;
  payload: Payload;
  media: MediaChoice;
  auth: AuthResult;
  countRequested: boolean;
  headersJson: string;
  cookiesJson: string;
}

interface RpcResult {
  routine: Routine;
  rows: number;
  body: string;
  status: number | undefined;
  headers: Record<string, string>;
}

interface CallRow {
  page_total: number;
  body: string;
  response_headers: string | null;
  response_status: string | null;
}

async function runRpc(pool: pg.Pool, config: BridgeConfig, call: RpcCall): Promise<RpcResult> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw new ApiError(
      503,
      "PGRST000",
      "Database connection error. Retrying the connection.",
      describe(error),
    );
  }
  // A broken connection must leave the pool, or the next request would fail on it too.
  let broken = false;
  const markBroken = () => {
    broken = true;
  };
  client.on("error", markBroken);
  try {
    // GET and HEAD must not write: PostgREST runs them read-only.
    await client.query(call.method === "POST" ? "begin" : "begin read only");
    try {
      const resolved = resolveRoutine(
        await loadRoutines(client, call.fnName),
        call.payload,
        call.fnName,
        call.method,
      );
      if (call.method !== "POST" && resolved.routine.volatile) {
        throw new ApiError(405, "PGRST101", `Cannot use the ${call.method} method on RPC`);
      }
      await becomeRequestRole(client, config, call);
      const { rows } = await client.query<CallRow>(buildCallSql(resolved, call.payload, call.media));
      const row = rows[0] ?? { page_total: 0, body: "[]", response_headers: null, response_status: null };
      if (call.media.singular && !resolved.routine.returnsVoid && row.page_total !== 1) {
        throw new ApiError(
          406,
          "PGRST116",
          "JSON object requested, multiple (or no) rows returned",
          `The result contains ${row.page_total} rows`,
        );
      }
      const result: RpcResult = {
        routine: resolved.routine,
        rows: row.page_total,
        body: row.body,
        status: parseGucStatus(row.response_status),
        headers: parseGucHeaders(row.response_headers),
      };
      await client.query("commit");
      return result;
    } catch (error) {
      // Also for a refused singular response: PostgREST rolls back whatever the function did.
      await client.query("rollback").catch(() => {});
      throw error;
    }
  } catch (error) {
    if (error instanceof ApiError) throw error;
    if (isConnectionFailure(error)) broken = true;
    throw pgErrorToApi(error, call.auth.authenticated);
  } finally {
    client.off("error", markBroken);
    client.release(broken);
  }
}

/**
 * The request's settings, as PostgREST sets them (transaction-local): search_path, the statement
 * timeout, the role from the JWT with that role's own settings, and the request GUCs functions
 * read with current_setting('request.jwt.claims') and friends.
 */
async function becomeRequestRole(client: pg.PoolClient, config: BridgeConfig, call: RpcCall): Promise<void> {
  const { rows } = await client.query<{ exists: boolean; may_switch: boolean; settings: string[] | null }>(
    `select r.oid is not null as exists,
            a.oid is null or r.oid is null or pg_catalog.pg_has_role(a.oid, r.oid, 'member') as may_switch,
            array(select pg_catalog.unnest(s.setconfig) from pg_catalog.pg_db_role_setting s
                   where s.setrole = r.oid and s.setdatabase in (0, d.oid)
                   order by s.setdatabase) as settings
     from pg_catalog.pg_database d
     left join pg_catalog.pg_roles r on r.rolname = $1
     left join pg_catalog.pg_roles a on a.rolname = 'authenticator'
     where d.datname = pg_catalog.current_database()`,
    [call.auth.role],
  );
  const info = rows[0];
  // In Supabase, PostgREST logs in as `authenticator` and may only become roles granted to it.
  // The bridge connects as whoever DATABASE_URL names (often a superuser), so it checks instead.
  if (info?.exists && !info.may_switch) {
    throw pgErrorToApi(
      Object.assign(new Error(`permission denied to set role "${call.auth.role}"`), { code: "42501" }),
      call.auth.authenticated,
    );
  }
  const roleSettings = (info?.settings ?? []).map((entry) => {
    const at = entry.indexOf("=");
    return [entry.slice(0, at), entry.slice(at + 1)] as [string, string];
  });
  const settings: [string, string][] = [
    ["search_path", SEARCH_PATH],
    ["statement_timeout", String(config.statementTimeoutMs)],
    ["role", call.auth.role],
    ...roleSettings,
    ["request.jwt.claims", JSON.stringify(call.auth.claims)],
    ["request.method", call.method],
    ["request.path", call.path],
    ["request.headers", call.headersJson],
    ["request.cookies", call.cookiesJson],
  ];
  // One statement; set_config in a select list runs left to right, so the role comes before its settings.
  const list = settings.map((_, i) => `pg_catalog.set_config($${2 * i + 1}, $${2 * i + 2}, true)`).join(", ");
  await client.query(`select ${list}`, settings.flat());
}

function parseGucStatus(value: string | null): number | undefined {
  if (value === null) return undefined;
  const status = Number(value);
  if (!Number.isInteger(status) || status < 100 || status > 599) {
    throw new ApiError(500, "PGRST112", "response.status guc must be a valid status code");
  }
  return status;
}

function parseGucHeaders(value: string | null): Record<string, string> {
  if (value === null) return {};
  const failure = new ApiError(
    500,
    "PGRST111",
    "response.headers guc must be a JSON array composed of objects with a single key and a string value",
  );
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw failure;
  }
  if (!Array.isArray(parsed)) throw failure;
  const headers: Record<string, string> = {};
  for (const item of parsed) {
    const entries = isPlainObject(item) ? Object.entries(item) : [];
    const [name, headerValue] = entries[0] ?? [];
    if (entries.length !== 1 || typeof name !== "string" || typeof headerValue !== "string") throw failure;
    headers[name] = headerValue;
  }
  return headers;
}

// ---------------------------------------------------------------------------------------------
// Errors: PostgREST's body ({code, message, details, hint}) and status table.

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: string | null = null,
    readonly hint: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

interface PgLikeError {
  code?: string;
  message?: string;
  detail?: string;
  hint?: string;
}

/** No SQLSTATE from the server: the connection itself failed (refused, reset, terminated). */
function isConnectionFailure(error: unknown): boolean {
  const code = (error as PgLikeError).code;
  return !code || !/^[0-9A-Z]{5}$/.test(code) || code.startsWith("08") || code === "57P01";
}

function pgErrorToApi(error: unknown, authenticated: boolean): ApiError {
  const pgError = error as PgLikeError;
  const code = pgError.code;
  if (!code || !/^[0-9A-Z]{5}$/.test(code)) {
    return new ApiError(503, "PGRST001", "Database client error. Retrying the connection.", describe(error));
  }
  const message = pgError.message ?? "";
  if (code === "PGRST") return raisedPgrstError(message, pgError.detail);
  const status = statusForSqlState(code, message, authenticated);
  return new ApiError(
    status,
    code,
    message,
    pgError.detail ?? null,
    pgError.hint ?? null,
    status === 401 ? { "WWW-Authenticate": "Bearer" } : {},
  );
}

/** PostgREST 12's SQLSTATE → HTTP status table (src/PostgREST/Error.hs, pgErrorStatus). */
export function statusForSqlState(code: string, message: string, authenticated: boolean): number {
  const exact: Record<string, number> = {
    "23503": 409, // foreign_key_violation
    "23505": 409, // unique_violation
    "25006": 405, // read_only_sql_transaction
    "53400": 500, // configuration_limit_exceeded
    P0001: 400, // raise_exception: the default of RAISE
    "42P01": 404, // undefined_table
    "42P17": 500, // infinite recursion
  };
  if (code === "21000") return message.endsWith("requires a WHERE clause") ? 400 : 500; // pg-safeupdate
  if (code === "42883") return message.startsWith("function xmlagg(") ? 406 : 404; // undefined_function
  if (code === "42501") return authenticated ? 403 : 401; // insufficient_privilege
  if (code.startsWith("PT")) {
    // RAISE SQLSTATE 'PT402' answers 402: PostgREST's convention for a custom status.
    const custom = Number(code.slice(2));
    return Number.isInteger(custom) && custom >= 100 && custom <= 599 ? custom : 500;
  }
  const byExact = exact[code];
  if (byExact !== undefined) return byExact;
  const byClass: Record<string, number> = {
    "08": 503, // connection exception
    "09": 500, // triggered action exception
    "0L": 403, // invalid grantor
    "0P": 403, // invalid role specification
    "25": 500, // invalid transaction state
    "28": 403, // invalid authorization specification
    "2D": 500, // invalid transaction termination
    "38": 500, // external routine exception
    "39": 500, // external routine invocation exception
    "3B": 500, // savepoint exception
    "40": 500, // transaction rollback (serialization failure, deadlock)
    "53": 503, // insufficient resources
    "54": 500, // program limit exceeded
    "55": 500, // object not in prerequisite state
    "57": 500, // operator intervention, including statement timeout (57014)
    "58": 500, // system error
    F0: 500, // configuration file error
    HV: 500, // foreign data wrapper error
    P0: 500, // other PL/pgSQL errors
    XX: 500, // internal error
  };
  return byClass[code.slice(0, 2)] ?? 400;
}

/**
 * `RAISE SQLSTATE 'PGRST' USING message = '{"code": ..., "message": ...}', detail = '{"status": ...,
 * "headers": {...}}'`: PostgREST's full control over the error response.
 */
function raisedPgrstError(message: string, detail: string | undefined): ApiError {
  const parseFailure = (details: string, hint: string) =>
    new ApiError(
      500,
      "PGRST121",
      `Could not parse JSON in the "RAISE SQLSTATE 'PGRST'" error`,
      details,
      hint,
    );
  let body: unknown;
  try {
    body = JSON.parse(message);
  } catch {
    body = undefined;
  }
  if (!isPlainObject(body) || typeof body.code !== "string" || typeof body.message !== "string") {
    return parseFailure(
      `Invalid JSON value for MESSAGE: '${message}'`,
      "MESSAGE must be a JSON object with obligatory keys: 'code', 'message' and optional keys: 'details', 'hint'.",
    );
  }
  if (detail === undefined) {
    return parseFailure(
      "DETAIL is missing in the RAISE statement",
      "DETAIL must be a JSON object with obligatory keys: 'status', 'headers' and optional key: 'status_text'.",
    );
  }
  let response: unknown;
  try {
    response = JSON.parse(detail);
  } catch {
    response = undefined;
  }
  const status = isPlainObject(response) ? response.status : undefined;
  const headers = isPlainObject(response) ? response.headers : undefined;
  if (typeof status !== "number" || status < 100 || status > 599 || !isPlainObject(headers)) {
    return parseFailure(
      `Invalid JSON value for DETAIL: '${detail}'`,
      "DETAIL must be a JSON object with obligatory keys: 'status', 'headers' and optional key: 'status_text'.",
    );
  }
  const text = (value: unknown) => (typeof value === "string" ? value : null);
  return new ApiError(
    status,
    body.code,
    body.message,
    text(body.details),
    text(body.hint),
    Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, String(value)])),
  );
}

// ---------------------------------------------------------------------------------------------
// Responses

function sendResult(res: ServerResponse, call: RpcCall, result: RpcResult): void {
  // PostgREST 10+: a void function answers 204 with no body and no Content-Type.
  if (result.routine.returnsVoid) {
    res.writeHead(result.status ?? 204, result.headers).end();
    return;
  }
  const range = result.rows > 0 ? `0-${result.rows - 1}` : "*";
  const total = call.countRequested ? String(result.rows) : "*";
  const contentType =
    call.media.stripNulls && !call.media.singular
      ? `${call.media.contentType}; nulls=stripped; charset=utf-8`
      : `${call.media.contentType}; charset=utf-8`;
  const headers = {
    "Content-Type": contentType,
    "Content-Range": `${range}/${total}`,
    ...result.headers,
  };
  res.writeHead(result.status ?? 200, headers);
  res.end(call.method === "HEAD" ? undefined : result.body);
}

function sendError(res: ServerResponse, error: ApiError): void {
  const body = JSON.stringify({
    code: error.code,
    details: error.details,
    hint: error.hint,
    message: error.message,
  });
  res.writeHead(error.status, {
    "Content-Type": "application/json; charset=utf-8",
    ...error.headers,
  });
  res.end(body);
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
