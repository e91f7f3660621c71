/**
 * Stand-ins for Stripe's hosted pages, so `npm run dev` can be clicked through by hand: the
 * checkout URL shows a "Pay" button that completes the session and redirects to `success_url`
 * (with `{CHECKOUT_SESSION_ID}` filled in, as Stripe does); the portal URL lists the customer's
 * subscriptions with a "cancel at period end" button.
 */
import { completeCheckoutSession } from "./resources/checkout";
import { updateSubscription } from "./resources/subscriptions";
import type { FakeContext } from "./state";

export interface PageResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );

function html(status: number, title: string, content: string): PageResponse {
  return {
    status,
    headers: { "Content-Type": "text/html; charset=utf-8" },
    body: `<!doctype html><meta charset="utf-8"><title>${escapeHtml(title)}</title><h1>${escapeHtml(title)}</h1>${content}`,
  };
}

function redirect(location: string): PageResponse {
  return { status: 303, headers: { Location: location }, body: "" };
}

export function renderPage(ctx: FakeContext, method: string, path: string): PageResponse | undefined {
  const checkout = /^\/checkout\/pay\/([^/]+)$/.exec(path);
  if (checkout?.[1]) {
    const record = ctx.store.checkoutSessions.get(checkout[1]);
    if (!record) return html(404, "Checkout session not found", "");
    if (method === "GET") {
      const { session } = record;
      if (session.status !== "open") return html(410, `This checkout session is ${session.status}`, "");
      const items = record.lineItems.map((line) => `<li>${escapeHtml(line.price)}</li>`).join("");
      return html(
        200,
        "Fake Stripe Checkout",
        `<ul>${items}</ul><form method="post"><button>Pay</button></form>`,
      );
    }
    if (method === "POST") {
      const { session } = completeCheckoutSession(ctx, checkout[1]);
      if (!session.success_url) return html(200, "Payment complete", "");
      return redirect(session.success_url.replace("{CHECKOUT_SESSION_ID}", session.id));
    }
  }
  const portal = /^\/billing_portal\/session\/([^/]+)(?:\/cancel\/([^/]+))?$/.exec(path);
  if (portal?.[1]) {
    const session = ctx.store.portalSessions.get(portal[1]);
    if (!session) return html(404, "Portal session not found", "");
    if (method === "POST" && portal[2]) {
      updateSubscription(ctx, {
        params: { cancel_at_period_end: "true" },
        pathParams: [portal[2]],
        request: { id: null, idempotency_key: null },
      });
      return redirect(`/billing_portal/session/${portal[1]}`);
    }
    if (method === "GET") {
      const subscriptions = [...ctx.store.subscriptions.values()].filter(
        (s) => s.customer === session.customer,
      );
      const rows = subscriptions
        .map((s) => {
          const action =
            s.status === "canceled" || s.cancel_at_period_end
              ? ""
              : `<form method="post" action="/billing_portal/session/${escapeHtml(portal[1] ?? "")}/cancel/${escapeHtml(s.id)}"><button>Cancel at period end</button></form>`;
          return `<li>${escapeHtml(s.id)}: ${escapeHtml(s.status)}${s.cancel_at_period_end ? " (cancels at period end)" : ""}${action}</li>`;
        })
        .join("");
      const back =
        typeof session.return_url === "string"
          ? `<a href="${escapeHtml(session.return_url)}">Return</a>`
          : "";
      return html(200, `Fake customer portal for ${String(session.customer)}`, `<ul>${rows}</ul>${back}`);
    }
  }
  return undefined;
}
