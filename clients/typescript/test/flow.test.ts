// Against a live `conveyor serve` started by tests/tests/typescript_client.rs (no built-in
// agent: this test plays the agent through the job protocol). Push → release → promote →
// approve → rollback, and an event-stream subscription that sees it all happen.

import assert from "node:assert/strict";
import { test } from "node:test";

import { createConveyor, streamEvents, type Event } from "../src/index.js";

const url = process.env.CONVEYOR_URL!;
const admin = createConveyor(url, process.env.CONVEYOR_ADMIN_TOKEN!);
const agent = createConveyor(url, process.env.CONVEYOR_AGENT_TOKEN!);
const alice = createConveyor(url, process.env.CONVEYOR_ALICE_TOKEN!);
const auditor = createConveyor(url, process.env.CONVEYOR_AUDITOR_TOKEN!);
const repository = "https://git.example.com/shop.git";

/** Leases the next job, which must be of `kind`, and runs it to success. */
async function runJob(kind: "build" | "deployment"): Promise<string> {
  const { data: job, response } = await agent.POST("/api/v1/agents/lease", { body: { agent: "ts-agent" } });
  assert.equal(response.status, 200, "a job to lease");
  assert.ok(job);
  assert.equal(job.kind, kind);
  const path = { id: job.job_id };
  const lease_id = job.lease.lease_id;
  assert.equal((await agent.POST("/api/v1/jobs/{id}/start", { params: { path }, body: { lease_id } })).response.status, 200);
  for (const step of job.steps) {
    const { response } = await agent.POST("/api/v1/jobs/{id}/steps", {
      params: { path },
      body: { lease_id, name: step.name, outcome: "succeeded", exit_code: 0, duration_ms: 10 },
    });
    assert.equal(response.status, 200);
  }
  const done = await agent.POST("/api/v1/jobs/{id}/complete", { params: { path }, body: { lease_id, outcome: "succeeded" } });
  assert.equal(done.response.status, 200);
  return job.job_id;
}

async function pushAndRelease(commit: string): Promise<string> {
  const push = await admin.POST("/api/v1/pushes", { body: { repository, ref: "refs/heads/main", commit } });
  assert.equal(push.response.status, 202);
  const build = await runJob("build");
  const { data: releases } = await admin.GET("/api/v1/releases", { params: { query: { project: "shop" } } });
  const release = releases?.items.find((r) => r.build_id === build);
  assert.ok(release, "the build was released");
  await runJob("deployment"); // dev, automatically
  return release.id;
}

async function promoteToProduction(release: string): Promise<void> {
  const { data: deployment, response } = await admin.POST("/api/v1/releases/{id}/deployments", {
    params: { path: { id: release } },
    body: { environment: "production" },
  });
  assert.equal(response.status, 201);
  assert.equal(deployment?.status, "awaiting_approval");
  const approved = await alice.POST("/api/v1/deployments/{id}/approvals", {
    params: { path: { id: deployment!.id } },
    body: { decision: "approve", comment: "ship it" },
  });
  assert.equal(approved.response.status, 200);
  await runJob("deployment");
}

test("push, release, promote, approve and roll back, watched on the event stream", async () => {
  const watching = new AbortController();
  const seen: Event[] = [];
  const stream = (async () => {
    for await (const event of streamEvents(url, process.env.CONVEYOR_AUDITOR_TOKEN!, { signal: watching.signal })) {
      seen.push(event);
    }
  })();
  try {
    await flow(seen);
  } finally {
    // However the flow ended, stop following the stream so the test process can exit.
    watching.abort();
    await stream;
  }
});

async function flow(seen: Event[]): Promise<void> {

  for (const [name, approvals] of [["dev", 0], ["production", 1]] as const) {
    const { response } = await admin.POST("/api/v1/environments", {
      body: { name, approval_policy: { required_approvals: approvals } },
    });
    assert.equal(response.status, 201);
  }
  const project = await admin.POST("/api/v1/projects", {
    body: {
      name: "shop",
      repository,
      build_steps: [{ name: "compile", script: "make" }],
      deployment_steps: [{ name: "roll-out", script: "./deploy.sh" }],
      lifecycle: [{ environment: "dev", automatic: true }, { environment: "production" }],
    },
  });
  assert.equal(project.response.status, 201, JSON.stringify(project.error));

  const first = await pushAndRelease("a".repeat(40));
  await promoteToProduction(first);
  const second = await pushAndRelease("b".repeat(40));
  await promoteToProduction(second);

  // A refusal is a typed problem.
  const refused = await admin.POST("/api/v1/releases/{id}/deployments", {
    params: { path: { id: first } },
    body: { environment: "nowhere" },
  });
  assert.equal(refused.response.status, 404);
  assert.match(refused.error?.detail ?? "", /nowhere/);

  const { data: rollback, response } = await admin.POST("/api/v1/environments/{env}/rollback", {
    params: { path: { env: "production" } },
    body: { project: "shop" },
  });
  assert.equal(response.status, 201);
  assert.equal(rollback?.kind, "rollback");
  assert.equal(rollback?.release_id, first);
  await alice.POST("/api/v1/deployments/{id}/approvals", {
    params: { path: { id: rollback!.id } },
    body: { decision: "approve", comment: "roll back" },
  });
  await runJob("deployment");
  const { data: grid } = await admin.GET("/api/v1/dashboard");
  const live = grid?.projects.find((p) => p.project === "shop")?.cells["production"]?.live;
  assert.equal(live?.release_version, "1.0.1");

  // The stream saw every step, in order, with nothing skipped.
  const { data: head } = await auditor.GET("/api/v1/events", { params: { query: { after: 0, limit: 1000 } } });
  const last = head!.items.at(-1)!.position;
  const deadline = Date.now() + 10_000;
  while (seen.length < last && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(
    seen.map((e) => e.position),
    Array.from({ length: last }, (_, i) => i + 1),
  );
  const types = seen.map((e) => e.type);
  for (const type of ["PushReceived", "BuildSucceeded", "ReleaseCreated", "DeploymentApprovalGranted", "DeploymentSucceeded"]) {
    assert.ok(types.includes(type), `the stream carried ${type}`);
  }
  assert.ok(seen.some((e) => e.type === "DeploymentRequested" && (e.payload as { kind?: string }).kind === "rollback"));
}
