#!/usr/bin/env bash
# Regenerates conveyor_client/ from the committed OpenAPI document. Needs the tools of
# requirements-dev.txt on PATH (the system test `tests/tests/python_client.rs` makes a virtual
# environment with them and runs this). Usage: generate.sh [output directory]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/conveyor_client}"
rm -rf "$out"
openapi-python-client generate \
  --path "$here/../../openapi/openapi.json" \
  --meta none \
  --output-path "$out"
# The generator formats with ruff, which leaves its cache behind: not part of the client.
rm -rf "$out/.ruff_cache"
