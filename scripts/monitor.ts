/**
 * `npm run monitor -- <base URL> [--timeout-ms 3000]`: the uptime probe of docs/deploy.md
 * ("Uptime monitor") from a terminal, CI or cron. Checks `GET /health` (200, `status: "ok"`) and
 * `GET /health/ready` (200, `status: "ready"`), each within the timeout; prints one line per check
 * and exits 1 if either fails (the line says why: status, body, timeout), 0 when both pass.
 */
import { checkDeployment } from "./lib/uptime";

const args = process.argv.slice(2);
const timeoutIndex = args.indexOf("--timeout-ms");
const timeoutMs = timeoutIndex >= 0 ? Number(args[timeoutIndex + 1]) : 3000;
const base = args.find((arg, index) => !arg.startsWith("--") && index !== timeoutIndex + 1);

if (!base || !/^https?:\/\//.test(base) || !Number.isFinite(timeoutMs) || timeoutMs <= 0) {
  console.error("usage: npm run monitor -- https://<worker> [--timeout-ms 3000]");
  process.exit(2);
}

const results = await checkDeployment(base, timeoutMs);
for (const result of results) {
  console.log(`${result.ok ? "ok  " : "FAIL"} ${result.url} ${result.summary} (${result.latencyMs} ms)`);
}
process.exit(results.every((result) => result.ok) ? 0 : 1);
