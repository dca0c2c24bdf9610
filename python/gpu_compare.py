"""Greedy generation through pagellm's Python API on the GPU, compared (when transformers and
torch are importable) with transformers' greedy generate on the same prompts. Prints per
prompt how many of the first 32 tokens agree; exits 1 only if pagellm itself fails.

    python3 python/gpu_compare.py MODEL_DIR
"""

import sys
import time

from pagellm import LLM, SamplingParams

PROMPTS = ["Hello, my name is", "The president of the United States is",
           "The capital of France is", "The future of AI is"]
MAX_TOKENS = 32


def main():
    model = sys.argv[1]
    llm = LLM(model=model)
    sp = SamplingParams(temperature=0.0, max_tokens=MAX_TOKENS, ignore_eos=True)
    start = time.monotonic()
    outs = llm.generate(PROMPTS, sp, use_tqdm=False)
    print(f"pagellm: {len(outs)} prompts in {time.monotonic() - start:.2f}s")
    for o in outs:
        print(f"{o.prompt!r} -> {o.outputs[0].text!r}")
    try:
        import torch
        from transformers import AutoModelForCausalLM
    except ImportError:
        print("transformers not importable: skipping the comparison")
        return
    hf = AutoModelForCausalLM.from_pretrained(model, torch_dtype="auto").cuda().eval()
    for o in outs:
        ids = torch.tensor([o.prompt_token_ids], device="cuda")
        with torch.no_grad():
            ref = hf.generate(ids, max_new_tokens=MAX_TOKENS, do_sample=False, min_new_tokens=MAX_TOKENS)
        ref = ref[0, ids.shape[1]:].tolist()
        ours = o.outputs[0].token_ids
        agree = next((i for i, (a, b) in enumerate(zip(ours, ref)) if a != b), min(len(ours), len(ref)))
        print(f"{o.prompt!r}: first {agree}/{MAX_TOKENS} greedy tokens agree with transformers")


if __name__ == "__main__":
    main()
