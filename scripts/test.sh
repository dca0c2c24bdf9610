#!/usr/bin/env bash
# The test command: set up, build, and run every CTest test (unit + end-to-end).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
BUILD_DIR=${BUILD_DIR:-build}
# OpenMP threads that spin while waiting starve the other tests running beside them on small
# machines (measured: 5x slower CPU engine tests on 2 cores); passive waiting avoids it.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "${JOBS:-$(nproc)}" ${CTEST_ARGS:-}
