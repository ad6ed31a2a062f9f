#!/usr/bin/env bash
# Every test: format and lint checks, unit and integration tests, then the ASL conformance
# corpus in ../shared/conformance with the pass rate we have reached (raise it, never lower it).
set -euo pipefail
cd "$(dirname "$0")/.."

MIN_PASS_RATE="${MIN_PASS_RATE:-0.998}"
SHARED="${SHARED:-../shared}"

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
cargo build --release --locked -p expressway-cli

if [ -f "$SHARED/conformance/run.py" ]; then
  python3 "$SHARED/conformance/run.py" --cmd "./target/release/expressway run" \
    --jobs "$(nproc)" --min-pass-rate "$MIN_PASS_RATE"
else
  echo "conformance corpus not found at $SHARED/conformance" >&2
  exit 1
fi
