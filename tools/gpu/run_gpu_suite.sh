#!/usr/bin/env bash
# The one script to run on the GPU machine (Ubuntu 24.04, g++ 13, cmake, ninja, nvcc 13.0):
# builds only what the CUDA backend needs (no tokenizer/pcre2/utf8proc), runs the CUDA tests
# (CTest label "gpu") and the op conformance test, the micro-benchmark, then compute-sanitizer
# (memcheck, racecheck: last, as they matter least if time runs out). $OUT (default ./gpu-out)
# gets at most 3 files, so all come back from the device tool (which returns <= 8): suite.log
# (progress + summary), logs.tar.gz (every step's full log, refreshed after each step, so a run
# cut short still returns what it did) and bench.log. Ends with a short summary.
# Usage: tools/gpu/run_gpu_suite.sh [--quick] [--no-bench] [--no-sanitize]
#   env: ARCHS (default 90a), BUILD_DIR (default build-gpu), JOBS (default nproc)
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-$PWD/gpu-out}
mkdir -p "$OUT"
ARCHS=${ARCHS:-90a}
BUILD_DIR=${BUILD_DIR:-build-gpu}
LOGDIR="$BUILD_DIR/gpu-logs"
mkdir -p "$LOGDIR"
JOBS=${JOBS:-$(nproc)}
QUICK=""; BENCH=1; SANITIZE=1
for a in "$@"; do
  case "$a" in
    --quick) QUICK="--quick" ;;
    --no-bench) BENCH=0 ;;
    --no-sanitize) SANITIZE=0 ;;
    *) echo "unknown flag $a"; exit 2 ;;
  esac
done
export PATH=/usr/local/cuda/bin:$PATH
declare -A RESULT

step() {  # step NAME LOGFILE CMD... : runs CMD, logs to $LOGDIR/LOGFILE, records pass/FAIL
  local name=$1 log=$2; shift 2
  local t0=$SECONDS
  echo "== $name: $*" | tee -a "$OUT/suite.log"
  "$@" >"$LOGDIR/$log" 2>&1
  local rc=$?
  RESULT[$name]="$([ $rc = 0 ] && echo pass || echo "FAIL(rc=$rc)") $((SECONDS - t0))s"
  echo "   -> ${RESULT[$name]} (log: $log)" | tee -a "$OUT/suite.log"
  tar -czf "$OUT/logs.tar.gz" -C "$LOGDIR" . 2>/dev/null
  return $rc
}

{
  date -u; uname -a
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv || true
  nvcc --version | tail -2; cmake --version | head -1; g++ --version | head -1
} >"$LOGDIR/env.log" 2>&1
cat "$LOGDIR/env.log" | tee -a "$OUT/suite.log"

TARGETS="cuda_elementwise_test cuda_gemm_test cuda_attention_test cuda_sampling_test cuda_graph_test ops_conformance_test cuda_ops_bench runner_sampling_path_test runner_decode_graphs_test runner_async_test"
if step configure configure.log cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
     -DPAGELLM_CUDA=ON -DPAGELLM_CUDA_ARCHS="$ARCHS" -DPAGELLM_PYTHON=OFF -DPAGELLM_MPI=OFF \
     -DPAGELLM_BUILD_TOKENIZER=OFF; then
  # -k 0: build every target that can be built even if one fails.
  step build build.log cmake --build "$BUILD_DIR" -j "$JOBS" --target $TARGETS -- -k 0
  # Resource usage of the kernels (registers, shared memory, spills), for the notes.
  for f in "$BUILD_DIR"/src/backends/cuda/CMakeFiles/pagellm_cuda.dir/*.cu.o; do
    [ -f "$f" ] && cuobjdump --dump-resource-usage "$f" 2>/dev/null
  done >"$LOGDIR/resource_usage.log"
  B="$BUILD_DIR/src/backends/cuda"
  for t in elementwise gemm attention sampling graph; do
    if [ -x "$B/cuda_${t}_test" ]; then
      step "test_$t" "test_$t.log" timeout 300 "$B/cuda_${t}_test" --gtest_brief=1
    else
      RESULT[test_$t]="FAIL(not built)"
    fi
  done
  if [ -x "$BUILD_DIR/src/ops/ops_conformance_test" ]; then
    step conformance conformance.log timeout 300 "$BUILD_DIR/src/ops/ops_conformance_test"
  else
    RESULT[conformance]="FAIL(not built)"
  fi
  # ModelRunner: device sampling vs the CPU Sampler on the llama_gqa fixture (CPU and CUDA).
  if [ -x "$BUILD_DIR/src/runner/runner_sampling_path_test" ]; then
    step runner_sampling runner_sampling.log env PAGELLM_TEST_DATA="$PWD/tests/data" \
      timeout 300 "$BUILD_DIR/src/runner/runner_sampling_path_test"
  else
    RESULT[runner_sampling]="FAIL(not built)"
  fi
  # ModelRunner: CUDA graphs for decode steps vs eager, greedy tokens identical.
  if [ -x "$BUILD_DIR/src/runner/runner_decode_graphs_test" ]; then
    step decode_graphs decode_graphs.log env PAGELLM_TEST_DATA="$PWD/tests/data" \
      timeout 300 "$BUILD_DIR/src/runner/runner_decode_graphs_test"
  else
    RESULT[decode_graphs]="FAIL(not built)"
  fi
  # Async scheduling (EnqueueStep/CollectStep, FillPlaceholderIds, Readback) == sync steps.
  if [ -x "$BUILD_DIR/src/runner/runner_async_test" ]; then
    step async_runner async_runner.log env PAGELLM_TEST_DATA="$PWD/tests/data" \
      timeout 300 "$BUILD_DIR/src/runner/runner_async_test"
  else
    RESULT[async_runner]="FAIL(not built)"
  fi
  if [ $BENCH = 1 ] && [ -x "$B/cuda_ops_bench" ]; then
    step bench bench.log timeout 240 "$B/cuda_ops_bench" $QUICK
    cp "$LOGDIR/bench.log" "$OUT/bench.log"
  fi
  if [ $SANITIZE = 1 ] && command -v compute-sanitizer >/dev/null; then
    # memcheck: out-of-bounds / misaligned accesses in every kernel family (bf16 cases);
    # racecheck: shared-memory races in the attention kernels (small cases, both paths).
    step memcheck memcheck.log timeout 150 compute-sanitizer --tool memcheck --error-exitcode 1 \
      "$B/cuda_attention_test" --gtest_filter='*bfloat16*'
    step memcheck_ops memcheck_ops.log timeout 120 compute-sanitizer --tool memcheck --error-exitcode 1 \
      "$B/cuda_elementwise_test" --gtest_filter='*bfloat16*'
    step memcheck_sampling memcheck_sampling.log timeout 150 compute-sanitizer --tool memcheck \
      --error-exitcode 1 "$B/cuda_sampling_test" --gtest_filter='*Penalties*:*Support*'
    step racecheck racecheck.log timeout 150 compute-sanitizer --tool racecheck --error-exitcode 1 \
      "$B/cuda_attention_test" --gtest_filter='*mixed_gqa*:*mqa_d80*'
  fi
fi

{
  echo
  echo "==== summary (full logs: $OUT/logs.tar.gz) ===="
  for k in configure build test_elementwise test_gemm test_attention test_sampling test_graph \
           conformance runner_sampling decode_graphs async_runner bench memcheck memcheck_ops \
           memcheck_sampling racecheck; do
    [ -n "${RESULT[$k]:-}" ] && printf '%-18s %s\n' "$k" "${RESULT[$k]}"
  done
  for f in "$LOGDIR"/test_*.log "$LOGDIR"/conformance.log "$LOGDIR"/runner_sampling.log; do
    [ -f "$f" ] && grep -E "^\[  (FAILED|PASSED|SKIPPED) |Failure|error:|Expected|Which is" "$f" | head -30
  done
  for f in "$LOGDIR"/memcheck*.log "$LOGDIR"/racecheck.log; do
    [ -f "$f" ] && grep -E "ERROR SUMMARY|RACECHECK SUMMARY|Invalid|Hazard" "$f" | head -5
  done
  [ -f "$LOGDIR/build.log" ] && grep -E "error|FAILED" "$LOGDIR/build.log" | head -20
  [ -f "$LOGDIR/bench.log" ] && cat "$LOGDIR/bench.log"
} | tee -a "$OUT/suite.log"
tar -czf "$OUT/logs.tar.gz" -C "$LOGDIR" . 2>/dev/null
fail=0
for k in "${!RESULT[@]}"; do [[ ${RESULT[$k]} == FAIL* ]] && fail=1; done
exit $fail
