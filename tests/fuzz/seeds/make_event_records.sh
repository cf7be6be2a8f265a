#!/usr/bin/env bash
# Makes the seeds of the `event_records` fuzz target from a real log: starts `conveyor serve` on
# a scratch data directory, runs the README's walk-through against it plus a few calls that
# record the event types the walk-through does not (a rejection, a cancel, a block, a freeze, a
# lifecycle, an integration and its webhook delivery, a subscription), exports the log and
# writes it as `<stream>\t<type>\t<payload>` lines: the whole log in one seed, and one seed per
# stream kind. Needs git, jq and curl. Usage: tests/fuzz/seeds/make_event_records.sh [conveyor]
set -euo pipefail
seeds=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$seeds/../../.." && pwd)
bin=${1:-$repo/target/debug/conveyor}
scratch=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$scratch"' EXIT

port=$((20000 + RANDOM % 20000))
export CONVEYOR_DATA_DIR=$scratch/data CONVEYOR_URL=http://127.0.0.1:$port CONVEYOR_BIN=$bin
"$bin" serve --listen "127.0.0.1:$port" >"$scratch/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do curl -sf "$CONVEYOR_URL/healthz" >/dev/null && break; sleep 0.1; done

cd "$scratch"
# The walk-through as the README has it, then the extra calls, in one shell for its helpers.
{
  sed -n '/<!-- walkthrough:start -->/,/<!-- walkthrough:end -->/p' "$repo/README.md" | sed '1,2d;$d' | sed '$d'
  cat <<'EXTRA'
set +e  # the extra calls only add variety to the seeds; one refused is no reason to stop
RELEASER=$(conveyor token --sub releaser --scope "release read")
# A third release, rejected in production, then blocked and unblocked.
echo "shop v3" > "$WORK/shop/VERSION"
git -C "$WORK/shop" -c user.name=dev -c user.email=dev@example.com commit -q -am v3
BUILD=$(push | jq -r '.builds[0].id')
wait_for "builds/$BUILD" succeeded
V3=$(release_of "$BUILD")
wait_for "deployments/$(deployment_of "$V3" dev)" succeeded
DEPLOY=$(call "$ADMIN" -X POST "$URL/releases/$V3/deployments" -d '{"environment":"staging"}' | jq -r .id)
wait_for "deployments/$DEPLOY" succeeded
DEPLOY=$(call "$ADMIN" -X POST "$URL/releases/$V3/deployments" -d '{"environment":"production"}' | jq -r .id)
call "$BOB" -X POST "$URL/deployments/$DEPLOY/approvals" -d '{"decision":"reject","comment":"not today"}' >/dev/null || echo "refused: the call above" >&2
call "$RELEASER" -X POST "$URL/releases/$V3/block" -d '{"reason":"corrupts carts"}' >/dev/null || echo "refused: the call above" >&2
call "$RELEASER" -X POST "$URL/releases/$V3/unblock" -d '{}' >/dev/null || true
# A push whose build is cancelled.
echo "shop v4" > "$WORK/shop/VERSION"
git -C "$WORK/shop" -c user.name=dev -c user.email=dev@example.com commit -q -am v4
BUILD=$(push | jq -r '.builds[0].id')
call "$ADMIN" -X POST "$URL/builds/$BUILD/cancel" -d '{"reason":"superseded"}' >/dev/null || true
# A freeze, a lifecycle, an integration with a delivery, a subscription.
call "$ADMIN" -X POST "$URL/environments/production/freezes" -d "$(jq -n \
  '{cron: "0 22 * * Fri", duration_minutes: 600, timezone: "Europe/Berlin", reason: "weekend"}')" >/dev/null || echo "refused: the call above" >&2
call "$ADMIN" -X POST "$URL/lifecycles" -d '{"name":"standard","phases":[
  {"name":"test","environments":[{"environment":"dev","automatic":true}]},
  {"name":"live","environments":[{"environment":"production"}]}]}' >/dev/null || echo "refused: the call above" >&2
call "$ADMIN" -X POST "$URL/integrations" -d '{"name":"github","host":"github"}' >/dev/null || echo "refused: the call above" >&2
curl -sS -o /dev/null -X POST "$URL/hooks/github" -H 'Content-Type: application/json' \
  -H 'X-GitHub-Event: issues' -H 'X-GitHub-Delivery: seed-1' -d '{"action":"opened"}'
call "$ADMIN" -X POST "$URL/subscriptions" \
  -d '{"url":"http://127.0.0.1:9/events","secret":"seed-secret","event_types":["BuildSucceeded"]}' >/dev/null || echo "refused: the call above" >&2
EXTRA
} >"$scratch/walkthrough.sh"
bash "$scratch/walkthrough.sh" >"$scratch/walkthrough.log" 2>&1 || { tail -n 20 "$scratch/walkthrough.log" "$scratch/server.log" >&2; exit 1; }

export CONVEYOR_SERVER=$CONVEYOR_URL
CONVEYOR_TOKEN=$("$bin" token --sub auditor --scope "read audit")
export CONVEYOR_TOKEN
"$bin" events export >"$scratch/events.jsonl"

out=$seeds/event_records
rm -rf "$out"
mkdir -p "$out"
to_records() { jq -r '[.stream, .type, (.payload | tojson)] | join("\t")'; }
to_records <"$scratch/events.jsonl" >"$out/whole-log"
for kind in environment project lifecycle integration push build release deployment status subscription; do
  jq -c --arg prefix "$kind-" 'select(.stream | startswith($prefix))' "$scratch/events.jsonl" \
    | to_records >"$out/$kind"
  [ -s "$out/$kind" ] || rm "$out/$kind"
done
# The dictionary: every event type and stream kind seen, as libFuzzer tokens.
{
  jq -r '.type' "$scratch/events.jsonl" | sort -u
  jq -r '.stream | split("-")[0] + "-"' "$scratch/events.jsonl" | sort -u
} | sed 's/.*/"&"/' >"$seeds/event_records.dict"
wc -c "$out"/* "$seeds/event_records.dict"
