#!/usr/bin/env bash
# Regenerates conveyor_client/ from the committed OpenAPI document. Needs the tools of
# requirements-dev.txt on PATH (the system test `tests/tests/python_client.rs` makes a virtual
# environment with them and runs this). Usage: generate.sh [output directory]
#
# The generator formats its output with ruff, whose settings depend on the nearest
# pyproject.toml; generating in a scratch directory first makes the result the same wherever
# the output goes.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/conveyor_client}"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
openapi-python-client generate \
  --path "$here/../../openapi/openapi.json" \
  --meta none \
  --output-path "$scratch/conveyor_client"
# ruff leaves its cache behind: not part of the client.
rm -rf "$scratch/conveyor_client/.ruff_cache"
rm -rf "$out"
mv "$scratch/conveyor_client" "$out"
