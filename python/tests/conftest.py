"""Fixtures: the tiny Llama model (written by pagellm_py_testhelper, the same fixture the C++
engine tests use: byte-level BPE tokenizer, --load-format dummy weights) and an LLM on it."""

import os
import shutil
import subprocess

import pytest

# Keep in sync with Generate() in python/testing/pagellm_py_testhelper.cc.
TINY_ARGS = dict(device="cpu", load_format="dummy", dtype="float32", num_gpu_blocks_override=256,
                 kv_cache_memory=64 << 20, max_num_seqs=32, max_num_batched_tokens=256)


def _helper():
    path = os.environ.get("PAGELLM_PY_TESTHELPER") or shutil.which("pagellm_py_testhelper")
    if not path:
        pytest.skip("PAGELLM_PY_TESTHELPER is not set (run through ctest)")
    return path


@pytest.fixture(scope="session")
def helper():
    return _helper()


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, helper):
    d = tmp_path_factory.mktemp("tiny_llama")
    out = subprocess.run([helper, "make-tiny", str(d)], check=True, capture_output=True, text=True)
    line = next(l for l in out.stdout.splitlines() if l.startswith("TINY "))
    eos, vocab = (int(x) for x in line.split()[1:])
    return {"dir": str(d), "eos_id": eos, "vocab_size": vocab}


@pytest.fixture(scope="session")
def llm(tiny_model):
    from pagellm import LLM
    return LLM(model=tiny_model["dir"], **TINY_ARGS)
