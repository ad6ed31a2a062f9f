#!/usr/bin/env bash
# Fuzz smoke test for CI: run every fuzz target (or the ones named) for SECONDS each
# (default 60), one at a time, and exit non-zero if any of them finds a crash, a timeout
# (an input taking over 10 s) or an out-of-memory (over 4 GiB).
#
#   bash fuzz/smoke.sh            # all targets, 60 s each
#   bash fuzz/smoke.sh 10 jsonata # one target, 10 s
#
# Needs the nightly toolchain (rustup) and cargo-fuzz, which is installed if missing.
set -uo pipefail
FUZZ_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SECONDS_EACH="${1:-60}"
shift || true
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
  TARGETS=(definition jsonpath intrinsic jsonata start_command execution)
fi

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "smoke.sh: the nightly toolchain is missing (rustup toolchain install nightly)" >&2
  exit 2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked || { echo "smoke.sh: cannot install cargo-fuzz" >&2; exit 2; }
fi

cd "$FUZZ_DIR/.." || exit 2
bash "$FUZZ_DIR/seed.sh" >/dev/null || { echo "smoke.sh: seeding failed" >&2; exit 2; }
cargo +nightly fuzz build || exit 2

failed=()
for t in "${TARGETS[@]}"; do
  echo "== fuzz $t for ${SECONDS_EACH}s"
  log="$(mktemp)"
  cargo +nightly fuzz run "$t" -- -max_total_time="$SECONDS_EACH" -rss_limit_mb=4096 -timeout=10 >"$log" 2>&1
  rc=$?
  grep -aE '^#[0-9]+[[:space:]]+DONE|^Done [0-9]+ runs' "$log" | tail -2
  if [ $rc -ne 0 ]; then
    failed+=("$t")
    echo "!! $t failed (exit $rc):"
    grep -aE 'panicked|ERROR: libFuzzer|SUMMARY|Test unit written|at .*/crates/' "$log" | head -40
  fi
  rm -f "$log"
done

if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz smoke: failures in: ${failed[*]} (artifacts in fuzz/artifacts/<target>/)"
  exit 1
fi
echo "fuzz smoke: ${#TARGETS[@]} targets, ${SECONDS_EACH}s each, no crash"
