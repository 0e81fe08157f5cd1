#!/usr/bin/env bash
# A/B of the gateway's own CPU per request: the release binary of REV against this tree's,
# alternated ROUNDS times per time-sliced source in one run. Between runs of the full
# benchmark CPU per request moves by up to a third on a shared machine; alternating the two
# binaries, with the gateway pinned to one core and the simulators and wrk to another,
# makes that noise hit both alike.
# Usage: scripts/bench-ab.sh [REV] [ROUNDS] [SECONDS]   (defaults: HEAD~1, 3, 6); AB_SOURCES
# picks sources (default: assistant sales helpdesk inbox).
# Each run: wrk at 32 connections for SECONDS, every request a window of its own (so no
# vendor call is shared), cache off, quotas out of the way; CPU from /proc/<pid>/stat.
# REV is built once into target/ab (its own target directory, so this tree's is untouched).
# With nginx installed (scripts/bench.sh installs it), `assistant` also gets a baseline row:
# a one-worker nginx pinned like the gateway, making the same GPTBots list call and
# taking turns with the two binaries.
set -euo pipefail
cd "$(dirname "$0")/.."

rev=${1:-HEAD~1}
rounds=${2:-3}
seconds=${3:-6}
command -v wrk >/dev/null 2>&1 || { echo "bench-ab: needs wrk (scripts/bench.sh installs it)" >&2; exit 1; }

work=$(mktemp -d)
cleanup() {
  pkill -P $$ 2>/dev/null || true
  git worktree remove --force "$work/rev" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "bench-ab: building this tree and $rev in release mode" >&2
cargo build --release --locked -q --bin conversation-gateway
cp target/release/conversation-gateway "$work/after"
git worktree add -q --detach "$work/rev" "$rev"
CARGO_TARGET_DIR="$PWD/target/ab" cargo build --release --locked -q --bin conversation-gateway \
  --manifest-path "$work/rev/Cargo.toml"
cp target/ab/release/conversation-gateway "$work/before"

# Pin when there are two cores or more: the gateway alone on the first.
if [ "$(nproc)" -ge 2 ]; then
  gateway_cpu=(taskset -c 0)
  others_cpu=(taskset -c 1)
else
  gateway_cpu=()
  others_cpu=()
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
sim_port=$(free_port)
"${others_cpu[@]}" "$work/after" sandbox --listen "127.0.0.1:$sim_port" --conversations 2000 \
  >"$work/sandbox.log" 2>&1 &
sim="127.0.0.1:$sim_port"

limit='rate_limit = { per_second = 10000, burst = 10000 }'
config() {
  cat <<EOF
[server]
listen = "127.0.0.1:$1"
request_timeout_ms = 10000

[cache]
ttl_ms = 0

[[sources]]
name = "sales"
vendor = "megaview"
base_url = "http://$sim/megaview"
app_key = "demo-megaview-app-key"
app_secret = "demo-megaview-app-secret"
$limit

[[sources]]
name = "assistant"
vendor = "gptbots"
base_url = "http://$sim/gptbots"
api_key = "demo-gptbots-api-key"
$limit

[[sources]]
name = "helpdesk"
vendor = "udesk"
base_url = "http://$sim/udesk"
email = "admin@demo.udesk.cn"
api_token = "demo-udesk-api-token"
robot_id = 83
$limit

[[sources]]
name = "inbox"
vendor = "jijyun"
base_url = "http://$sim/jijyun"
api_key = "demo-jijyun-api-key"
$limit
EOF
}

# Jijyun lists per customer: the simulators' customer with chats every day.
inbox_customer=88001234

ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# One run: prints CPU µs per request of binary $1 serving source $2.
run() {
  local binary=$1 source=$2 port pid since base before after requests
  port=$(free_port)
  config "$port" >"$work/gateway.toml"
  RUST_LOG=warn "${gateway_cpu[@]}" "$binary" serve --config "$work/gateway.toml" \
    >"$work/gateway.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
    sleep 0.1
  done
  since=$(date -u -d '1 day ago' +%Y-%m-%dT%H:%M:%S.000Z)
  local filter=""
  [ "$source" = inbox ] && filter="&customer_id=$inbox_customer"
  local prefix="/conversations?source=$source$filter&since=$since&until="
  base=$(date +%s%3N)
  "${others_cpu[@]}" wrk -t1 -c4 -d2s -s benches/wrk-distinct.lua "http://127.0.0.1:$port" \
    -- "$prefix" "$((base - 100000000))" >/dev/null
  before=$(cpu_ticks "$pid")
  requests=$("${others_cpu[@]}" wrk -t2 -c32 -d"${seconds}s" -s benches/wrk-distinct.lua \
    "http://127.0.0.1:$port" -- "$prefix" "$base" | awk '/requests in/ {print $1}')
  after=$(cpu_ticks "$pid")
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  python3 -c "print(round(($after - $before) / $ticks / $requests * 1e6))"
}

# One run of the baseline: prints CPU µs per request of a one-worker nginx pinned like the
# gateway, making the list call the gateway makes for `assistant` (one GPTBots page of the
# last day, as the benchmark's nginx does).
run_nginx() {
  local port now pid worker before after requests
  port=$(free_port)
  now=$(date +%s%3N)
  mkdir -p "$work/nginx"
  cat >"$work/nginx/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  upstream simulators { server $sim; keepalive 64; }
  server {
    listen 127.0.0.1:$port;
    location = /list {
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Authorization "Bearer demo-gptbots-api-key";
      proxy_pass http://simulators/gptbots/v1/bot/conversation/page?conversation_type=ALL&start_time=$((now - 86400000))&end_time=$((now - 1))&page=1&page_size=100;
    }
  }
}
CONF
  "${gateway_cpu[@]}" "$nginx" -c "$work/nginx/nginx.conf" -p "$work/nginx" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/list" >/dev/null && break
    sleep 0.1
  done
  worker=$(pgrep -P "$pid" | head -1)
  "${others_cpu[@]}" wrk -t1 -c4 -d2s "http://127.0.0.1:$port/list" >/dev/null
  before=$(cpu_ticks "$worker")
  requests=$("${others_cpu[@]}" wrk -t2 -c32 -d"${seconds}s" "http://127.0.0.1:$port/list" |
    awk '/requests in/ {print $1}')
  after=$(cpu_ticks "$worker")
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  python3 -c "print(round(($after - $before) / $ticks / $requests * 1e6))"
}
nginx=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx" ] || nginx=""

echo "bench-ab: $rounds rounds of ${seconds}s per source and binary, $rev then this tree" >&2
echo "| source | $rev µs / request | this tree µs / request | change | runs (before → after) |"
echo "|---|---:|---:|---:|---|"
for source in ${AB_SOURCES:-assistant sales helpdesk inbox}; do
  befores=()
  afters=()
  baselines=()
  for _ in $(seq "$rounds"); do
    befores+=("$(run "$work/before" "$source")")
    afters+=("$(run "$work/after" "$source")")
    if [ "$source" = assistant ] && [ -n "$nginx" ]; then
      baselines+=("$(run_nginx)")
    fi
  done
  python3 - "$source" "${befores[*]}" "${afters[*]}" "${baselines[*]:-}" <<'EOF'
import sys
source = sys.argv[1]
before, after, nginx = ([int(x) for x in arg.split()] for arg in sys.argv[2:5])
b, a = sum(before) / len(before), sum(after) / len(after)
runs = "/".join(map(str, before)) + " → " + "/".join(map(str, after))
print(f"| `{source}` | {b:.0f} | {a:.0f} | {(a - b) / b * 100:+.0f}% | {runs} |")
if nginx:
    n = sum(nginx) / len(nginx)
    runs = "/".join(map(str, nginx))
    print(f"| nginx, the same GPTBots call (baseline, pinned alike) | {n:.0f} | {n:.0f} | | {runs} |")
    print(f"| `{source}` / nginx | {b / n:.2f}× | {a / n:.2f}× | | |")
EOF
done
