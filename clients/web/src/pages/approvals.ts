// The approvals inbox: deployments that wait for a decision the signed-in subject may give.

import { ok } from "../api.js";
import type { PageContext } from "../page.js";
import { h, link } from "../ui.js";
import { decisionForm } from "./jobs.js";

export async function approvals(context: PageContext): Promise<void> {
  const { session, client, view, signal } = context;
  const waiting = await client.GET("/api/v1/approvals", { signal }).then(ok);
  const approveScopes = session.scopes.filter((scope) => scope.startsWith("approve:"));
  view.replaceChildren(
    h("h1", {}, "Approvals"),
    h(
      "p",
      { class: "muted" },
      approveScopes.length
        ? `Deployments waiting for you (${approveScopes.join(", ")}), oldest first. You cannot approve what you requested or released, unless the environment allows it.`
        : "Your token carries no approve:<environment> scope, so nothing waits for you.",
    ),
    waiting.items.length === 0
      ? h("p", { id: "inbox-empty" }, "Nothing waits for your approval.")
      : h(
          "div",
          { class: "cards" },
          waiting.items.map((one) =>
            h(
              "div",
              {},
              decisionForm(session, client, one, () => setTimeout(() => void approvals(context), 1500)),
              h("p", {}, link(`/deployments/${one.id}`, "Details and log")),
            ),
          ),
        ),
  );
}
