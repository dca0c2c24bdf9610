"""examples/offline_inference.py runs end to end (on the tiny model with dummy weights)."""

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import TINY_ARGS

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "offline_inference.py"


def test_offline_inference_example(tiny_model):
    env = dict(os.environ, PAGELLM_MODEL=tiny_model["dir"], PAGELLM_LLM_ARGS=json.dumps(TINY_ARGS))
    r = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True, env=env,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    for prompt in ["Hello, my name is", "The president of the United States is",
                   "The capital of France is", "The future of AI is"]:
        assert f"Prompt:    {prompt!r}" in r.stdout
    assert r.stdout.count("Output:    ") == 4
    assert "Processed prompts" in r.stderr
