#!/usr/bin/env bash
# Conformance: schemathesis (PyPI, installed by scripts/prepare-test-tools.sh) against the demo
# gateway's own /openapi.json, every operation, every check, failing on any finding. The
# gateway runs over the simulators with a key, as deployed.
# Usage: scripts/conformance.sh [MAX_EXAMPLES_PER_OPERATION]   (default 150: > 1000 requests)
set -euo pipefail
cd "$(dirname "$0")/.."

max_examples=${1:-150}
scripts/prepare-test-tools.sh
# shellcheck disable=SC1091
source target/test-tools/env.sh
cargo build --locked --quiet

out=target/conformance
mkdir -p "$out"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
sim_port=$(free_port)
port=$(free_port)
# The gateway as deployed: the demo's four sources over the simulators, with a key, so the
# spec's bearer security is checked too (schemathesis sends the key, and tries without it).
key="conformance-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
cat > "$out/gateway.toml" <<TOML
[server]
listen = "127.0.0.1:$port"

[auth]
api_keys = ["$key"]

[[sources]]
name = "sales"
vendor = "megaview"
base_url = "http://127.0.0.1:$sim_port/megaview"
app_key = "demo-megaview-app-key"
app_secret = "demo-megaview-app-secret"
transcript_hosts = ["127.0.0.1:$sim_port"]

[[sources]]
name = "assistant"
vendor = "gptbots"
base_url = "http://127.0.0.1:$sim_port/gptbots"
api_key = "demo-gptbots-api-key"

[[sources]]
name = "helpdesk"
vendor = "udesk"
base_url = "http://127.0.0.1:$sim_port/udesk"
email = "admin@demo.udesk.cn"
api_token = "demo-udesk-api-token"
robot_id = 83

[[sources]]
name = "inbox"
vendor = "jijyun"
base_url = "http://127.0.0.1:$sim_port/jijyun"
api_key = "demo-jijyun-api-key"
TOML
RUST_LOG=warn target/debug/conversation-gateway sandbox --listen "127.0.0.1:$sim_port" > "$out/sandbox.log" 2>&1 &
sandbox=$!
RUST_LOG=warn target/debug/conversation-gateway serve --config "$out/gateway.toml" > "$out/gateway.log" 2>&1 &
gateway=$!
trap 'kill "$gateway" "$sandbox" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done

rm -f "$out"/report.json
"$SCHEMATHESIS" --config-file scripts/schemathesis.toml run "http://127.0.0.1:$port/openapi.json" \
  --header "Authorization: Bearer $key" \
  --checks all --max-examples "$max_examples" --seed 20261122 --workers 2 \
  --report json --report-json-path "$out/report.json" --output-truncate true

generated=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["test_cases"]["generated"])' "$out/report.json")
echo "conformance: $generated generated requests, no failures"
if [ "$generated" -lt 1000 ]; then
  echo "conformance: fewer than 1000 generated requests" >&2
  exit 1
fi
