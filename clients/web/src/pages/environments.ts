// Environments: the list, and one environment's history, rollback (confirming the release it
// returns to) and point-in-time view (what was live at a moment, and who approved it).

import { describe, ok, refusal, type Deployment, type Schemas } from "../api.js";
import type { PageContext } from "../page.js";
import { action, confirm, facts, fromLocalInput, h, link, outcome, row, status, table, time } from "../ui.js";

export async function environments({ client, view, signal }: PageContext): Promise<void> {
  const all = await client.GET("/api/v1/environments", { signal }).then(ok);
  view.replaceChildren(
    h("h1", {}, "Environments"),
    h(
      "ul",
      {},
      all.items.map((env) =>
        h(
          "li",
          {},
          link(`/environments/${encodeURIComponent(env.name)}`, env.name),
          ` — ${env.approval_policy.required_approvals} approval(s) required`,
          env.freezes.some((freeze) => freeze.active_now) ? [" ", h("span", { class: "badge status-frozen" }, "frozen")] : "",
        ),
      ),
    ),
  );
}

/** Per project: the release live now and the one live before it (the default rollback target). */
function rollbackTargets(history: Deployment[]): Map<string, { current: Deployment; previous: Deployment | null }> {
  const targets = new Map<string, { current: Deployment; previous: Deployment | null }>();
  for (const one of history) {
    if (one.status !== "succeeded") continue;
    const known = targets.get(one.project);
    if (!known) targets.set(one.project, { current: one, previous: null });
    else if (!known.previous && one.release_id !== known.current.release_id) known.previous = one;
  }
  return targets;
}

function historyRow(one: Deployment): HTMLTableRowElement {
  return row(
    {},
    link(`/deployments/${one.id}`, time(one.requested_at)),
    one.project,
    one.release_version,
    one.kind,
    status(one.status),
    one.requested_by,
    one.approvals.filter((a) => a.decision === "approve").map((a) => a.subject).join(", ") || "—",
    time(one.finished_at),
  );
}

function liveTable(state: Schemas["EnvironmentStateAt"]): HTMLElement {
  if (state.projects.length === 0) return h("p", {}, `Nothing was live in ${state.environment} then.`);
  return table(
    ["Project", "Release", "Kind", "Requested by", "Approved by", "Live since", "Artifacts"],
    state.projects.map((live) =>
      row(
        { "data-project": live.project },
        live.project,
        link(`/deployments/${live.deployment.id}`, live.deployment.release_version),
        live.deployment.kind,
        live.deployment.requested_by,
        live.deployment.approvals.length
          ? live.deployment.approvals.map((a) => h("div", {}, h("strong", {}, a.subject), ` ${a.decision}d`, a.comment ? `: ${a.comment}` : ""))
          : "no approval needed",
        time(live.deployment.finished_at),
        live.artifacts.map((artifact) => artifact.name).join(", ") || "—",
      ),
    ),
  );
}

export async function environment({ session, client, view, params, signal }: PageContext): Promise<void> {
  const [name] = params;
  const [env, firstPage] = await Promise.all([
    client.GET("/api/v1/environments/{env}", { params: { path: { env: name } }, signal }).then(ok),
    client.GET("/api/v1/environments/{env}/history", { params: { path: { env: name }, query: { limit: 100 } }, signal }).then(ok),
  ]);
  const history: Deployment[] = [...firstPage.items];
  const body = h("tbody");
  body.append(...history.map(historyRow));
  let cursor = firstPage.next_cursor ?? null;
  const more = h("button", { type: "button", class: "secondary" }, "Older deployments");
  const showMore = () => (more.hidden = cursor === null);
  more.addEventListener("click", async () => {
    const page = await client.GET("/api/v1/environments/{env}/history", { params: { path: { env: name }, query: { after: Number(cursor), limit: 100 } } }).then(ok);
    history.push(...page.items);
    body.append(...page.items.map(historyRow));
    cursor = page.next_cursor ?? null;
    showMore();
  });
  showMore();

  // Rollback, per project live here.
  const rollbacks = h("div", { id: "rollbacks" });
  const why = refusal(session, `deploy:${name}`);
  for (const [project, { current, previous }] of rollbackTargets(history)) {
    const result = outcome();
    const label = previous ? `Roll back ${project} to ${previous.release_version}` : `Roll back ${project}`;
    const cannot = why ?? (previous ? null : `Nothing earlier of ${project} was live in ${name}.`);
    rollbacks.append(
      h(
        "div",
        { class: "panel", "data-project": project },
        h("p", {}, h("strong", {}, project), ` ${current.release_version} is live (since ${time(current.finished_at)}).`),
        action(label, cannot, async () => {
          if (!previous) return;
          const sure = await confirm(
            `Roll back ${project} in ${name}?`,
            `This deploys release ${previous.release_version} of ${project} to ${name} again, replacing ${current.release_version}. It is recorded as a rollback; history is kept.`,
            `Roll back to ${previous.release_version}`,
          );
          if (!sure) return;
          const answer = await client.POST("/api/v1/environments/{env}/rollback", {
            params: { path: { env: name } },
            body: { project, to_release: previous.release_id },
          });
          if (answer.error || !answer.data) return result.fail(`Refused: ${describe(answer.error)}`);
          location.hash = `#/deployments/${answer.data.id}`;
        }),
        result.element,
      ),
    );
  }
  if (!rollbacks.childElementCount) rollbacks.append(h("p", { class: "muted" }, "Nothing is live here yet."));

  // Point in time.
  const at = h("input", { id: "at", type: "datetime-local", step: 1, name: "at" });
  const position = h("input", { id: "at-position", type: "number", min: 1, name: "position", inputmode: "numeric" });
  const pointResult = h("div", { id: "point-in-time", "aria-live": "polite" });
  const pointForm = h(
    "form",
    { class: "panel" },
    h("p", {}, "Pick a moment (your local time) or a log position to see what was live then, and who approved it."),
    h("div", { class: "row" }, h("div", {}, h("label", { for: "at" }, "Moment"), at), h("div", {}, h("label", { for: "at-position" }, "or log position"), position), h("div", {}, h("button", { type: "submit" }, "Show"))),
    pointResult,
  );
  pointForm.addEventListener("submit", async (submitted) => {
    submitted.preventDefault();
    const moment = position.value.trim() || fromLocalInput(at.value);
    if (!moment) {
      pointResult.replaceChildren(h("div", { class: "alert", role: "alert" }, "Pick a moment or enter a position."));
      return;
    }
    const answer = await client.GET("/api/v1/environments/{env}/state", { params: { path: { env: name }, query: { at: moment } } });
    if (answer.error || !answer.data) {
      pointResult.replaceChildren(h("div", { class: "alert", role: "alert" }, describe(answer.error)));
      return;
    }
    pointResult.replaceChildren(h("p", {}, `${name} as of log position ${answer.data.position}:`), h("div", { class: "scroll" }, liveTable(answer.data)));
  });

  view.replaceChildren(
    h("h1", {}, "Environment ", name),
    h(
      "div",
      { class: "panel" },
      facts([
        ["Description", env.description || "—"],
        ["Approvals required", String(env.approval_policy.required_approvals)],
        ["Soak time", env.soak_seconds ? `${env.soak_seconds} s` : "—"],
        ["Automatic rollback", env.auto_rollback ? "yes" : "no"],
        ["Freezes", env.freezes.length ? env.freezes.map((f) => h("div", {}, f.active_now ? h("span", { class: "badge status-frozen" }, "active") : "", ` ${f.reason}`)) : "none"],
      ]),
    ),
    h("h2", {}, "Roll back"),
    rollbacks,
    h("h2", {}, "Point in time"),
    pointForm,
    h("h2", {}, "History"),
    h(
      "div",
      { class: "scroll" },
      table(["Requested", "Project", "Release", "Kind", "Status", "Requested by", "Approved by", "Finished"], body, { id: "history" }),
    ),
    more,
  );
}
