"""Offline batched inference (vLLM's basic example, run on pagellm).

    python3 examples/offline_inference.py [MODEL]

MODEL (or $PAGELLM_MODEL) is a local model directory or a Hugging Face repo id. Extra LLM()
keyword arguments may be given as JSON in $PAGELLM_LLM_ARGS, e.g. '{"load_format": "dummy"}'
(CI runs this on the tiny test model that way).
"""

import json
import os
import sys

from pagellm import LLM, SamplingParams

MODEL = (sys.argv[1] if len(sys.argv) > 1 else
         os.environ.get("PAGELLM_MODEL", "Qwen/Qwen2.5-0.5B-Instruct"))
EXTRA_ARGS = json.loads(os.environ.get("PAGELLM_LLM_ARGS", "{}"))

# Sample prompts.
prompts = [
    "Hello, my name is",
    "The president of the United States is",
    "The capital of France is",
    "The future of AI is",
]
# Create a sampling params object.
sampling_params = SamplingParams(temperature=0.8, top_p=0.95)


def main():
    # Create an LLM.
    llm = LLM(model=MODEL, **EXTRA_ARGS)
    # Generate texts from the prompts.
    # The output is a list of RequestOutput objects
    # that contain the prompt, generated text, and other information.
    outputs = llm.generate(prompts, sampling_params)
    # Print the outputs.
    print("\nGenerated Outputs:\n" + "-" * 60)
    for output in outputs:
        prompt = output.prompt
        generated_text = output.outputs[0].text
        print(f"Prompt:    {prompt!r}")
        print(f"Output:    {generated_text!r}")
        print("-" * 60)


if __name__ == "__main__":
    main()
