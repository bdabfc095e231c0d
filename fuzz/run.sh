#!/usr/bin/env bash
# Runs one fuzz target for a given time (after fuzz/build.sh):
#   fuzz/run.sh TARGET SECONDS [extra libFuzzer flags]     TARGET: gguf npy npz audio decode encode stream
# Corpus (grows across runs): build-fuzz/fuzz-work/corpus/TARGET (seeded from .../seeds/TARGET)
# Crashes, leaks, timeouts, OOMs: build-fuzz/fuzz-work/crashes/TARGET/{crash,leak,timeout,oom}-<sha1>
# Log with the final stats (stat::number_of_executed_units, cov:): build-fuzz/fuzz-work/logs/
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
B="$ROOT/${CODEC_FUZZ_BUILD:-build-fuzz}"
T="${1:?target}"; SECS="${2:?seconds}"; shift 2
W="$B/fuzz-work"
mkdir -p "$W/corpus/$T" "$W/crashes/$T" "$W/logs"
max_len=4096
[ "$T" = gguf ] && max_len=400000   # the tiny models are 60-340 KB
[ "$T" = audio ] && max_len=16384
rss_mb=2048
[ "$T" = encode ] && rss_mb=3072   # ~1000 warm contexts (one per shape, fuzz_encode.cpp): ~1.7-2 GB by design
export CODEC_FUZZ_MODELS="$W/models"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
log="$W/logs/$T-$(date -u +%Y%m%dT%H%M%S).log"
echo "== fuzz_$T for ${SECS}s, log $log"
set +e
"$B/fuzz/fuzz_$T" "$W/corpus/$T" "$W/seeds/$T" -max_total_time="$SECS" -max_len="$max_len" \
    -timeout=10 -rss_limit_mb="$rss_mb" -malloc_limit_mb=1024 -print_final_stats=1 \
    -artifact_prefix="$W/crashes/$T/" "$@" >"$log" 2>&1
rc=$?
set -e
grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|cov: [0-9]+" "$log" | tail -3
ls "$W/crashes/$T" | head
exit $rc
