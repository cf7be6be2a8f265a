// Conveyor's TypeScript client: the API's types are generated from openapi/openapi.json
// (src/schema.d.ts, by openapi-typescript), requests go through openapi-fetch, so every path,
// parameter and body is checked against the spec at compile time.

import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema.js";

export type { components, paths };
/** One event of the log, as the API answers it. */
export type Event = components["schemas"]["Event"];
/** A problem+json answer. */
export type Problem = components["schemas"]["ProblemDetails"];

/** A client for one server, sending `token` as the bearer token on every request. */
export function createConveyor(baseUrl: string, token: string): Client<paths> {
  const client = createClient<paths>({ baseUrl });
  const auth: Middleware = {
    onRequest({ request }) {
      request.headers.set("Authorization", `Bearer ${token}`);
      return request;
    },
  };
  client.use(auth);
  return client;
}

/**
 * Follows `/api/v1/events/stream` from position `after`, yielding each event as it is
 * committed. Stop it with `signal`. After a dropped connection it resumes where it left off
 * (the last position seen, sent as `Last-Event-ID`).
 */
export async function* streamEvents(
  baseUrl: string,
  token: string,
  options: { after?: number; signal?: AbortSignal } = {},
): AsyncGenerator<Event> {
  let last = options.after ?? 0;
  while (!options.signal?.aborted) {
    let response: Response;
    try {
      response = await fetch(`${baseUrl}/api/v1/events/stream`, {
        headers: {
          Authorization: `Bearer ${token}`,
          Accept: "text/event-stream",
          "Last-Event-ID": String(last),
        },
        signal: options.signal,
      });
    } catch (error) {
      if (options.signal?.aborted) return;
      throw error;
    }
    if (!response.ok || !response.body) {
      throw new Error(`the event stream answered ${response.status}: ${await response.text()}`);
    }
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of response.body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = frame
            .split("\n")
            .filter((line) => line.startsWith("data:"))
            .map((line) => line.slice(5).trimStart())
            .join("\n");
          if (!data) continue; // a keep-alive comment
          const event = JSON.parse(data) as Event;
          last = event.position;
          yield event;
        }
      }
    } catch (error) {
      if (options.signal?.aborted) return;
      throw error;
    }
  }
}
