// The console in a real browser (Debian's Chromium through playwright-core) against a live
// `conveyor serve` with its built-in agent, set up by tests/tests/web_console.rs, which passes:
// CONVEYOR_URL, CONVEYOR_OPS_TOKEN (admin read audit push release deploy:*),
// CONVEYOR_ALICE_TOKEN (read approve:production), CONVEYOR_GATE (the file whose creation lets
// the running build finish), CONVEYOR_REPOSITORY and CONVEYOR_COMMIT (what to push),
// CONVEYOR_SCREENSHOTS (where screenshots go) and CHROMIUM (the browser).
//
// Signs in, follows a running build's log, sees the dashboard (as a reader without the audit
// scope) update without a reload when the deployment to dev succeeds, promotes to production and approves it from Alice's inbox,
// rolls back with a confirmation naming the release, reads the point-in-time view, and checks
// the audit page's filters, event JSON and chain verification.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const env = (name) => {
  const value = process.env[name];
  assert.ok(value, `${name} is set by tests/tests/web_console.rs`);
  return value;
};
const url = env("CONVEYOR_URL");
const ops = env("CONVEYOR_OPS_TOKEN");
const alice = env("CONVEYOR_ALICE_TOKEN");
const shots = env("CONVEYOR_SCREENSHOTS");
const TIMEOUT = 60_000;

async function call(method, path, token, body) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  assert.ok(response.ok, `${method} ${path} answered ${response.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Polls `probe` until it answers something truthy (the deadline fails the test). */
async function eventually(what, probe) {
  const deadline = Date.now() + TIMEOUT;
  for (;;) {
    const found = await probe();
    if (found) return found;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function signIn(page, token) {
  await page.goto(url);
  await page.getByLabel("Token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Dashboard" }).waitFor();
}

/** A browser tab that fails the test on any script error or CSP violation. */
async function tab(browser, errors, tabs, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  tabs.push(page);
  page.setDefaultTimeout(TIMEOUT);
  page.on("pageerror", (error) => errors.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error" && !message.text().includes("the server responded with a status of")) {
      errors.push(`console error: ${message.text()}`);
    }
  });
  return page;
}

/** `at` in the browser's local time as a datetime-local value with seconds. */
function localInput(at) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`;
}

test("the console drives a release from push to rollback in a real browser", { timeout: 300_000 }, async () => {
  rmSync(shots, { recursive: true, force: true });
  mkdirSync(shots, { recursive: true });
  const page = await fetch(url);
  const policy = page.headers.get("content-security-policy") ?? "";
  assert.match(policy, /default-src 'self'/, "the console is served under a strict CSP");
  assert.match(await page.text(), /<script type="module" src="\/assets\/app.js">/);

  const browser = await chromium.launch({ executablePath: env("CHROMIUM"), args: ["--no-sandbox"] });
  const errors = [];
  const tabs = [];
  try {
    // Sign-in refuses what is not a token, then accepts Ops's.
    const dashboard = await tab(browser, errors, tabs);
    await dashboard.goto(url);
    await dashboard.getByLabel("Token").fill("not-a-token");
    await dashboard.getByRole("button", { name: "Sign in" }).click();
    await dashboard.getByRole("alert").filter({ hasText: "not a JWT" }).waitFor();
    const [header, payload] = ops.split(".");
    await dashboard.getByLabel("Token").fill(`${header}.${payload}.${"A".repeat(43)}`);
    await dashboard.getByRole("button", { name: "Sign in" }).click();
    await dashboard.getByRole("alert").filter({ hasText: "The server refused the token" }).waitFor();
    // The dashboard is watched by Alice, whose token may read but not follow the audit log.
    await signIn(dashboard, alice);
    assert.equal(await dashboard.locator("#subject").textContent(), "alice");
    assert.equal(
      await dashboard.evaluate(() => JSON.stringify(sessionStorage).includes(".") && !location.href.includes("ey")),
      true,
      "the token is in session storage, never in the URL",
    );
    const devCell = dashboard.locator('td[data-project="shop"][data-environment="dev"]');
    const productionCell = dashboard.locator('td[data-project="shop"][data-environment="production"]');
    await devCell.waitFor();
    /** The grid cell's live release (not merely some text in the cell) is `version`. */
    const live = (cell, version) => cell.locator(".cell-live", { hasText: `${version} live` }).waitFor();
    assert.equal((await devCell.textContent()).trim(), "—");
    await dashboard.evaluate(() => {
      window.stayed = true;
    });

    // A push queues a build; its page follows the log while the step runs.
    const pushed = await call("POST", "/api/v1/pushes", ops, {
      repository: env("CONVEYOR_REPOSITORY"),
      ref: "refs/heads/main",
      commit: env("CONVEYOR_COMMIT"),
    });
    const buildId = pushed.builds[0].id;
    const work = await tab(browser, errors, tabs);
    await signIn(work, ops);
    await work.goto(`${url}/#/projects/shop`);
    await work.getByRole("link", { name: "#1" }).click();
    await work.getByRole("heading", { name: "Build #1 of shop" }).waitFor();
    assert.ok(work.url().endsWith(`#/builds/${buildId}`));
    await work.locator("#log").filter({ hasText: "building shop" }).waitFor();
    await work.locator("#summary .badge", { hasText: "running" }).waitFor();
    assert.doesNotMatch(await work.locator("#log").textContent(), /gate open/);
    await work.screenshot({ path: join(shots, "build-log.png") });
    writeFileSync(env("CONVEYOR_GATE"), "open");
    await work.locator("#log").filter({ hasText: "gate open" }).waitFor();
    await work.locator("#summary .badge", { hasText: "succeeded" }).waitFor();
    await work.locator("#log-state", { hasText: "The job has ended" }).waitFor();

    // Its artifact downloads with the token.
    const [download] = await Promise.all([
      work.waitForEvent("download"),
      work.getByRole("button", { name: "Download out.txt" }).click(),
    ]);
    assert.equal(readFileSync(await download.path(), "utf8"), "shop artifact\n");

    // The release 1.0.1 goes to dev by itself; the dashboard shows it without a reload.
    await live(devCell, "1.0.1");
    assert.equal(await dashboard.evaluate(() => window.stayed), true, "the dashboard did not reload");

    // Alice may not promote: the button says why. Ops promotes 1.0.1 to production.
    const inbox = await tab(browser, errors, tabs);
    await signIn(inbox, alice);
    await inbox.goto(`${url}/#/projects/shop`);
    const refused = inbox.locator('tr[data-release="1.0.1"] button[data-promote="production"]');
    assert.equal(await refused.isDisabled(), true);
    const reason = await inbox.locator(`#${await refused.getAttribute("aria-describedby")}`).textContent();
    assert.match(reason, /deploy:production/);
    await work.goto(`${url}/#/projects/shop`);
    await work.locator('tr[data-release="1.0.1"] button[data-promote="production"]').click();
    await work.getByRole("heading", { name: "Deployment of shop 1.0.1 to production" }).waitFor();
    await work.locator("#summary .badge", { hasText: "awaiting approval" }).waitFor();
    await productionCell.filter({ hasText: "1 awaiting approval" }).waitFor();
    await dashboard.screenshot({ path: join(shots, "dashboard.png") });

    // Alice approves it from her inbox.
    await inbox.getByRole("link", { name: "Approvals" }).click();
    const card = inbox.locator("form", { hasText: "shop 1.0.1 → production" });
    await card.getByLabel("Comment").fill("ship it");
    await inbox.screenshot({ path: join(shots, "approvals.png"), fullPage: true });
    await card.getByRole("button", { name: "Approve" }).click();
    await card.locator(".ok", { hasText: "Approved" }).waitFor();
    await live(productionCell, "1.0.1");
    const first = (await call("GET", "/api/v1/deployments?environment=production", ops)).items.find(
      (one) => one.status === "succeeded",
    );
    assert.deepEqual(first.approvals.map((a) => [a.subject, a.comment]), [["alice", "ship it"]]);

    // A moment while 1.0.1 is live in production, then 2.0.0 goes there (through the API).
    const moment = new Date(Math.ceil(new Date(first.finished_at).getTime() / 1000) * 1000);
    const second = await call("POST", "/api/v1/releases", ops, { build_id: buildId, version: "2.0.0" });
    await eventually("2.0.0 in dev", async () =>
      (await call("GET", `/api/v1/releases/${second.id}`, ops)).succeeded_in.includes("dev"),
    );
    await eventually("the clock to pass the moment", async () => Date.now() > moment.getTime() + 1000);
    const promoted = await call("POST", `/api/v1/releases/${second.id}/deployments`, ops, { environment: "production" });
    await call("POST", `/api/v1/deployments/${promoted.id}/approvals`, alice, { decision: "approve", comment: "2.0.0 too" });
    await live(productionCell, "2.0.0");

    // A refusal is shown where the button was: production is frozen for promotions.
    const frozen = await call("POST", "/api/v1/environments/production/freezes", ops, {
      reason: "release party",
      start: new Date(Date.now() - 60_000).toISOString(),
      end: new Date(Date.now() + 3_600_000).toISOString(),
    });
    await productionCell.filter({ hasText: "frozen" }).waitFor();
    await work.goto(`${url}/#/projects/shop`);
    await work.locator('tr[data-release="1.0.1"] button[data-promote="production"]').click();
    const refusal = work.locator('tr[data-release="1.0.1"] [role="alert"]');
    await refusal.waitFor();
    assert.match(await refusal.textContent(), /^Refused: .*release party/);
    await call("POST", `/api/v1/environments/production/freezes/${frozen.freezes[0].id}/remove`, ops);

    // Roll back from the environment page: the confirmation names the release.
    await work.goto(`${url}/#/environments/production`);
    await work.getByRole("button", { name: "Roll back shop to 1.0.1" }).click();
    const dialog = work.getByRole("dialog");
    await dialog.waitFor();
    assert.match(await dialog.textContent(), /deploys release 1\.0\.1 of shop to production again, replacing 2\.0\.0/);
    await work.screenshot({ path: join(shots, "rollback.png") });
    await dialog.getByRole("button", { name: "Roll back to 1.0.1" }).click();
    await work.getByRole("heading", { name: "Deployment of shop 1.0.1 to production" }).waitFor();
    await work.locator("#summary", { hasText: "rollback" }).waitFor();
    // The inbox shows the rollback by itself: it refreshes.
    const rollbackId = work.url().split("#/deployments/")[1];
    const rollbackCard = inbox.locator(`form[data-deployment="${rollbackId}"]`, { hasText: "shop 1.0.1 → production" });
    await rollbackCard.getByLabel("Comment").fill("back to 1.0.1");
    await rollbackCard.getByRole("button", { name: "Approve" }).click();
    await rollbackCard.locator(".ok", { hasText: "Approved" }).waitFor();
    await work.locator("#summary .badge", { hasText: "succeeded" }).waitFor();
    await live(productionCell, "1.0.1");

    // Point in time: at the moment picked, 1.0.1 was live, approved by Alice.
    await work.goto(`${url}/#/environments/production`);
    await work.locator("#history").filter({ hasText: "rollback" }).waitFor();
    await work.getByLabel("Moment").fill(localInput(moment));
    await work.getByRole("button", { name: "Show" }).click();
    const then = work.locator('#point-in-time tr[data-project="shop"]');
    await then.waitFor();
    const row = await then.textContent();
    assert.match(row, /1\.0\.1/);
    assert.match(row, /alice approved: ship it/);
    assert.doesNotMatch(row, /2\.0\.0/);
    await work.screenshot({ path: join(shots, "environment.png"), fullPage: true });

    // Audit: filter by type, open an event's JSON, verify the chain.
    await work.getByRole("link", { name: "Audit" }).click();
    await work.locator("#events li").first().waitFor();
    await work.getByLabel("Event types (comma-separated)").fill("DeploymentApprovalGranted");
    await work.getByRole("button", { name: "Apply filters" }).click();
    await eventually("the filtered list", async () => (await work.locator("#events li").count()) === 3);
    for (const summary of await work.locator("#events summary").allTextContents()) {
      assert.match(summary, /DeploymentApprovalGranted/);
    }
    await work.locator("#events summary").first().click();
    const json = JSON.parse(await work.locator("#events pre").first().textContent());
    assert.equal(json.type, "DeploymentApprovalGranted");
    assert.equal(json.actor, "alice");
    await work.getByRole("button", { name: "Verify the hash chain" }).click();
    await work.locator("#verification .ok", { hasText: "Chain intact" }).waitFor();
    await work.screenshot({ path: join(shots, "audit.png"), fullPage: true });

    // Alice has no audit scope: the button says why.
    await inbox.goto(`${url}/#/audit`);
    const verify = inbox.getByRole("button", { name: "Verify the hash chain" });
    assert.equal(await verify.isDisabled(), true);
    await inbox.getByText("Needs the audit scope").waitFor();

    // Narrow screens: nothing wider than the viewport; every field has a label.
    const phone = await tab(browser, errors, tabs, { width: 360, height: 740 });
    await signIn(phone, ops);
    for (const route of ["/", "/projects/shop", "/environments/production", "/audit", `/builds/${buildId}`]) {
      await phone.goto(`${url}/#${route}`);
      await phone.locator("main h1").first().waitFor();
      await phone.waitForLoadState("networkidle").catch(() => undefined);
      const [scrollWidth, width] = await phone.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
      assert.ok(scrollWidth <= width, `${route} is ${scrollWidth}px wide on a ${width}px screen`);
      const unlabelled = await phone.evaluate(() =>
        [...document.querySelectorAll("input, textarea, select")]
          .filter((field) => !(field.labels?.length || field.getAttribute("aria-label")))
          .map((field) => field.outerHTML),
      );
      assert.deepEqual(unlabelled, [], `every field on ${route} has a label`);
    }
    await phone.goto(`${url}/#/`);
    await phone.locator('td[data-project="shop"]').first().waitFor();
    await phone.screenshot({ path: join(shots, "dashboard-narrow.png"), fullPage: true });

    // Keyboard: the skip link is the first stop and leads to the content, route unchanged.
    await phone.reload();
    await phone.locator('td[data-project="shop"]').first().waitFor();
    await phone.keyboard.press("Tab");
    assert.equal(await phone.evaluate(() => document.activeElement?.textContent), "Skip to content");
    await phone.keyboard.press("Enter");
    assert.equal(await phone.evaluate(() => document.activeElement?.id), "main");
    assert.ok(phone.url().endsWith("#/"), phone.url());
    await phone.keyboard.press("Tab");
    assert.equal(await phone.evaluate(() => document.activeElement?.textContent), "dev", "then the first link in the content: the grid's first environment");
  } catch (failure) {
    // What each tab showed when it failed, for whoever reads the report.
    for (const [index, page] of tabs.entries()) {
      await page.screenshot({ path: join(shots, `failure-tab-${index}.png`), fullPage: true }).catch(() => undefined);
      const text = await page.locator("main").innerText().catch(() => "(unreadable)");
      console.error(`tab ${index} at ${page.url()}:\n${text}\n`);
    }
    throw failure;
  } finally {
    await browser.close();
  }
  assert.deepEqual(errors, [], "no script errors or blocked resources");
});
