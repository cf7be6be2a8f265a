// The browser loads openapi-fetch's ESM build from ./vendor/openapi-fetch.js (copied there by
// build.mjs); its types are the package's own.
export { default } from "openapi-fetch";
export * from "openapi-fetch";
