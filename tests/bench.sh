#!/usr/bin/env bash
# Every performance figure of docs/benchmarks.md in one run, on this machine: the event store
# next to a bare rusqlite loop, then the scale benchmark (1,000,000 events: rebuild, start to
# ready with and without the projection checkpoint, peak RSS, an audit query, HTTP reads and
# durable writes next to a bare actix-web handler). With CONVEYOR_TEST_DATABASE_URL set, the
# PostgreSQL store's figures too. Usage: tests/bench.sh [events]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bin conveyor
cargo build --release -p conveyor-store --example store_bench
cargo build --release -p conveyor-system-tests --example scale_bench
uname -srm
grep -m1 "model name" /proc/cpuinfo || true
nproc
echo "== event store (SQLite) =="
target/release/examples/store_bench
if [ -n "${CONVEYOR_TEST_DATABASE_URL:-}" ]; then
  echo "== event store (PostgreSQL) =="
  cargo run --release -q -p conveyor-store --example pg_bench
fi
echo "== scale =="
target/release/examples/scale_bench "${1:-1000000}"
