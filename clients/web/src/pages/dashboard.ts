// The project × environment grid: what is live where, what runs, what waits for approval,
// what is frozen or held. Redrawn whenever the server's dashboard stream sends a new grid.

import { followStream, ok, type Dashboard, type Schemas } from "../api.js";
import type { PageContext } from "../page.js";
import { h, link, status, time } from "../ui.js";

function cell(project: string, environment: string, found: Schemas["DashboardCellDto"] | undefined): HTMLElement {
  const parts: (Node | string)[] = [];
  if (found?.live) {
    parts.push(
      h("div", { class: "cell-live" }, link(`/deployments/${found.live.deployment_id}`, found.live.release_version), " ", h("span", { class: "muted" }, "live")),
    );
  }
  const latest = found?.latest;
  if (latest && latest.deployment_id !== found?.live?.deployment_id) {
    parts.push(h("div", {}, link(`/deployments/${latest.deployment_id}`, latest.release_version), " ", status(latest.status)));
  } else if (found?.live) {
    parts.push(h("div", { class: "muted" }, `since ${time(found.live.at)}`));
  }
  if (found && found.pending_approvals > 0) {
    parts.push(h("div", {}, h("span", { class: "badge status-awaiting_approval" }, `${found.pending_approvals} awaiting approval`)));
  }
  if (found?.frozen) parts.push(h("span", { class: "badge status-frozen" }, "frozen"), " ");
  if (found?.held) parts.push(h("span", { class: "badge status-held" }, "held"));
  if (parts.length === 0) parts.push(h("span", { class: "muted" }, "—"));
  return h("td", { "data-project": project, "data-environment": environment }, parts);
}

export async function dashboard({ session, client, view, signal }: PageContext): Promise<void> {
  const grid = h("div", { class: "scroll" });
  const freshness = h("p", { class: "muted", id: "freshness" });
  view.replaceChildren(h("h1", {}, "Dashboard"), h("p", { class: "muted" }, "Updates live as deployments move."), grid, freshness);

  let shown = -1;
  const draw = (board: Dashboard) => {
    if (board.position === shown) return;
    shown = board.position;
    if (board.projects.length === 0) {
      grid.replaceChildren(h("p", {}, "No projects yet."));
    } else {
      grid.replaceChildren(
        h(
          "table",
          { class: "grid" },
          h("caption", { class: "muted" }, "Projects by environment"),
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Project"), board.environments.map((env) => h("th", { scope: "col" }, link(`/environments/${encodeURIComponent(env)}`, env))))),
          h(
            "tbody",
            {},
            board.projects.map((row) =>
              h("tr", {}, h("th", { scope: "row" }, link(`/projects/${encodeURIComponent(row.project)}`, row.project)), board.environments.map((env) => cell(row.project, env, row.cells[env]))),
            ),
          ),
        ),
      );
    }
    freshness.textContent = `As of log position ${board.position}, ${time(new Date().toISOString())}.`;
  };

  draw(ok(await client.GET("/api/v1/dashboard", { signal })));
  // The server sends the grid again whenever it changes (any token with `read` may follow it).
  void followStream(session, "/api/v1/dashboard/stream", (data) => draw(JSON.parse(data) as Dashboard), signal);
}
