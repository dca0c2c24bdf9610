"""LLM.generate / chat / beam_search / get_tokenizer on the tiny CPU model."""

import os
import subprocess

import pytest

from pagellm import BeamSearchParams, CompletionOutput, Logprob, RequestOutput, SamplingParams

GREEDY = dict(temperature=0.0, ignore_eos=True)


def _id_prompts(vocab):
    return [[(i * 37 + j * 11 + 5) % (vocab - 40) + 3 for j in range(6 + 3 * i)] for i in range(4)]


def test_generate_text_prompts(llm):
    prompts = ["Hello, my name is", "The capital of France is"]
    outs = llm.generate(prompts, SamplingParams(max_tokens=5, **GREEDY), use_tqdm=False)
    assert [o.prompt for o in outs] == prompts
    tok = llm.get_tokenizer()
    for o, p in zip(outs, prompts):
        assert isinstance(o, RequestOutput) and o.finished
        assert o.prompt_token_ids == tok.encode(p)
        assert o.prompt_logprobs is None
        (c,) = o.outputs
        assert isinstance(c, CompletionOutput)
        assert c.index == 0 and len(c.token_ids) == 5 and c.finish_reason == "length"
        assert c.text == tok.decode(c.token_ids, skip_special_tokens=True)
        assert c.logprobs is None and c.cumulative_logprob is None
    assert len({o.request_id for o in outs}) == 2


def test_matches_cpp_llm(llm, tiny_model, helper):
    prompts = _id_prompts(tiny_model["vocab_size"])
    outs = llm.generate([{"prompt_token_ids": p} for p in prompts],
                        SamplingParams(max_tokens=8, **GREEDY), use_tqdm=False)
    ref = subprocess.run([helper, "generate", tiny_model["dir"], "8"] +
                         [" ".join(map(str, p)) for p in prompts],
                         check=True, capture_output=True, text=True).stdout.splitlines()
    ref = [[int(t) for t in line.split()[1:]] for line in ref if line.startswith("OUT")]
    assert len(ref) == len(prompts)
    assert [o.outputs[0].token_ids for o in outs] == ref
    assert [o.prompt for o in outs] == [None] * len(prompts)


def test_prompt_forms(llm):
    sp = SamplingParams(max_tokens=4, **GREEDY)
    text = "abc def"
    ids = llm.get_tokenizer().encode(text)
    forms = [text, [text], {"prompt": text}, {"prompt_token_ids": ids}, [{"prompt_token_ids": ids}]]
    results = [llm.generate(f, sp, use_tqdm=False) for f in forms]
    assert all(len(r) == 1 for r in results)
    assert len({tuple(r[0].outputs[0].token_ids) for r in results}) == 1
    assert all(r[0].prompt_token_ids == ids for r in results)


def test_params_per_prompt_and_default(llm):
    outs = llm.generate(["a", "b"], [SamplingParams(max_tokens=2, **GREEDY),
                                     SamplingParams(max_tokens=3, **GREEDY)], use_tqdm=False)
    assert [len(o.outputs[0].token_ids) for o in outs] == [2, 3]
    default = llm.get_default_sampling_params()
    assert default == SamplingParams()
    (out,) = llm.generate("hello", use_tqdm=False)
    assert 1 <= len(out.outputs[0].token_ids) <= 16
    assert llm.generate([], use_tqdm=False) == []


def test_logprobs(llm):
    sp = SamplingParams(max_tokens=4, logprobs=3, prompt_logprobs=2, **GREEDY)
    (out,) = llm.generate("hello world", sp, use_tqdm=False)
    c = out.outputs[0]
    assert len(c.logprobs) == len(c.token_ids) == 4
    total = 0.0
    for tid, entry in zip(c.token_ids, c.logprobs):
        assert tid in entry and 3 <= len(entry) <= 4
        assert all(isinstance(v, Logprob) for v in entry.values())
        assert entry[tid].rank == 1  # greedy picks the top token
        assert isinstance(entry[tid].decoded_token, str)
        assert sorted(v.rank for k, v in entry.items() if k != tid or len(entry) == 3) [0] == 1
        total += entry[tid].logprob
    assert c.cumulative_logprob == pytest.approx(total, rel=1e-4, abs=1e-4)
    assert out.prompt_logprobs[0] is None
    assert len(out.prompt_logprobs) == len(out.prompt_token_ids)
    for tid, entry in zip(out.prompt_token_ids[1:], out.prompt_logprobs[1:]):
        assert tid in entry and entry[tid].rank >= 1


def test_n_and_seed(llm):
    sp = SamplingParams(n=2, seed=7, max_tokens=6, temperature=1.0, ignore_eos=True)
    a = llm.generate("seeded", sp, use_tqdm=False)[0]
    b = llm.generate("seeded", sp, use_tqdm=False)[0]
    assert [c.index for c in a.outputs] == [0, 1]
    assert [c.token_ids for c in a.outputs] == [c.token_ids for c in b.outputs]


def test_progress_bar(llm, capsys):
    llm.generate(["x", "y", "z"], SamplingParams(max_tokens=2, **GREEDY), use_tqdm=True)
    err = capsys.readouterr().err
    assert "Processed prompts" in err and "3/3" in err

    class Bar:
        made = []

        def __init__(self, total, desc):
            self.total, self.n = total, 0
            Bar.made.append(self)

        def update(self, k):
            self.n += k

        def close(self):
            self.closed = True

    llm.generate(["x", "y"], SamplingParams(max_tokens=2, **GREEDY), use_tqdm=Bar)
    assert [(b.total, b.n, b.closed) for b in Bar.made] == [(2, 2, True)]


CHAT_TEMPLATE = ("{% for m in messages %}<|bos|>{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
                 "{% if add_generation_prompt %}assistant:{% endif %}")


def test_chat(llm):
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    sp = SamplingParams(max_tokens=3, **GREEDY)
    (out,) = llm.chat(messages, sp, use_tqdm=False, chat_template=CHAT_TEMPLATE)
    expected = "<|bos|>system: Be brief.\n<|bos|>user: Hi\nassistant:"
    assert out.prompt == expected
    tok = llm.get_tokenizer()
    assert out.prompt_token_ids == tok.encode(expected, add_special_tokens=False)
    assert len(out.outputs[0].token_ids) == 3
    outs = llm.chat([messages, messages[1:]], sp, use_tqdm=False, chat_template=CHAT_TEMPLATE,
                    add_generation_prompt=False)
    assert [o.prompt for o in outs] == [expected[:-len("assistant:")], "<|bos|>user: Hi\n"]
    assert tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True,
                                   chat_template=CHAT_TEMPLATE) == expected
    assert tok.apply_chat_template(messages, add_generation_prompt=True,
                                   chat_template=CHAT_TEMPLATE) == out.prompt_token_ids
    with pytest.raises(ValueError):
        llm.chat(messages, sp, use_tqdm=False)  # the tiny model has no chat template
    with pytest.raises(ValueError):
        llm.chat(messages, sp, chat_template=CHAT_TEMPLATE, continue_final_message=True)


def test_beam_search(llm):
    tok = llm.get_tokenizer()
    outs = llm.beam_search(["abc", {"prompt_token_ids": [5, 6, 7]}],
                           BeamSearchParams(beam_width=2, max_tokens=3, ignore_eos=True))
    assert len(outs) == 2
    for out, prompt_ids in zip(outs, [tok.encode("abc"), [5, 6, 7]]):
        assert len(out.sequences) == 2
        for s in out.sequences:
            assert s.tokens[:len(prompt_ids)] == prompt_ids
            assert len(s.tokens) == len(prompt_ids) + 3 and len(s.logprobs) == 3
            assert s.cum_logprob == pytest.approx(
                sum(next(iter(d.values())).logprob for d in s.logprobs), abs=1e-4)
            assert isinstance(s.text, str)
        assert out.sequences[0].cum_logprob >= out.sequences[1].cum_logprob


def test_tokenizer(llm, tiny_model):
    tok = llm.get_tokenizer()
    ids = tok.encode("hello world", add_special_tokens=False)
    assert tok.decode(ids) == "hello world"
    assert tok.encode("hello world")[-len(ids):] == ids
    assert tok.eos_token_id == tiny_model["eos_id"]
    assert tok.eos_token == "<|eot|>"
    assert tok.vocab_size == len(tok) and tok.vocab_size <= tiny_model["vocab_size"]
    assert tok.decode(ids + [tok.eos_token_id], skip_special_tokens=True) == "hello world"
    assert tok("hi")["input_ids"] == tok.encode("hi")


def test_no_blocks_leak(llm):
    llm.generate(["p1", "p2"], SamplingParams(max_tokens=3, **GREEDY), use_tqdm=False)
    stats = llm._engine.stats()
    assert stats["num_free_blocks"] == stats["num_total_blocks"]


def test_matches_cli_run_batch(llm, tiny_model, tmp_path):
    """The same greedy request through `pagellm run-batch` gives the same text and tokens."""
    import json
    binary = os.environ.get("PAGELLM_BIN")
    if not binary:
        pytest.skip("PAGELLM_BIN is not set (run through ctest)")
    from pagellm import SamplingParams
    prompt = "Hello world, the thing"
    params = SamplingParams(temperature=0, max_tokens=10, ignore_eos=True)
    want = llm.generate(prompt, params, use_tqdm=False)[0].outputs[0]
    line = {"custom_id": "r1", "method": "POST", "url": "/v1/completions",
            "body": {"model": tiny_model["dir"], "prompt": prompt, "max_tokens": 10,
                     "temperature": 0, "ignore_eos": True}}
    (tmp_path / "in.jsonl").write_text(json.dumps(line) + "\n")
    subprocess.run([binary, "run-batch", "-i", str(tmp_path / "in.jsonl"), "-o",
                    str(tmp_path / "out.jsonl"), "--model", tiny_model["dir"],
                    "--load-format", "dummy", "--dtype", "float32", "--device", "cpu",
                    "--kv-cache-memory", str(64 << 20)], check=True, capture_output=True)
    got = json.loads((tmp_path / "out.jsonl").read_text().splitlines()[0])
    assert got["response"]["status_code"] == 200, got
    assert got["response"]["body"]["choices"][0]["text"] == want.text
