#!/usr/bin/env bash
# Installs the tools the test suite drives, where missing, and writes their locations to
# target/test-tools/env.sh:
#   - openapi-spec-validator and schemathesis (PyPI), in a virtualenv under
#     target/test-tools/venv;
#   - Chromium (Debian's package) for the Swagger UI test;
#   - from npm, at the versions tests/js/package-lock.json pins, into target/test-tools/node:
#     puppeteer-core (drives that Chromium; downloads no browser), openapi-typescript +
#     openapi-fetch (the generated client) and typescript (type-checks the client's user);
#   - redis-server (Debian's package) for the shared-quota tests, which start their own
#     servers on free loopback ports.
set -euo pipefail
cd "$(dirname "$0")/.."

tools=target/test-tools
mkdir -p "$tools"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then
    as_root apt-get update -qq >/dev/null
    apt_updated=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# A virtualenv copied from another checkout still points there: make this tree's own.
if [ -x "$tools/venv/bin/python" ] \
  && [ "$("$tools/venv/bin/python" -c 'import sys; print(sys.prefix)')" != "$PWD/$tools/venv" ]; then
  rm -rf "$tools/venv"
fi

if [ ! -x "$tools/venv/bin/openapi-spec-validator" ]; then
  echo "test tools: installing openapi-spec-validator into $tools/venv" >&2
  python3 -m venv "$tools/venv"
  "$tools/venv/bin/pip" install --quiet --disable-pip-version-check 'openapi-spec-validator>=0.7,<0.9'
fi

if [ ! -x "$tools/venv/bin/schemathesis" ]; then
  echo "test tools: installing schemathesis into $tools/venv" >&2
  "$tools/venv/bin/pip" install --quiet --disable-pip-version-check 'schemathesis>=4.1,<5'
fi

chromium_bin=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium_bin" ]; then
  echo "test tools: installing Debian's chromium" >&2
  apt_install chromium
  chromium_bin=$(command -v chromium)
fi

if ! command -v npm >/dev/null; then
  echo "test tools: installing Debian's nodejs and npm" >&2
  apt_install nodejs npm
fi
# Reinstalled whenever the lock file changes; scripts off, so nothing is downloaded but the
# locked packages.
node_tools=$tools/node
if ! cmp -s tests/js/package-lock.json "$node_tools/package-lock.json" \
  || [ ! -d "$node_tools/node_modules" ]; then
  echo "test tools: installing tests/js's npm packages into $node_tools" >&2
  rm -rf "$node_tools"
  mkdir -p "$node_tools"
  cp tests/js/package.json tests/js/package-lock.json "$node_tools/"
  (cd "$node_tools" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
fi

redis_bin=$(command -v redis-server || true)
if [ -z "$redis_bin" ]; then
  echo "test tools: installing Debian's redis-server" >&2
  apt_install redis-server
  redis_bin=$(command -v redis-server)
fi

cat > "$tools/env.sh" <<ENV
export OPENAPI_SPEC_VALIDATOR="$PWD/$tools/venv/bin/openapi-spec-validator"
export CHROMIUM="$chromium_bin"
export REDIS_SERVER="$redis_bin"
export SCHEMATHESIS="$PWD/$tools/venv/bin/schemathesis"
export NODE_TOOLS="$PWD/$node_tools"
ENV
