// What every page gets: the session, the typed client, the element to render into, and a
// signal that aborts when the user leaves the page (stopping its live streams).

import type { Client } from "./vendor/openapi-fetch.js";
import type { paths } from "../../typescript/src/schema.js";
import type { Session } from "./api.js";

export interface PageContext {
  session: Session;
  client: Client<paths>;
  view: HTMLElement;
  signal: AbortSignal;
  /** The route's parameters, decoded (`#/projects/shop` → `["shop"]`). */
  params: string[];
  /** The route's query (`#/audit?type=…`). */
  query: URLSearchParams;
}

export type Page = (context: PageContext) => Promise<void>;
