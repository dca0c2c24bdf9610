#!/bin/bash
# GPU machine check of the Python module (run from the repository root):
#   python/gpu_check.sh MODEL_DIR [BUILD_DIR]
# Builds _pagellm for the interpreter `python3` on PATH (the torch environment), runs the pytest
# suite (tiny CPU model), the offline example on MODEL_DIR on the GPU, and a greedy comparison
# with transformers when it is importable (prints how many tokens agree; informational).
set -euo pipefail
MODEL=${1:?usage: python/gpu_check.sh MODEL_DIR [BUILD_DIR]}
BUILD=${2:-build-gpu}
PY=${PYTHON:-$(command -v python3)}
"$PY" -c 'import sysconfig, os; h = sysconfig.get_paths()["include"]; assert os.path.exists(h + "/Python.h"), h' \
  || { echo "no Python.h for $PY: apt-get install python3-dev (or the matching -dev package)"; exit 1; }
if ! "$PY" -c 'import pybind11' 2>/dev/null && [ ! -d /usr/lib/cmake/pybind11 ] && [ ! -d /usr/share/cmake/pybind11 ]; then
  echo "no pybind11: apt-get install pybind11-dev, or $PY -m pip install pybind11"; exit 1
fi
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPAGELLM_CUDA=ON -DPython3_EXECUTABLE="$PY"
cmake --build "$BUILD" --target pagellm_python -j "$(nproc)"
export PYTHONPATH="$PWD/$BUILD/python"
if "$PY" -c 'import pytest' 2>/dev/null; then
  PAGELLM_PY_TESTHELPER="$PWD/$BUILD/python/pagellm_py_testhelper" "$PY" -m pytest -q -p no:cacheprovider python/tests
fi
"$PY" examples/offline_inference.py "$MODEL"
"$PY" python/gpu_compare.py "$MODEL"
