// The approvals inbox: deployments that wait for a decision the signed-in subject may give,
// kept current every few seconds without losing a comment being typed.

import { ok, pause } from "../api.js";
import type { PageContext } from "../page.js";
import { h, link } from "../ui.js";
import { decisionForm } from "./jobs.js";

/** How often the inbox asks what waits. */
const REFRESH_MS = 5000;

export async function approvals(context: PageContext): Promise<void> {
  const { session, client, view, signal } = context;
  const approveScopes = session.scopes.filter((scope) => scope.startsWith("approve:"));
  const cards = h("div", { class: "cards", id: "inbox" });
  const empty = h("p", { id: "inbox-empty" }, "Nothing waits for your approval.");
  const shown = new Map<string, HTMLElement>();

  const refresh = async () => {
    const waiting = await client.GET("/api/v1/approvals", { signal }).then(ok);
    const ids = new Set(waiting.items.map((one) => one.id));
    for (const [id, card] of shown) {
      if (ids.has(id)) continue;
      // A card just decided here stays one more round, so its outcome can be read.
      if (card.querySelector(".ok") && !card.dataset.decided) {
        card.dataset.decided = "shown";
        continue;
      }
      card.remove();
      shown.delete(id);
    }
    for (const one of waiting.items) {
      if (shown.has(one.id)) continue;
      const card = h("div", {}, decisionForm(session, client, one, () => undefined), h("p", {}, link(`/deployments/${one.id}`, "Details and log")));
      shown.set(one.id, card);
      cards.append(card);
    }
    empty.hidden = shown.size > 0;
  };

  view.replaceChildren(
    h("h1", {}, "Approvals"),
    h(
      "p",
      { class: "muted" },
      approveScopes.length
        ? `Deployments waiting for you (${approveScopes.join(", ")}), oldest first, refreshed every ${REFRESH_MS / 1000} seconds. You cannot approve what you requested or released, unless the environment allows it.`
        : "Your token carries no approve:<environment> scope, so nothing waits for you.",
    ),
    empty,
    cards,
  );
  await refresh();
  void (async () => {
    while (!signal.aborted) {
      await pause(REFRESH_MS, signal);
      if (!signal.aborted) await refresh().catch(() => undefined);
    }
  })();
}
