// The console's shell: sign-in by pasted token, the navigation, and a hash router that renders
// one page at a time (routes live after `#`, so the server only ever serves `/`).

import { api, currentSession, describe, sessionFor, signIn, signOut, type Session } from "./api.js";
import type { Page } from "./page.js";
import { h } from "./ui.js";
import { approvals } from "./pages/approvals.js";
import { audit } from "./pages/audit.js";
import { build, deployment } from "./pages/jobs.js";
import { dashboard } from "./pages/dashboard.js";
import { environment, environments } from "./pages/environments.js";
import { project } from "./pages/project.js";

const routes: [RegExp, Page, string][] = [
  [/^\/$/, dashboard, "Dashboard"],
  [/^\/projects\/([^/]+)$/, project, "Project"],
  [/^\/builds\/([^/]+)$/, build, "Build"],
  [/^\/deployments\/([^/]+)$/, deployment, "Deployment"],
  [/^\/approvals$/, approvals, "Approvals"],
  [/^\/environments$/, environments, "Environments"],
  [/^\/environments\/([^/]+)$/, environment, "Environment"],
  [/^\/audit$/, audit, "Audit"],
];

const NAV: [string, string][] = [
  ["/", "Dashboard"],
  ["/approvals", "Approvals"],
  ["/environments", "Environments"],
  ["/audit", "Audit"],
];

let leaving = new AbortController();

function main(): HTMLElement {
  return document.getElementById("main") as HTMLElement;
}

function signInPage(reason?: string): void {
  document.getElementById("nav")?.replaceChildren();
  document.getElementById("who")?.replaceChildren();
  const error = h("div", { "aria-live": "polite" });
  const field = h("textarea", {
    id: "token",
    name: "token",
    rows: 5,
    autocomplete: "off",
    spellcheck: "false",
    required: true,
  });
  const form = h(
    "form",
    { class: "panel", "aria-labelledby": "sign-in-title" },
    h("h1", { id: "sign-in-title" }, "Sign in to Conveyor"),
    h("p", {}, "Paste an API token (a JWT). It stays in this browser tab's session storage and is sent only in the Authorization header."),
    h("label", { for: "token" }, "Token"),
    field,
    h("p", {}, h("button", { type: "submit" }, "Sign in")),
    error,
  );
  if (reason) error.replaceChildren(h("div", { class: "alert", role: "alert" }, reason));
  form.addEventListener("submit", async (submitted) => {
    submitted.preventDefault();
    const session = sessionFor(field.value);
    const fail = (text: string) => error.replaceChildren(h("div", { class: "alert", role: "alert" }, text));
    if (!session) return fail("That is not a JWT: a token has three dot-separated parts.");
    // Any valid token may list its own approvals: the server says whether it accepts the token.
    const answer = await fetch("/api/v1/approvals", { headers: { Authorization: `Bearer ${session.token}` } }).catch(
      () => null,
    );
    if (!answer) return fail("The server could not be reached.");
    if (!answer.ok) {
      return fail(`The server refused the token. ${describe(await answer.json().catch(() => answer.statusText))}`);
    }
    signIn(session);
    location.hash = "#/";
    render();
  });
  main().replaceChildren(form);
  field.focus();
}

function chrome(session: Session, path: string): void {
  document.getElementById("nav")?.replaceChildren(
    ...NAV.map(([route, label]) => {
      const current = route === "/" ? path === "/" : path.startsWith(route);
      return h("a", { href: `#${route}`, "aria-current": current ? "page" : null }, label);
    }),
  );
  document.getElementById("who")?.replaceChildren(
    h("span", { title: `Scopes: ${session.scopes.join(" ") || "none"}` }, "Signed in as ", h("strong", { id: "subject" }, session.subject)),
    h("button", {
      type: "button",
      onclick: () => {
        signOut();
        signInPage();
      },
    }, "Sign out"),
  );
}

async function render(): Promise<void> {
  leaving.abort();
  leaving = new AbortController();
  const session = currentSession();
  if (!session) return signInPage();
  if (session.expires && session.expires.getTime() < Date.now()) {
    signOut();
    return signInPage("Your token has expired: paste a fresh one.");
  }
  const [path, search] = (location.hash.slice(1) || "/").split("?");
  chrome(session, path);
  const view = main();
  const route = routes.find(([pattern]) => pattern.test(path));
  if (!route) {
    view.replaceChildren(h("h1", {}, "Not found"), h("p", {}, `Nothing lives at ${path}.`));
    return;
  }
  const [pattern, page, title] = route;
  document.title = `${title} · Conveyor`;
  const params = (pattern.exec(path) ?? []).slice(1).map(decodeURIComponent);
  view.replaceChildren(h("p", { class: "muted" }, "Loading…"));
  const signal = leaving.signal;
  try {
    await page({ session, client: api(session), view, signal, params, query: new URLSearchParams(search ?? "") });
  } catch (failure) {
    if (signal.aborted) return;
    view.replaceChildren(h("h1", {}, title), h("div", { class: "alert", role: "alert" }, describe(failure)));
  }
}

// The skip link moves focus to the content without touching the route in the fragment.
document.querySelector(".skip")?.addEventListener("click", (clicked) => {
  clicked.preventDefault();
  main().focus();
});
window.addEventListener("hashchange", () => {
  void render();
  main().focus();
});
window.addEventListener("conveyor:unauthorized", () => {
  signOut();
  leaving.abort();
  signInPage("The server no longer accepts your token (expired or revoked): paste a fresh one.");
});
void render();
