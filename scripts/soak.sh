#!/usr/bin/env bash
# Fault-injection soak on a release build: the gateway binary over simulators answering 20% 5xx,
# 10% hangs and bursts of 429, under mixed load, for SECONDS (default 300). Prints a summary
# line and fails on any 5xx while a source answered, a panic, RSS growth, an answer past the
# request budget, or a source over its quota (tests/soak/main.rs).
# Beside it, the hostile phase for HOSTILE_SECONDS (default a quarter of SECONDS, at least 15): slow
# clients, vendor peers that drip, bloat or never end their answers, and poisoned transcripts.
# It prints its own summary and fails unless /healthz and the healthy sources kept answering
# within the budget, slow heads were cut off, RSS stayed bounded and nothing panicked
# (tests/soak/hostile.rs).
# Usage: scripts/soak.sh [SECONDS] [CONNECTIONS] [HOSTILE_SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."

SOAK_SECONDS=${1:-300} SOAK_CONNECTIONS=${2:-8} SOAK_HOSTILE_SECONDS=${3:-} \
  cargo test --locked --release --test soak -- --nocapture
