#!/usr/bin/env bash
# Engine end to end on the GPU machine (Ubuntu 24.04, nvcc 13.0, no network). Builds the full
# tree (tokenizer included: its pcre2/utf8proc headers + static libs come from HOSTDEPS, packed
# on the build machine by tools/gpu/pack_host_deps.sh), then runs, each step logged:
#   conformance  ops_conformance_test (every op, CPU vs CUDA), the CUDA allocator's memory info
#   golden       models_golden_test (fixtures in tests/data/models; Cuda* cases run on cuda:0)
#   smoke        pagellm debug-forward on a fixture, CPU vs CUDA float32 greedy tokens, and
#                `pagellm bench throughput` over a tiny token-id workload on CUDA
#   bench        `pagellm bench throughput`: MODEL_DIR (config.json only; --load-format dummy) in bf16 on the
#                first N requests of WORKLOAD (workload.py JSON lines), prints output tokens/s;
#                then the same with --async-scheduling
# $OUT (default ./gpu-out) gets engine.log (progress + summary), bench.log and logs.tar.gz
# (every step's full log, refreshed after each step).
# Usage: tools/gpu/run_engine_gpu.sh [--model-dir DIR] [--workload FILE] [--num-requests 128]
#          [--hostdeps DIR] [--steps "build conformance golden smoke bench"]
#   env: ARCHS (default 90a), BUILD_DIR (default build-engine), JOBS (default nproc),
#        DEVICE (default cuda; cpu only to try the script on a machine without a GPU)
# The bench step is skipped unless --model-dir and --workload are given.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-$PWD/gpu-out}
mkdir -p "$OUT"
ARCHS=${ARCHS:-90a}
BUILD_DIR=${BUILD_DIR:-build-engine}
JOBS=${JOBS:-$(nproc)}
DEVICE=${DEVICE:-cuda}
HOSTDEPS=.carry/hostdeps
MODEL_DIR=""; WORKLOAD=""; NUM_REQ=128
STEPS="build conformance golden smoke bench"
while [ $# -gt 0 ]; do
  case "$1" in
    --model-dir) MODEL_DIR=$2; shift 2 ;;
    --workload) WORKLOAD=$2; shift 2 ;;
    --num-requests) NUM_REQ=$2; shift 2 ;;
    --hostdeps) HOSTDEPS=$2; shift 2 ;;
    --steps) STEPS=$2; shift 2 ;;
    *) echo "unknown flag $1"; exit 2 ;;
  esac
done
if [[ " $STEPS " == *" build "* ]] && [ ! -f "$HOSTDEPS/lib/pkgconfig/libpcre2-8.pc" ] &&
   ! pkg-config --exists libpcre2-8 2>/dev/null; then
  echo "warning: no $HOSTDEPS/lib/pkgconfig/libpcre2-8.pc (run tools/gpu/pack_host_deps.sh on the" \
       "build machine and carry .carry/hostdeps); the tokenizer and engine will not build" | tee -a "$OUT/engine.log"
fi
LOGDIR="$BUILD_DIR/engine-logs"
mkdir -p "$LOGDIR"
export PATH=/usr/local/cuda/bin:$PATH
export PKG_CONFIG_PATH="$(realpath -m "$HOSTDEPS")/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export PAGELLM_TEST_DATA=$PWD/tests/data
declare -A RESULT
ORDER=()

has_step() { [[ " $STEPS " == *" $1 "* ]]; }
step() {  # step NAME LOGFILE CMD... : runs CMD, logs to $LOGDIR/LOGFILE, records pass/FAIL
  local name=$1 log=$2; shift 2
  local t0=$SECONDS
  echo "== $name: $*" | tee -a "$OUT/engine.log"
  "$@" >"$LOGDIR/$log" 2>&1
  local rc=$?
  ORDER+=("$name")
  RESULT[$name]="$([ $rc = 0 ] && echo pass || echo "FAIL(rc=$rc)") $((SECONDS - t0))s"
  echo "   -> ${RESULT[$name]} (log: $log)" | tee -a "$OUT/engine.log"
  tail -n 5 "$LOGDIR/$log" | sed 's/^/   | /' >>"$OUT/engine.log"
  tar -czf "$OUT/logs.tar.gz" -C "$LOGDIR" . 2>/dev/null
  return $rc
}

{
  date -u; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv || true
  nvcc --version | tail -1; cmake --version | head -1
  echo "PKG_CONFIG_PATH=$PKG_CONFIG_PATH"; ls "$HOSTDEPS/lib" 2>&1
} >"$LOGDIR/env.log" 2>&1
cat "$LOGDIR/env.log" >>"$OUT/engine.log"

BIN=$BUILD_DIR
if has_step build; then
  step configure configure.log cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DPAGELLM_CUDA=ON -DPAGELLM_CUDA_ARCHS="$ARCHS" -DPAGELLM_PYTHON=OFF -DPAGELLM_MPI=OFF &&
  step build build.log cmake --build "$BUILD_DIR" -j "$JOBS" \
    --target pagellm models_golden_test ops_conformance_test cuda_elementwise_test \
    -- -k 0
fi

if has_step conformance; then
  step conformance conformance.log "$BIN/src/ops/ops_conformance_test"
  step allocator allocator.log "$BIN/src/backends/cuda/cuda_elementwise_test" \
    --gtest_filter='CudaAllocator.*'
fi

if has_step golden; then
  step golden golden.log "$BIN/tests/models/models_golden_test"
fi

smoke_forward() {  # CPU and CUDA float32 greedy tokens of a fixture must agree
  local m=tests/data/models/llama_gqa args="--prompt-ids 5,17,42 --top 3 --greedy 8 --dtype float32"
  local cpu cuda
  cpu=$("$BIN/pagellm" debug-forward --model $m $args --device cpu) || return 1
  cuda=$("$BIN/pagellm" debug-forward --model $m $args --device "$DEVICE") || return 1
  echo "cpu:  $cpu"; echo "cuda: $cuda"
  "$BIN/pagellm" debug-forward --model $m --prompt-ids 5,17,42 --top 3 --greedy 8 --device "$DEVICE" \
    --dtype auto || return 1
  [ "$(echo "$cpu" | grep greedy)" = "$(echo "$cuda" | grep greedy)" ]
}
smoke_engine() {  # LLM::Generate on CUDA over a fixture checkpoint, 16 requests
  local wl="$LOGDIR/tiny_workload.jsonl"
  python3 - "$wl" <<'PY'
import json, random, sys
r = random.Random(0)
with open(sys.argv[1], "w") as f:
    for i in range(16):
        ids = [r.randrange(1, 250) for _ in range(r.randrange(3, 40))]
        f.write(json.dumps({"prompt_token_ids": ids, "max_tokens": r.randrange(1, 24)}) + "\n")
PY
  "$BIN/pagellm" bench throughput --model tests/data/models/llama_gqa --skip-tokenizer-init \
    --dtype float32 --device "$DEVICE" --dataset-path "$wl" --num-prompts 16 &&
  "$BIN/pagellm" bench throughput --model tests/data/models/llama_gqa --skip-tokenizer-init \
    --dtype auto --device "$DEVICE" --dataset-path "$wl" --num-prompts 16 --max-num-seqs 4 &&
  "$BIN/pagellm" bench throughput --model tests/data/models/llama_gqa --skip-tokenizer-init \
    --dtype auto --device "$DEVICE" --dataset-path "$wl" --num-prompts 16 --max-num-seqs 4 \
    --async-scheduling
}
if has_step smoke; then
  step smoke_forward smoke_forward.log smoke_forward
  step smoke_engine smoke_engine.log smoke_engine
fi

if has_step bench; then
  if [ -n "$MODEL_DIR" ] && [ -n "$WORKLOAD" ]; then
    step bench bench.log timeout 540 "$BIN/pagellm" bench throughput --model "$MODEL_DIR" \
      --dataset-path "$WORKLOAD" --num-prompts "$NUM_REQ" --dtype bfloat16 --device "$DEVICE" \
      --load-format dummy --skip-tokenizer-init --max-model-len 4096 \
      --max-num-batched-tokens 8192 --max-num-seqs 256 --output-json "$OUT/throughput.json"
    # The same with --async-scheduling (host work of step N+1 overlapped with step N).
    step bench_async bench_async.log timeout 540 "$BIN/pagellm" bench throughput \
      --model "$MODEL_DIR" --dataset-path "$WORKLOAD" --num-prompts "$NUM_REQ" --dtype bfloat16 \
      --device "$DEVICE" --load-format dummy --skip-tokenizer-init --max-model-len 4096 \
      --max-num-batched-tokens 8192 --max-num-seqs 256 --async-scheduling \
      --output-json "$OUT/throughput_async.json"
    cat "$LOGDIR/bench.log" "$LOGDIR/bench_async.log" > "$OUT/bench.log"
  else
    echo "== bench: skipped (needs --model-dir and --workload)" | tee -a "$OUT/engine.log"
  fi
fi

echo "== summary" | tee -a "$OUT/engine.log"
for n in "${ORDER[@]}"; do printf '  %-14s %s\n' "$n" "${RESULT[$n]}"; done | tee -a "$OUT/engine.log"
grep -h "Throughput\|tokens/s" "$LOGDIR/bench.log" "$LOGDIR/bench_async.log" 2>/dev/null |
  tee -a "$OUT/engine.log"
