// A build or a deployment: what it is, its steps, its artifacts (downloadable), its approvals,
// and its log following live while the job runs.
import { describe, followLog, ok, pause, refusal } from "../api.js";
import { action, bytes, duration, facts, h, link, outcome, row, status, table, time, toast } from "../ui.js";
const ENDED = ["succeeded", "failed", "cancelled", "rejected", "superseded", "expired"];
/** The log, streamed into a `<pre>` that keeps the newest line in view while the job runs. */
function logPanel(session, path, signal, onEnd) {
    const pre = h("pre", { class: "log", id: "log", tabindex: 0, "aria-label": "Log", "aria-live": "off" });
    const note = h("p", { class: "muted", id: "log-state" }, "Following the log…");
    void followLog(session, path, (text) => {
        const atBottom = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 40;
        pre.append(text);
        if (atBottom)
            pre.scrollTop = pre.scrollHeight;
    }, signal).then(() => {
        note.textContent = "The job has ended: this is the whole log.";
        onEnd();
    }, (failure) => {
        if (!signal.aborted)
            note.textContent = `The log is not available: ${describe(failure)}`;
    });
    return h("section", { "aria-labelledby": "log-title" }, h("h2", { id: "log-title" }, "Log"), note, pre);
}
function stepsTable(steps) {
    if (steps.length === 0)
        return h("p", { class: "muted" }, "No step has finished yet.");
    return table(["Step", "Outcome", "Exit code", "Duration"], steps.map((step) => row({}, step.name, status(step.outcome), step.exit_code ?? "—", `${step.duration_ms} ms`)));
}
/** Downloads an artifact with the token in a header, then hands the bytes to the browser. */
async function download(session, sha256, name) {
    const response = await fetch(`/api/v1/artifacts/${sha256}`, { headers: { Authorization: `Bearer ${session.token}` } });
    if (!response.ok) {
        toast(`Download refused: ${describe(await response.json().catch(() => response.statusText))}`);
        return;
    }
    const url = URL.createObjectURL(await response.blob());
    const anchor = h("a", { href: url, download: name.split("/").pop() ?? name });
    document.body.append(anchor);
    anchor.click();
    anchor.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
function artifactsTable(session, artifacts) {
    if (artifacts.length === 0)
        return h("p", { class: "muted" }, "No artifacts.");
    return table(["Artifact", "Size", "SHA-256", ""], artifacts.map((artifact) => row({}, artifact.name, bytes(artifact.size), h("code", { title: artifact.sha256 }, artifact.sha256.slice(0, 16), "…"), h("button", { type: "button", class: "secondary", onclick: () => void download(session, artifact.sha256, artifact.name) }, `Download ${artifact.name}`))));
}
/** Keeps `summary` current while the job runs (every 2 s, and once when its log ends). */
function keepCurrent(signal, fetchOne, draw) {
    const refresh = () => void fetchOne().then(draw, () => undefined);
    void (async () => {
        for (;;) {
            await pause(2000, signal);
            if (signal.aborted)
                return;
            const one = await fetchOne().catch(() => null);
            if (!one)
                continue;
            draw(one);
            if (ENDED.includes(one.status))
                return;
        }
    })();
    return refresh;
}
export async function build({ session, client, view, params, signal }) {
    const [id] = params;
    const fetchOne = () => client.GET("/api/v1/builds/{id}", { params: { path: { id } }, signal }).then(ok);
    const first = await fetchOne();
    const summary = h("div", { class: "panel", id: "summary" });
    const steps = h("div", { class: "scroll" });
    const artifacts = h("div", { class: "scroll" });
    const controls = h("div");
    const draw = (one) => {
        summary.replaceChildren(facts([
            ["Status", [status(one.status), one.reason ? ` ${one.reason}` : ""]],
            ["Project", link(`/projects/${encodeURIComponent(one.project)}`, one.project)],
            ["Branch", one.branch],
            ["Commit", h("code", {}, one.commit)],
            ["Queued", time(one.queued_at)],
            ["Started", time(one.started_at)],
            ["Finished", time(one.finished_at)],
            ["Duration", duration(one.started_at, one.finished_at)],
            ["Agent", one.lease ? `${one.lease.agent} (attempt ${one.lease.attempt})` : "—"],
        ]));
        steps.replaceChildren(stepsTable(one.steps));
        artifacts.replaceChildren(artifactsTable(session, one.artifacts));
        const result = outcome();
        controls.replaceChildren(ENDED.includes(one.status)
            ? ""
            : action("Cancel build", refusal(session, "admin"), async () => {
                const answer = await client.POST("/api/v1/builds/{id}/cancel", { params: { path: { id } }, body: { reason: "cancelled from the console" } });
                if (answer.error)
                    result.fail(`Refused: ${describe(answer.error)}`);
                else
                    refresh();
            }), result.element);
    };
    draw(first);
    const refresh = keepCurrent(signal, fetchOne, draw);
    view.replaceChildren(h("h1", {}, `Build #${first.number} of ${first.project}`), summary, controls, h("h2", {}, "Steps"), steps, h("h2", {}, "Artifacts"), artifacts, logPanel(session, `/api/v1/builds/${id}/log`, signal, () => refresh()));
}
export async function deployment({ session, client, view, params, signal }) {
    const [id] = params;
    const fetchOne = () => client.GET("/api/v1/deployments/{id}", { params: { path: { id } }, signal }).then(ok);
    const first = await fetchOne();
    const release = await client.GET("/api/v1/releases/{id}", { params: { path: { id: first.release_id } }, signal }).then(ok);
    const summary = h("div", { class: "panel", id: "summary" });
    const approvals = h("div");
    const steps = h("div", { class: "scroll" });
    const variables = h("div", { class: "scroll" });
    const decide = h("div");
    const draw = (one) => {
        summary.replaceChildren(facts([
            ["Status", [status(one.status), one.reason ? ` ${one.reason}` : ""]],
            ["Project", link(`/projects/${encodeURIComponent(one.project)}`, one.project)],
            ["Release", one.release_version],
            ["Environment", link(`/environments/${encodeURIComponent(one.environment)}`, one.environment)],
            ["Kind", one.kind],
            ["Replaces", one.previous_release_version ?? "—"],
            ["Requested", [time(one.requested_at), ` by ${one.requested_by}`]],
            ["Started", time(one.started_at)],
            ["Finished", time(one.finished_at)],
        ]));
        approvals.replaceChildren(h("p", {}, `${one.approvals.filter((a) => a.decision === "approve").length} of ${one.required_approvals} required approvals.`), one.approvals.length
            ? h("ul", {}, one.approvals.map((a) => h("li", {}, h("strong", {}, a.subject), ` ${a.decision === "approve" ? "approved" : "rejected"}: `, a.comment || h("span", { class: "muted" }, "(no comment)"))))
            : "");
        steps.replaceChildren(stepsTable(one.steps));
        variables.replaceChildren(one.variables.length === 0
            ? h("p", { class: "muted" }, "No variables.")
            : table(["Variable", "Value", "From"], one.variables.map((v) => row({}, v.name, v.sensitive ? h("span", { class: "muted" }, "(sensitive)") : h("code", {}, v.value), v.scope))));
        decide.replaceChildren(one.status === "awaiting_approval" ? decisionForm(session, client, one, () => refresh()) : "");
    };
    draw(first);
    const refresh = keepCurrent(signal, fetchOne, draw);
    view.replaceChildren(h("h1", {}, `Deployment of ${first.project} ${first.release_version} to ${first.environment}`), summary, decide, h("h2", {}, "Approvals"), approvals, h("h2", {}, "Steps"), steps, h("h2", {}, "Variables"), variables, h("h2", {}, "Artifacts"), h("div", { class: "scroll" }, artifactsTable(session, release.artifacts)), logPanel(session, `/api/v1/deployments/${id}/log`, signal, () => refresh()));
}
/** Approve or reject, with a comment (required to reject). */
export function decisionForm(session, client, one, decided) {
    const result = outcome();
    const field = `comment-${one.id}`;
    const comment = h("textarea", { id: field, rows: 2, name: "comment" });
    const why = refusal(session, `approve:${one.environment}`);
    const decideWith = (decision) => async () => {
        const answer = await client.POST("/api/v1/deployments/{id}/approvals", {
            params: { path: { id: one.id } },
            body: { decision, comment: comment.value },
        });
        if (answer.error || !answer.data)
            return result.fail(`Refused: ${describe(answer.error)}`);
        result.done(`${decision === "approve" ? "Approved" : "Rejected"}: the deployment is now ${answer.data.status.replace(/_/g, " ")}.`);
        toast(`${decision === "approve" ? "Approved" : "Rejected"} ${one.project} ${one.release_version} → ${one.environment}`);
        decided();
    };
    return h("form", { class: "panel", "data-deployment": one.id, onsubmit: (event) => event.preventDefault() }, h("p", {}, h("strong", {}, `${one.project} ${one.release_version} → ${one.environment}`), ` requested by ${one.requested_by}, ${time(one.requested_at)}`), h("label", { for: field }, "Comment (required to reject)"), comment, h("div", { class: "row" }, action("Approve", why, decideWith("approve")), action("Reject", why, decideWith("reject"), { class: "danger" })), result.element);
}
