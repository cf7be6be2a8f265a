// The console's access to the API: the generated types (clients/typescript/src/schema.d.ts)
// and openapi-fetch, so every path, parameter and body is checked against the OpenAPI
// document at compile time; the signed-in token and its scopes; problem answers as text;
// following the event stream and live logs.
import createClient from "./vendor/openapi-fetch.js";
const TOKEN_KEY = "conveyor.token";
function claims(token) {
    const parts = token.split(".");
    if (parts.length !== 3)
        return null;
    try {
        const base64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
        const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
        const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
        const value = JSON.parse(new TextDecoder().decode(bytes));
        return typeof value === "object" && value !== null ? value : null;
    }
    catch {
        return null;
    }
}
/** Reads a pasted token's claims; `null` when it is not a JWT. The server still decides. */
export function sessionFor(token) {
    const found = claims(token.trim());
    if (!found)
        return null;
    const scope = typeof found.scope === "string" ? found.scope : "";
    return {
        token: token.trim(),
        subject: typeof found.sub === "string" ? found.sub : "(no subject)",
        scopes: scope.split(/\s+/).filter(Boolean),
        expires: typeof found.exp === "number" ? new Date(found.exp * 1000) : null,
    };
}
export function currentSession() {
    const token = sessionStorage.getItem(TOKEN_KEY);
    return token ? sessionFor(token) : null;
}
export function signIn(session) {
    sessionStorage.setItem(TOKEN_KEY, session.token);
}
export function signOut() {
    sessionStorage.removeItem(TOKEN_KEY);
}
/**
 * Whether the session's scopes allow `required` (`read`, `deploy:production`, …), as the
 * server decides it: `deploy:*`/`approve:*` cover every environment, `admin` implies `read`.
 */
export function allows(session, required) {
    return session.scopes.some((held) => {
        if (held === required)
            return true;
        if (held === "admin" && required === "read")
            return true;
        const [kind, env] = held.split(":");
        return env === "*" && (kind === "deploy" || kind === "approve") && required.startsWith(`${kind}:`);
    });
}
/** Why a button needing `required` is disabled, or `null` when the session may use it. */
export function refusal(session, required) {
    return allows(session, required) ? null : `Needs the ${required} scope, which your token does not carry.`;
}
/** The typed client for this server, sending the session's token. */
export function api(session) {
    const client = createClient({ baseUrl: location.origin });
    client.use({
        onRequest({ request }) {
            request.headers.set("Authorization", `Bearer ${session.token}`);
            return request;
        },
        onResponse({ response }) {
            if (response.status === 401)
                window.dispatchEvent(new CustomEvent("conveyor:unauthorized"));
            return response;
        },
    });
    return client;
}
/** A problem answer (or anything else that went wrong) as one line for a human. */
export function describe(error) {
    if (error && typeof error === "object" && "title" in error && "detail" in error) {
        const problem = error;
        return `${problem.title}: ${problem.detail}`;
    }
    if (error instanceof Error)
        return error.message;
    return String(error);
}
/** Answers the data of an openapi-fetch result, or throws its problem. */
export function ok(result) {
    if (result.error !== undefined || result.data === undefined) {
        throw result.error ?? new Error(`the server answered ${result.response.status}`);
    }
    return result.data;
}
async function reader(response, onChunk) {
    if (!response.body)
        return;
    const decoder = new TextDecoder();
    const chunks = response.body.getReader();
    for (;;) {
        const { done, value } = await chunks.read();
        if (done)
            break;
        onChunk(decoder.decode(value, { stream: true }));
    }
}
/**
 * Follows a Server-Sent Events stream of the API (over fetch, so the token goes in a header,
 * never in a URL), calling `onMessage` with each message's data, until `signal` aborts. A
 * dropped connection is opened again after two seconds, resuming after the last id seen
 * (`Last-Event-ID`); a 401 signs out.
 */
export async function followStream(session, path, onMessage, signal) {
    let last = null;
    while (!signal.aborted) {
        try {
            const headers = { Authorization: `Bearer ${session.token}`, Accept: "text/event-stream" };
            if (last !== null)
                headers["Last-Event-ID"] = last;
            const response = await fetch(path, { headers, signal });
            if (response.status === 401) {
                window.dispatchEvent(new CustomEvent("conveyor:unauthorized"));
                return;
            }
            if (!response.ok)
                throw new Error(`${path} answered ${response.status}`);
            let buffer = "";
            await reader(response, (text) => {
                buffer += text;
                let end;
                while ((end = buffer.indexOf("\n\n")) >= 0) {
                    const lines = buffer.slice(0, end).split("\n");
                    buffer = buffer.slice(end + 2);
                    const value = (field) => lines.filter((line) => line.startsWith(`${field}:`)).map((line) => line.slice(field.length + 1).trimStart());
                    const data = value("data").join("\n");
                    if (!data)
                        continue; // a keep-alive comment
                    last = value("id")[0] ?? last;
                    onMessage(data);
                }
            });
        }
        catch {
            if (signal.aborted)
                return;
        }
        await pause(2000, signal);
    }
}
/** Streams a log (`…/log?follow=true`) into `onText` until the job ends or `signal` aborts. */
export async function followLog(session, path, onText, signal) {
    const response = await fetch(`${path}?follow=true`, {
        headers: { Authorization: `Bearer ${session.token}`, Accept: "text/plain" },
        signal,
    });
    if (!response.ok) {
        const body = await response.json().catch(() => null);
        throw body ?? new Error(`the log answered ${response.status}`);
    }
    await reader(response, onText);
}
/** Waits `ms`, or less when `signal` aborts. */
export function pause(ms, signal) {
    return new Promise((resolve) => {
        const timer = setTimeout(resolve, ms);
        signal.addEventListener("abort", () => {
            clearTimeout(timer);
            resolve();
        });
    });
}
