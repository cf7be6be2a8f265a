// The audit page: the event log with filters, each event's JSON, and the hash chain's
// verification.
import { describe, ok, refusal } from "../api.js";
import { action, fromLocalInput, h, time } from "../ui.js";
const FILTERS = [
    ["type", "Event types (comma-separated)", "DeploymentApprovalGranted,DeploymentSucceeded"],
    ["stream", "Stream", "environment-production"],
    ["stream_prefix", "Stream prefix", "deployment-"],
    ["actor", "Actor", "alice"],
];
function eventRow(event) {
    return h("li", { "data-position": event.position }, h("details", {}, h("summary", {}, h("strong", {}, `#${event.position}`), ` ${event.type} `, h("span", { class: "muted" }, `${event.stream} · ${event.actor} · ${time(event.recorded_at)}`)), h("pre", { class: "json" }, JSON.stringify(event, null, 2))));
}
export async function audit({ session, client, view }) {
    const why = refusal(session, "audit");
    const verification = h("div", { id: "verification", "aria-live": "polite" });
    const verify = action("Verify the hash chain", why, async () => {
        verification.replaceChildren(h("p", { class: "muted" }, "Verifying…"));
        const answer = await client.GET("/api/v1/events/verify", {});
        if (answer.error || !answer.data) {
            verification.replaceChildren(h("div", { class: "alert", role: "alert" }, describe(answer.error)));
            return;
        }
        const result = answer.data;
        verification.replaceChildren(result.intact
            ? h("div", { class: "ok" }, `Chain intact: ${result.checked} records checked (positions ${result.from} to ${result.to}).`)
            : h("div", { class: "alert", role: "alert" }, `Chain broken at position ${result.first_bad_position ?? "?"}: ${result.reason ?? "unknown reason"}.`));
    });
    if (why) {
        view.replaceChildren(h("h1", {}, "Audit"), h("p", {}, "The event log is for auditors."), verify);
        return;
    }
    const inputs = new Map();
    const fields = FILTERS.map(([name, label, example]) => {
        const input = h("input", { id: `filter-${name}`, name, placeholder: example });
        inputs.set(name, input);
        return h("div", {}, h("label", { for: `filter-${name}` }, label), input);
    });
    const from = h("input", { id: "filter-from", type: "datetime-local", step: 1 });
    const to = h("input", { id: "filter-to", type: "datetime-local", step: 1 });
    const list = h("ol", { id: "events", class: "events" });
    const summary = h("p", { class: "muted", "aria-live": "polite" });
    const error = h("div");
    const more = h("button", { type: "button", class: "secondary", hidden: true }, "More events");
    let after;
    let shown = 0;
    const load = async (fresh) => {
        if (fresh) {
            after = undefined;
            shown = 0;
            list.replaceChildren();
        }
        const value = (name) => inputs.get(name)?.value.trim() || undefined;
        const answer = await client.GET("/api/v1/events", {
            params: {
                query: {
                    after,
                    limit: 100,
                    type: value("type"),
                    stream: value("stream"),
                    stream_prefix: value("stream_prefix"),
                    actor: value("actor"),
                    from: fromLocalInput(from.value) ?? undefined,
                    to: fromLocalInput(to.value) ?? undefined,
                },
            },
        });
        if (answer.error || !answer.data) {
            error.replaceChildren(h("div", { class: "alert", role: "alert" }, describe(answer.error)));
            return;
        }
        error.replaceChildren();
        const page = ok(answer);
        list.append(...page.items.map(eventRow));
        shown += page.items.length;
        after = page.next_cursor ? Number(page.next_cursor) : undefined;
        more.hidden = after === undefined;
        summary.textContent = `${shown} event(s) shown${after === undefined ? "" : ", more to load"}. Open one to see its JSON.`;
    };
    more.addEventListener("click", () => void load(false));
    const form = h("form", { class: "panel", "aria-label": "Filters" }, h("div", { class: "row" }, fields, h("div", {}, h("label", { for: "filter-from" }, "From"), from), h("div", {}, h("label", { for: "filter-to" }, "To"), to)), h("p", {}, h("button", { type: "submit" }, "Apply filters")));
    form.addEventListener("submit", (submitted) => {
        submitted.preventDefault();
        void load(true);
    });
    view.replaceChildren(h("h1", {}, "Audit"), h("div", { class: "panel" }, verify, verification), form, error, summary, list, more);
    await load(true);
}
