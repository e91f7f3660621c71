import { html } from "hono/html";
import { ERROR_CODES, type ErrorCode, errorAnchorOf } from "../errors";
import { ERROR_GUIDES } from "./error-guide";

/** Guide text with `code` spans, escaped: text between backticks becomes <code>. */
const withCode = (text: string) =>
  text.split("`").map((part, index) => (index % 2 === 1 ? html`<code>${part}</code>` : part));

/**
 * /docs/errors: one section per error code, its id the anchor each problem's `type` points to.
 * A static page with no script, readable without the reference's renderer.
 */
export function renderErrorPage(title: string) {
  const codes = Object.keys(ERROR_CODES) as ErrorCode[];
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Errors · ${title}</title>
<style>
body{font:16px/1.55 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
code{font:14px ui-monospace,monospace;background:#f2f2f2;border-radius:4px;padding:0 .2em}
section{border-top:1px solid #ddd;padding:.5rem 0 1rem}section:target{background:#fff8e1}
h2{font-size:1.2rem;margin:.8rem 0 .2rem}.status{color:#666;font-weight:400}
dt{font-weight:600}dd{margin:0 0 .5rem 0}nav a{margin-right:.6rem;white-space:nowrap}
</style>
</head>
<body>
<p><a href="/docs">API reference</a></p>
<h1>Errors</h1>
<p>Every error is an RFC 9457 <code>application/problem+json</code> body: branch on its <code>code</code>,
show its <code>detail</code> (it says what to change), and quote its <code>request_id</code> to support.
Only a 2xx answer is billed. 429 and 503 answers carry <code>Retry-After</code> (seconds).</p>
<nav>${codes.map((code) => html`<a href="#${errorAnchorOf(code)}"><code>${code}</code></a> `)}</nav>
${codes.map(
  (code) => html`<section id="${errorAnchorOf(code)}">
<h2><code>${code}</code> <span class="status">${ERROR_CODES[code].status} · ${ERROR_CODES[code].title}</span></h2>
<dl><dt>Cause</dt><dd>${withCode(ERROR_GUIDES[code].cause)}</dd>
<dt>Fix</dt><dd>${withCode(ERROR_GUIDES[code].fix)}</dd></dl>
</section>`,
)}
</body>
</html>`;
}
