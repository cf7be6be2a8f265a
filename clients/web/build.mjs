// Builds the console into dist/ (or the directory given as the first argument): compiles
// src/ with tsc, copies static/ and openapi-fetch's ESM build (with its licence) into it.
// The output is committed; a system test rebuilds it and fails when it differs.
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] ?? join(here, "dist"));
rmSync(out, { recursive: true, force: true });
execFileSync(process.execPath, [join(here, "node_modules/typescript/bin/tsc"), "-p", here, "--outDir", out], {
  stdio: "inherit",
});
cpSync(join(here, "static"), out, { recursive: true });
mkdirSync(join(out, "vendor"), { recursive: true });
// Without its source map comment: the map is not shipped.
const fetchClient = readFileSync(join(here, "node_modules/openapi-fetch/dist/index.mjs"), "utf8");
writeFileSync(join(out, "vendor/openapi-fetch.js"), fetchClient.replace(/\n\/\/# sourceMappingURL=.*\n?$/, "\n"));
cpSync(join(here, "node_modules/openapi-fetch/LICENSE"), join(out, "vendor/openapi-fetch.LICENSE"));
