// Building the page: elements from data (never HTML strings, so nothing the API answers can
// inject markup), statuses, times, buttons that say why they are disabled, confirmations.
/** An element with attributes (`on…` are listeners; `false`/`null` are left out) and children. */
export function h(tag, attributes = {}, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
        if (value === null || value === undefined || value === false)
            continue;
        if (typeof value === "function")
            element.addEventListener(name.slice(2), value);
        else
            element.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
        if (child === null || child === undefined || child === false)
            continue;
        element.append(child instanceof Node ? child : String(child));
    }
    return element;
}
/** A status as a coloured badge with its words (colour is never the only cue). */
export function status(value) {
    return h("span", { class: `badge status-${value}` }, value.replace(/_/g, " "));
}
export function time(value) {
    if (!value)
        return "—";
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? value : date.toLocaleString();
}
export function duration(from, to) {
    if (!from)
        return "—";
    const ms = (to ? new Date(to) : new Date()).getTime() - new Date(from).getTime();
    if (ms < 1000)
        return `${Math.max(ms, 0)} ms`;
    const seconds = Math.round(ms / 1000);
    return seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}
export function bytes(size) {
    if (size < 1024)
        return `${size} B`;
    if (size < 1024 * 1024)
        return `${(size / 1024).toFixed(1)} KiB`;
    return `${(size / 1024 / 1024).toFixed(1)} MiB`;
}
/** A table row: each cell's content in its own `<td>`. */
export function row(attributes, ...cells) {
    return h("tr", attributes, cells.map((cell) => h("td", {}, cell)));
}
/** A table under column headings; `body` is its rows, or a `<tbody>` filled later. */
export function table(columns, body, attributes = {}) {
    return h("table", attributes, h("thead", {}, h("tr", {}, columns.map((title) => h("th", { scope: "col" }, title)))), Array.isArray(body) ? h("tbody", {}, body) : body);
}
/** A definition list of facts. */
export function facts(entries) {
    return h("dl", { class: "facts" }, entries.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value ?? "—")]).flat());
}
/** A button that runs `action`, or a disabled one with the reason next to it and as its description. */
export function action(label, refusal, run, attributes = {}) {
    if (refusal === null)
        return h("button", { type: "button", ...attributes, onclick: () => run() }, label);
    const id = `why-${Math.random().toString(36).slice(2)}`;
    return h("span", {}, h("button", { type: "button", ...attributes, disabled: true, "aria-describedby": id }, label), h("span", { class: "why", id }, refusal));
}
/** A place for an action's outcome: an alert for a refusal, a status line for success. */
export function outcome() {
    const element = h("div", { "aria-live": "polite" });
    return {
        element,
        fail(text) {
            element.replaceChildren(h("div", { class: "alert", role: "alert" }, text));
        },
        done(text) {
            element.replaceChildren(h("div", { class: "ok" }, text));
        },
    };
}
/** Asks to confirm in a modal dialog naming what will happen; resolves true on confirm. */
export function confirm(title, message, confirmLabel) {
    return new Promise((resolve) => {
        const dialog = h("dialog", { "aria-labelledby": "confirm-title" }, h("h2", { id: "confirm-title" }, title), h("p", {}, message));
        const close = (answer) => {
            dialog.close();
            dialog.remove();
            resolve(answer);
        };
        dialog.append(h("div", { class: "row" }, h("button", { type: "button", class: "danger", onclick: () => close(true) }, confirmLabel), h("button", { type: "button", class: "secondary", onclick: () => close(false) }, "Cancel")));
        dialog.addEventListener("cancel", () => close(false));
        document.body.append(dialog);
        dialog.showModal();
    });
}
/** Shows a short message in the corner (announced to screen readers). */
export function toast(text) {
    const place = document.getElementById("toast");
    if (!place)
        return;
    place.textContent = text;
    setTimeout(() => {
        if (place.textContent === text)
            place.textContent = "";
    }, 4000);
}
/** A `datetime-local` value (local time) as RFC 3339 in UTC; `null` when empty or invalid. */
export function fromLocalInput(value) {
    if (!value)
        return null;
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? null : date.toISOString();
}
/** A link inside the console. */
export function link(route, ...children) {
    return h("a", { href: `#${route}` }, ...children);
}
