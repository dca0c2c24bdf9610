"""Errors surface as Python exceptions with clear messages (never a crash), the engine stays
usable afterwards, and Ctrl-C interrupts a long generate cleanly."""

import os
import subprocess
import sys
import textwrap

import pytest

from conftest import TINY_ARGS
from pagellm import LLM, SamplingParams

GREEDY = SamplingParams(temperature=0.0, max_tokens=2, ignore_eos=True)


def test_unknown_kwarg_is_type_error(tiny_model):
    with pytest.raises(TypeError, match="'bogus_option'"):
        LLM(model=tiny_model["dir"], bogus_option=1, **TINY_ARGS)


def test_bad_engine_args(tiny_model, tmp_path):
    with pytest.raises((ValueError, RuntimeError)):
        LLM(model=str(tmp_path / "missing"), **TINY_ARGS)
    with pytest.raises((ValueError, RuntimeError), match="dtype"):
        LLM(model=tiny_model["dir"], **{**TINY_ARGS, "dtype": "float99"})
    with pytest.raises(TypeError):
        LLM(model=tiny_model["dir"], **{**TINY_ARGS, "max_num_seqs": "many"})


def test_bad_temperature_is_value_error():
    with pytest.raises(ValueError, match="temperature must be non-negative, got -0.5."):
        SamplingParams(temperature=-0.5)


def test_invalid_value_set_later_is_checked_at_generate(llm):
    sp = SamplingParams(temperature=0.0)
    sp.top_p = 5.0
    sp.temperature = 1.0
    with pytest.raises(ValueError, match="top_p must be in"):
        llm.generate("x", sp, use_tqdm=False)


def test_prompt_too_long_is_value_error(llm):
    with pytest.raises(ValueError, match="maximum model length of 512"):
        llm.generate({"prompt_token_ids": [5] * 600}, GREEDY, use_tqdm=False)
    assert len(llm.generate("still works", GREEDY, use_tqdm=False)) == 1


def test_bad_prompts(llm, tiny_model):
    with pytest.raises(ValueError, match="out of vocabulary"):
        llm.generate({"prompt_token_ids": [tiny_model["vocab_size"] + 5]}, GREEDY, use_tqdm=False)
    with pytest.raises(ValueError, match="empty"):
        llm.generate({"prompt_token_ids": []}, GREEDY, use_tqdm=False)
    with pytest.raises(TypeError):
        llm.generate(12345, GREEDY, use_tqdm=False)
    with pytest.raises(ValueError, match="nonsense"):
        llm.generate([{"nonsense": 1}], GREEDY, use_tqdm=False)
    with pytest.raises(ValueError, match="lengths"):
        llm.generate(["a", "b", "c"], [GREEDY, GREEDY], use_tqdm=False)
    with pytest.raises(ValueError, match="out-of-vocab"):
        llm.generate("a", SamplingParams(stop_token_ids=[10 ** 6]), use_tqdm=False)
    with pytest.raises(ValueError):
        llm.generate("a", SamplingParams(logprobs=1000), use_tqdm=False)
    stats = llm._engine.stats()
    assert stats["num_running"] + stats["num_waiting"] == 0
    assert stats["num_free_blocks"] == stats["num_total_blocks"]


def test_progress_callback_error_propagates(llm):
    def boom(done, total):
        raise RuntimeError("callback failed")
    with pytest.raises(RuntimeError, match="callback failed"):
        llm._engine.generate(["a", "b"], [GREEDY._to_cpp()], boom)
    assert len(llm.generate("again", GREEDY, use_tqdm=False)) == 1


def test_ctrl_c_interrupts_generate(tiny_model):
    script = textwrap.dedent(f"""
        import os, signal, threading, time
        from pagellm import LLM, SamplingParams
        llm = LLM(model={tiny_model['dir']!r}, **{TINY_ARGS!r})
        sp = SamplingParams(temperature=0.0, max_tokens=400, ignore_eos=True)
        threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        start = time.monotonic()
        try:
            llm.generate([{{"prompt_token_ids": [5, 6, 7 + i]}} for i in range(64)], sp, use_tqdm=False)
            print("NOT INTERRUPTED")
        except KeyboardInterrupt:
            print("INTERRUPTED after %.1fs" % (time.monotonic() - start))
        out = llm.generate("after", SamplingParams(temperature=0.0, max_tokens=2), use_tqdm=False)
        print("AFTER", len(out[0].outputs[0].token_ids))
        stats = llm._engine.stats()
        print("LEAK", stats["num_total_blocks"] - stats["num_free_blocks"])
    """)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                       timeout=300, env=os.environ)
    assert r.returncode == 0, r.stderr
    assert "INTERRUPTED" in r.stdout and "NOT INTERRUPTED" not in r.stdout, r.stdout
    assert "AFTER 2" in r.stdout and "LEAK 0" in r.stdout, r.stdout


def test_skip_tokenizer_init(tiny_model):
    llm = LLM(model=tiny_model["dir"], skip_tokenizer_init=True, **TINY_ARGS)
    assert llm.get_tokenizer() is None
    with pytest.raises(ValueError, match="tokenizer"):
        llm.generate("text needs a tokenizer", GREEDY, use_tqdm=False)
    with pytest.raises(ValueError, match="tokenizer"):
        llm.chat([{"role": "user", "content": "hi"}], GREEDY, use_tqdm=False)
    sp = SamplingParams(temperature=0.0, max_tokens=2, ignore_eos=True, detokenize=False,
                        logprobs=1)
    (out,) = llm.generate({"prompt_token_ids": [5, 6, 7]}, sp, use_tqdm=False)
    c = out.outputs[0]
    assert len(c.token_ids) == 2
    assert all(v.decoded_token is None for d in c.logprobs for v in d.values())
