/** Fields of one structured log line. Never put secrets, tokens or request bodies here. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

export type LogLevel = "debug" | "info" | "warn" | "error";

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** The isolate's threshold (LOG_LEVEL); one configuration per isolate, so module state is enough. */
let threshold: LogLevel = "info";

/** Lines below `level` are dropped from now on. Default "info". */
export function setLogLevel(level: LogLevel): void {
  threshold = level;
}

/** One JSON object per line, so operators can search logs (`wrangler tail`, Logpush) by field. */
export function log(level: LogLevel, message: string, fields: LogFields = {}): void {
  if (LEVELS[level] < LEVELS[threshold]) return;
  const line = JSON.stringify({ ts: new Date().toISOString(), level, msg: message, ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

/** A short, safe description of an unknown thrown value, for logs only. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
