// A project: its builds (status, duration) and releases (where each is deployed), with a
// promote button per environment of the release's lifecycle.

import { describe, ok, refusal, type Release } from "../api.js";
import type { PageContext } from "../page.js";
import { action, duration, facts, h, link, outcome, row, status, table, time } from "../ui.js";

/** How many builds and releases the page lists. */
const SHOWN = 50;

function environmentsOf(release: Release): string[] {
  return release.lifecycle.phases.flatMap((phase) => phase.environments.map((stage) => stage.environment));
}

export async function project({ session, client, view, params, signal }: PageContext): Promise<void> {
  const [name] = params;
  // Lists run oldest first: read every page, show the newest.
  const everything = async <T>(page: (after?: number) => Promise<{ items: T[]; next_cursor?: string | null }>) => {
    const items: T[] = [];
    let after: number | undefined;
    for (;;) {
      const next = await page(after);
      items.push(...next.items);
      if (!next.next_cursor) return items.reverse();
      after = Number(next.next_cursor);
    }
  };
  const query = (after?: number) => ({ params: { query: { project: name, after, limit: 500 } }, signal });
  const [found, allBuilds, allReleases] = await Promise.all([
    client.GET("/api/v1/projects/{project}", { params: { path: { project: name } }, signal }).then(ok),
    everything((after) => client.GET("/api/v1/builds", query(after)).then(ok)),
    everything((after) => client.GET("/api/v1/releases", query(after)).then(ok)),
  ]);
  const builds = allBuilds.slice(0, SHOWN);
  const releases = allReleases.slice(0, SHOWN);
  const count = (shown: number, all: number, what: string) =>
    h("p", { class: "muted" }, shown < all ? `The newest ${shown} of ${all} ${what}.` : `${all} ${what}, newest first.`);

  const promote = (release: Release, environment: string) => {
    const result = outcome();
    const button = action(
      `Promote to ${environment}`,
      release.blocked ? `Blocked: ${release.blocked}` : refusal(session, `deploy:${environment}`),
      async () => {
        const answer = await client.POST("/api/v1/releases/{id}/deployments", {
          params: { path: { id: release.id } },
          body: { environment },
        });
        if (answer.error || !answer.data) return result.fail(`Refused: ${describe(answer.error)}`);
        location.hash = `#/deployments/${answer.data.id}`;
      },
      { "data-promote": environment },
    );
    return h("div", {}, button, result.element);
  };

  view.replaceChildren(
    h("h1", {}, "Project ", name),
    h(
      "div",
      { class: "panel" },
      facts([
        ["Repository", found.repository],
        ["Branch", found.branch],
        ["Description", found.description || "—"],
      ]),
    ),
    h("h2", {}, "Releases"),
    count(releases.length, allReleases.length, "releases"),
    releases.length === 0
      ? h("p", {}, "No releases yet.")
      : h(
          "div",
          { class: "scroll" },
          table(
            ["Version", "Created", "Deployed to", "Promote"],
            releases.map((release) =>
              row(
                { "data-release": release.version },
                [h("strong", {}, release.version), release.blocked && " ", release.blocked && h("span", { class: "badge status-failed" }, "blocked")],
                [time(release.created_at), h("span", { class: "why" }, `by ${release.created_by}`)],
                release.succeeded_in.length ? release.succeeded_in.join(", ") : h("span", { class: "muted" }, "nowhere yet"),
                environmentsOf(release).map((environment) => promote(release, environment)),
              ),
            ),
          ),
        ),
    h("h2", {}, "Builds"),
    count(builds.length, allBuilds.length, "builds"),
    builds.length === 0
      ? h("p", {}, "No builds yet.")
      : h(
          "div",
          { class: "scroll" },
          table(
            ["Build", "Status", "Branch", "Commit", "Queued", "Duration"],
            builds.map((one) =>
              row(
                {},
                link(`/builds/${one.id}`, `#${one.number}`),
                status(one.status),
                one.branch,
                h("code", {}, one.commit.slice(0, 12)),
                time(one.queued_at),
                duration(one.started_at, one.finished_at),
              ),
            ),
          ),
        ),
  );
}
