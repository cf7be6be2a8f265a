#!/usr/bin/env bash
# Runs every fuzz target for N seconds each (default 30), for CI: `tests/fuzz/run.sh [N]`.
#
# Needs a nightly toolchain and cargo-fuzz (`rustup toolchain install nightly`,
# `cargo install cargo-fuzz --locked`). Builds into tests/fuzz/target, apart from the
# workspace's target/. Each target starts from its seeds (the shared webhook fixtures in
# ../shared/fixtures/webhooks beside the repository, or the event records in
# tests/fuzz/seeds/) and grows its own corpus in tests/fuzz/corpus/<target>. A crash, a
# panic, an overflow or a leak fails the run, and its reproducer is left in
# tests/fuzz/artifacts/<target>/ (replay it with `cargo +nightly fuzz run --fuzz-dir tests/fuzz
# <target> <file>`).
set -euo pipefail
seconds=${1:-30}
fuzz_dir=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$fuzz_dir/../.." && pwd)
fixtures=$repo/../shared/fixtures/webhooks
cd "$repo"

if [ ! -d "$fixtures" ]; then
  echo "the webhook fixtures are missing: expected $fixtures" >&2
  exit 1
fi

# Seeds per target: the fixtures of its host, or the event records.
seeds_for() {
  case "$1" in
    webhook_bitbucket_cloud) echo "bitbucket-cloud-*.json" ;;
    webhook_bitbucket_server) echo "bitbucket-server-*.json" ;;
    webhook_github) echo "github-*.json" ;;
    webhook_gitlab) echo "gitlab-*.json" ;;
    *) echo "" ;;
  esac
}

fuzz() {
  local command=$1
  shift
  cargo +nightly fuzz "$command" --fuzz-dir "$fuzz_dir" "$@"
}
fuzz build --target-dir "$fuzz_dir/target"
for target in $(fuzz list); do
  corpus=$fuzz_dir/corpus/$target
  mkdir -p "$corpus" "$fuzz_dir/artifacts/$target"
  pattern=$(seeds_for "$target")
  if [ -n "$pattern" ]; then
    # shellcheck disable=SC2086 # the pattern is a glob on purpose
    cp "$fixtures"/$pattern "$corpus"/
    dictionary=()
  else
    cp "$fuzz_dir"/seeds/"$target"/* "$corpus"/
    dictionary=(-dict="$fuzz_dir/seeds/$target.dict")
  fi
  echo "== $target: ${seconds}s from $(find "$corpus" -type f | wc -l) inputs"
  fuzz run --target-dir "$fuzz_dir/target" "$target" "$corpus" -- \
    -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 "${dictionary[@]}" \
    -artifact_prefix="$fuzz_dir/artifacts/$target/"
done
echo "fuzzing: every target ran ${seconds}s without a crash"
