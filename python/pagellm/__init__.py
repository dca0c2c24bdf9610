"""pagellm: vLLM's offline inference API over the pagellm C++ engine.

    from pagellm import LLM, SamplingParams
    llm = LLM(model="Qwen/Qwen2.5-0.5B-Instruct")
    outputs = llm.generate(["Hello, my name is"], SamplingParams(temperature=0.8, top_p=0.95))
"""

from . import _pagellm
from .llm import LLM
from .outputs import (BeamSearchOutput, BeamSearchSequence, CompletionOutput, Logprob,
                      RequestOutput)
from .sampling_params import BeamSearchParams, SamplingParams
from .tokenizer import Tokenizer

__version__ = "0.1.0"
__all__ = ["LLM", "SamplingParams", "BeamSearchParams", "RequestOutput", "CompletionOutput",
           "Logprob", "BeamSearchOutput", "BeamSearchSequence", "Tokenizer"]
