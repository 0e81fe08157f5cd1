#!/usr/bin/env bash
# Fault-injection soak on a release build: the gateway binary over simulators answering 20% 5xx,
# 10% hangs and bursts of 429, under mixed load, for SECONDS (default 300). Prints a summary
# line and fails on any 5xx while a source answered, a panic, RSS growth, an answer past the
# request budget, or a source over its quota (tests/soak.rs).
# Usage: scripts/soak.sh [SECONDS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."

SOAK_SECONDS=${1:-300} SOAK_CONNECTIONS=${2:-8} \
  cargo test --locked --release --test soak -- --nocapture
