#!/usr/bin/env bash
# Builds the container image and runs the compose stack on a machine with podman but no
# Docker engine and no registry to pull from, then checks it from the outside:
#   1. base images are built locally from Debian's packages (debootstrap) and tagged with
#      the names the Dockerfile and docker-compose.yml use;
#   2. `podman build --isolation chroot` builds the image from the Dockerfile;
#   3. one container is run on its own: start time to a healthy /healthz, the built-in
#      health check, and that it runs as a non-root user;
#   4. `podman-compose` brings docker-compose.yml up (host network: see the override below),
#      and the checks call /healthz and /conversations through each replica, and spend the
#      shared quota on one replica to find it spent on the other.
# Needs root (podman, debootstrap). Takes minutes the first time; later runs reuse the base
# images and the build cache. Work files live under target/container.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$PWD/target/container
image=conversation-gateway:latest
slim=docker.io/library/debian:bookworm-slim
rust_version=$(sed -n 's/^ARG RUST_VERSION=//p' Dockerfile)
rust_image=docker.io/library/rust:${rust_version}-bookworm
redis_image=$(sed -n 's/^ *image: \(.*redis.*\)$/\1/p' docker-compose.yml)
project=gateway-check
api_key=check-consumer-key
podman=(podman --runtime runc --cgroup-manager cgroupfs)
mkdir -p "$work"

say() { printf '== %s\n' "$*" >&2; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
now_ms() { date +%s%3N; }

[ "$(id -u)" -eq 0 ] || fail "run as root (podman and debootstrap need it)"

# ---- tools ----
missing=()
for tool in podman runc debootstrap curl; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} (Debian)"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    podman runc debootstrap curl python3-venv >/dev/null
fi
if [ ! -x "$work/venv/bin/podman-compose" ]; then
  say "installing podman-compose (PyPI) into $work/venv"
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install --quiet --disable-pip-version-check 'podman-compose>=1.0.6'
fi
compose=("$work/venv/bin/podman-compose" --podman-path podman)

conf=/etc/containers/containers.conf
if ! grep -qs 'cgroup_manager *= *"cgroupfs"' "$conf" || ! grep -qs 'default_ulimits *= *\[\]' "$conf"; then
  say "writing $conf (no ulimits to set, cgroupfs, runc)"
  mkdir -p /etc/containers
  cat > "$conf" <<'CONF'
[containers]
default_ulimits = []

[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
CONF
fi

# ---- base images, from Debian's packages ----
mirror=$(sed -n 's/^URIs: *\(http[^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
mirror=${mirror:-http://deb.debian.org/debian}

if ! podman image exists "$slim"; then
  say "building $slim with debootstrap from $mirror"
  rm -rf "$work/rootfs"
  mkdir -p "$work/debs"
  debootstrap --variant=minbase --include=ca-certificates --cache-dir="$work/debs" \
    bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || fail "debootstrap failed, see $work/debootstrap.log"
  rm -rf "$work/rootfs"/usr/share/{doc,man,info,locale}/* "$work/rootfs"/var/cache/apt/*.bin \
    "$work/rootfs"/var/lib/apt/lists/*
  tar -C "$work/rootfs" -c . | podman import --change 'CMD ["bash"]' - "$slim" >/dev/null
  rm -rf "$work/rootfs"
fi

if ! podman image exists "$rust_image"; then
  say "building $rust_image: $slim + gcc, make + this machine's Rust toolchain"
  toolchain=$(rustc --print sysroot)
  ctx=$work/rust-image
  rm -rf "$ctx" && mkdir -p "$ctx"
  # Hard links: the toolchain is large and only read.
  cp -al "$toolchain" "$ctx/toolchain" 2>/dev/null || cp -a "$toolchain" "$ctx/toolchain"
  rm -rf "$ctx/toolchain/share/doc"
  # The CAs this machine trusts, so cargo reaches crates.io the way the host does (through
  # any TLS-inspecting proxy in between).
  cp /etc/ssl/certs/ca-certificates.crt "$ctx/ca-certificates.crt"
  cat > "$ctx/Containerfile" <<CONTAINERFILE
FROM $slim
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev make \\
    && rm -rf /var/lib/apt/lists/*
COPY toolchain /usr/local/rust
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
ENV CARGO_HOME=/usr/local/cargo PATH=/usr/local/cargo/bin:/usr/local/rust/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
CONTAINERFILE
  podman build --isolation chroot --pull=never -t "$rust_image" "$ctx" >"$work/rust-image.log" 2>&1 \
    || fail "building $rust_image failed, see $work/rust-image.log"
  rm -rf "$ctx"
fi

if ! podman image exists "$redis_image"; then
  say "building $redis_image: $slim + Debian's redis-server"
  ctx=$work/redis-image
  rm -rf "$ctx" && mkdir -p "$ctx"
  cat > "$ctx/Containerfile" <<CONTAINERFILE
FROM $slim
RUN apt-get update && apt-get install -y --no-install-recommends redis-server \\
    && rm -rf /var/lib/apt/lists/*
EXPOSE 6379
CMD ["redis-server", "--protected-mode", "no"]
CONTAINERFILE
  podman build --isolation chroot --pull=never -t "$redis_image" "$ctx" >"$work/redis-image.log" 2>&1 \
    || fail "building $redis_image failed, see $work/redis-image.log"
  rm -rf "$ctx"
fi

# ---- the image ----
say "podman build --isolation chroot (log: $work/build.log)"
started=$(now_ms)
podman build --isolation chroot --format docker --pull=never -t "$image" . >"$work/build.log" 2>&1 \
  || { tail -n 30 "$work/build.log" >&2; fail "image build failed"; }
build_s=$(( ($(now_ms) - started) / 1000 ))
size=$(podman image inspect "$image" --format '{{.Size}}')
size_mb=$(( size / 1000000 ))
user=$(podman image inspect "$image" --format '{{.Config.User}}')
[ -n "$user" ] && [ "${user%%:*}" != 0 ] && [ "${user%%:*}" != root ] || fail "image runs as root"
podman image inspect "$image" --format '{{json .Config.Healthcheck}}' | grep -q healthcheck \
  || fail "image has no HEALTHCHECK"

# ---- one container on its own ----
single=gateway-check-single
cleanup_single() { podman rm -f "$single" >/dev/null 2>&1 || true; }
trap cleanup_single EXIT
cleanup_single
say "podman run: demo mode on 127.0.0.1:18080"
started=$(now_ms)
"${podman[@]}" run -d --name "$single" --network host -e GATEWAY_LISTEN=127.0.0.1:18080 \
  --health-interval disable \
  "$image" >/dev/null
for _ in $(seq 1 300); do
  curl -fsS -o /dev/null http://127.0.0.1:18080/healthz 2>/dev/null && break
  sleep 0.1
done
curl -fsS -o /dev/null http://127.0.0.1:18080/healthz || { podman logs "$single" >&2; fail "/healthz never answered"; }
start_ms=$(( $(now_ms) - started ))
podman exec "$single" conversation-gateway healthcheck || fail "healthcheck subcommand failed"
"${podman[@]}" healthcheck run "$single" || fail "podman healthcheck run reported unhealthy"
uid=$(podman exec "$single" sh -c 'id -u' 2>/dev/null || podman top "$single" huser | tail -n1)
[ "$uid" != 0 ] || fail "the container runs as root"
cleanup_single

# ---- the compose stack ----
# Here containers share the host's network, so the names `redis` and `sandbox` and the
# ports of docker-compose.yml are rewritten: an override file and a copy of the mounted
# config. The copy also shortens the request budget, so the probe source's quota (1/s)
# refuses a call instead of waiting for the next permit, and turns the cache off, so every
# request calls the vendor.
stack=$work/stack
mkdir -p "$stack"
sed -e 's#sandbox:9000#127.0.0.1:19000#g' -e 's#redis://redis:6379#redis://127.0.0.1:16379#' \
  -e 's#^request_timeout_ms = .*#request_timeout_ms = 400#' \
  scripts/compose/gateway.toml >"$stack/gateway.toml"
printf '\n[cache]\nttl_ms = 0\n' >>"$stack/gateway.toml"
cat >"$stack/host-network.yml" <<YAML
services:
  redis:
    network_mode: host
    command: ["redis-server", "--port", "16379", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
  sandbox:
    network_mode: host
    command: ["sandbox", "--listen", "127.0.0.1:19000"]
  gateway-1:
    network_mode: host
    volumes:
      - $stack/gateway.toml:/etc/conversation-gateway/gateway.toml:ro
    environment:
      GATEWAY_LISTEN: 127.0.0.1:18081
  gateway-2:
    network_mode: host
    volumes:
      - $stack/gateway.toml:/etc/conversation-gateway/gateway.toml:ro
    environment:
      GATEWAY_LISTEN: 127.0.0.1:18082
YAML
files=(-p "$project" -f docker-compose.yml -f "$stack/host-network.yml")
down() { "${compose[@]}" "${files[@]}" down -t 5 >/dev/null 2>&1 || true; }
trap down EXIT
down
say "podman-compose up (log: $work/compose.log)"
export GATEWAY_API_KEY=$api_key
started=$(now_ms)
"${compose[@]}" "${files[@]}" up -d --no-build >"$work/compose.log" 2>&1 \
  || { tail -n 30 "$work/compose.log" >&2; fail "podman-compose up failed"; }
for port in 18081 18082; do
  for _ in $(seq 1 300); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null && break
    sleep 0.1
  done
done
stack_ms=$(( $(now_ms) - started ))

call() { # port path -> "status body"
  curl -sS -o "$stack/body" -w '%{http_code}' -H "Authorization: Bearer $api_key" "http://127.0.0.1:$1$2"
}
declare -a results
check() { results+=("$1"); say "ok: $1"; }
for port in 18081 18082; do
  [ "$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")" = 200 ] \
    || { "${compose[@]}" "${files[@]}" logs >&2 || true; fail "replica :$port /healthz"; }
  check "replica :$port /healthz 200"
  [ "$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/conversations")" = 401 ] \
    || fail "replica :$port answers /conversations without a key"
  check "replica :$port /conversations without a key: 401"
  status=$(call "$port" '/conversations?source=sales,assistant,helpdesk&page_size=5')
  count=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["data"]))' "$stack/body")
  [ "$status" = 200 ] && [ "$count" = 5 ] || fail "replica :$port /conversations: $status $(cat "$stack/body")"
  check "replica :$port /conversations 200 with $count conversations"
done

# The probe source allows 1 call/s across the stack: spend it on replica 1 until it
# refuses, then replica 2 must refuse too (its own bucket would still be full).
spent=""
for _ in $(seq 1 10); do
  status=$(call 18081 '/conversations?source=quota-probe&page_size=1')
  if [ "$status" = 429 ]; then spent=1; break; fi
done
[ -n "$spent" ] || fail "replica 1 never ran out of the probe quota: $status $(cat "$stack/body")"
status=$(call 18082 '/conversations?source=quota-probe&page_size=1')
[ "$status" = 429 ] || fail "replica 2 still had quota after replica 1 spent it (quota not shared): $status $(cat "$stack/body")"
check "quota spent on replica 1 is spent on replica 2 (429 $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["code"])' "$stack/body"))"

down
trap - EXIT
podman image prune -f >/dev/null 2>&1 || true
cat <<REPORT
container check passed
  image:            $image, $size_mb MB (built in ${build_s}s)
  single container: healthy /healthz ${start_ms} ms after podman run; healthcheck ok; uid $uid
  compose stack:    both replicas ready ${stack_ms} ms after podman-compose up
$(printf '  - %s\n' "${results[@]}")
REPORT
