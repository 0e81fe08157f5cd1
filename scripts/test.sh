#!/usr/bin/env bash
# Runs the whole test suite. Installs what the tests need first (an OpenAPI validator and
# headless Chromium), so it works the same on a fresh machine, a laptop and CI.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/prepare-test-tools.sh
# shellcheck disable=SC1091
source target/test-tools/env.sh

# --workspace: the simulators crate's own tests run too.
cargo test --locked --workspace --all-targets "$@"
