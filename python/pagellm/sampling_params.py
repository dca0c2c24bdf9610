"""SamplingParams / BeamSearchParams with vLLM's keyword names, defaults and messages.

Construction validates through the C++ SamplingParams::Finalize() (the same code the engine
and the server run), so a bad value raises ValueError with vLLM's message, and the attributes
are normalized like vLLM's __post_init__ (seed -1 -> None, greedy turns top_p/top_k/min_p off,
logit_bias clamped to +-100, stop_token_ids deduplicated, stop given as a str -> [str]).
Attributes stay writable; a changed value is validated again when the request is submitted.
"""

from . import _pagellm

# Field order of vLLM's SamplingParams (also the order of repr()).
_FIELDS = (
    "n", "best_of", "presence_penalty", "frequency_penalty", "repetition_penalty",
    "temperature", "top_p", "top_k", "min_p", "seed", "stop", "stop_token_ids", "bad_words",
    "include_stop_str_in_output", "ignore_eos", "max_tokens", "min_tokens", "logprobs",
    "prompt_logprobs", "detokenize", "skip_special_tokens", "spaces_between_special_tokens",
    "logit_bias", "allowed_token_ids", "truncate_prompt_tokens",
)
# Fields Finalize() may rewrite; read back after validation.
_NORMALIZED = ("temperature", "top_p", "top_k", "min_p", "seed", "stop_token_ids", "logit_bias")


def _as_list(value):
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


class SamplingParams:
    """vLLM's SamplingParams (keyword arguments only)."""

    def __init__(self, *, n=1, best_of=None, presence_penalty=0.0, frequency_penalty=0.0,
                 repetition_penalty=1.0, temperature=1.0, top_p=1.0, top_k=0, min_p=0.0,
                 seed=None, stop=None, stop_token_ids=None, bad_words=None,
                 include_stop_str_in_output=False, ignore_eos=False, max_tokens=16,
                 min_tokens=0, logprobs=None, prompt_logprobs=None, detokenize=True,
                 skip_special_tokens=True, spaces_between_special_tokens=True, logit_bias=None,
                 allowed_token_ids=None, truncate_prompt_tokens=None):
        self.n = n
        self.best_of = best_of
        self.presence_penalty = presence_penalty
        self.frequency_penalty = frequency_penalty
        self.repetition_penalty = repetition_penalty
        self.temperature = temperature
        self.top_p = top_p
        self.top_k = top_k
        self.min_p = min_p
        self.seed = seed
        self.stop = _as_list(stop)
        self.stop_token_ids = _as_list(stop_token_ids)
        self.bad_words = None if bad_words is None else _as_list(bad_words)
        self.include_stop_str_in_output = include_stop_str_in_output
        self.ignore_eos = ignore_eos
        self.max_tokens = max_tokens
        self.min_tokens = min_tokens
        self.logprobs = logprobs
        self.prompt_logprobs = prompt_logprobs
        self.detokenize = detokenize
        self.skip_special_tokens = skip_special_tokens
        self.spaces_between_special_tokens = spaces_between_special_tokens
        self.logit_bias = None if logit_bias is None else {int(k): float(v) for k, v in logit_bias.items()}
        self.allowed_token_ids = None if allowed_token_ids is None else list(allowed_token_ids)
        self.truncate_prompt_tokens = truncate_prompt_tokens
        cpp = self._to_cpp()
        cpp.finalize()
        for name in _NORMALIZED:
            value = getattr(cpp, name)
            if name == "logit_bias" and self.logit_bias is None:
                continue
            setattr(self, name, value)

    def _to_cpp(self):
        """The C++ _SamplingParams for these values (TypeError on values of the wrong type)."""
        cpp = _pagellm._SamplingParams()
        for name in _FIELDS:
            value = getattr(self, name)
            if name in ("stop", "stop_token_ids", "bad_words"):
                value = _as_list(value)
            elif name == "logit_bias":
                value = {} if value is None else {int(k): float(v) for k, v in value.items()}
            elif name == "allowed_token_ids" and value is not None:
                value = list(value)
            try:
                setattr(cpp, name, value)
            except TypeError:
                raise TypeError(f"SamplingParams.{name}: unsupported value {value!r}") from None
        return cpp

    @classmethod
    def _from_cpp(cls, cpp):
        sp = cls.__new__(cls)
        for name in _FIELDS:
            setattr(sp, name, getattr(cpp, name))
        sp.logit_bias = sp.logit_bias or None
        sp.bad_words = sp.bad_words or None
        return sp

    def clone(self):
        return SamplingParams._from_cpp(self._to_cpp())

    def __eq__(self, other):
        if not isinstance(other, SamplingParams):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in _FIELDS)

    def __repr__(self):
        return (
            f"SamplingParams(n={self.n}, presence_penalty={self.presence_penalty}, "
            f"frequency_penalty={self.frequency_penalty}, "
            f"repetition_penalty={self.repetition_penalty}, temperature={self.temperature}, "
            f"top_p={self.top_p}, top_k={self.top_k}, min_p={self.min_p}, seed={self.seed}, "
            f"stop={self.stop}, stop_token_ids={self.stop_token_ids}, "
            f"bad_words={self.bad_words}, "
            f"include_stop_str_in_output={self.include_stop_str_in_output}, "
            f"ignore_eos={self.ignore_eos}, max_tokens={self.max_tokens}, "
            f"min_tokens={self.min_tokens}, logprobs={self.logprobs}, "
            f"prompt_logprobs={self.prompt_logprobs}, "
            f"skip_special_tokens={self.skip_special_tokens}, "
            f"spaces_between_special_tokens={self.spaces_between_special_tokens}, "
            f"truncate_prompt_tokens={self.truncate_prompt_tokens}, "
            f"guided_decoding=None, extra_args=None)")


class BeamSearchParams:
    """vLLM's BeamSearchParams."""

    def __init__(self, beam_width, max_tokens, ignore_eos=False, temperature=0.0,
                 length_penalty=1.0, include_stop_str_in_output=False):
        self.beam_width = beam_width
        self.max_tokens = max_tokens
        self.ignore_eos = ignore_eos
        self.temperature = temperature
        self.length_penalty = length_penalty
        self.include_stop_str_in_output = include_stop_str_in_output
        self._to_cpp().validate()

    def _to_cpp(self):
        cpp = _pagellm._BeamSearchParams()
        for name in ("beam_width", "max_tokens", "ignore_eos", "temperature", "length_penalty",
                     "include_stop_str_in_output"):
            setattr(cpp, name, getattr(self, name))
        return cpp

    def __repr__(self):
        return (f"BeamSearchParams(beam_width={self.beam_width}, max_tokens={self.max_tokens}, "
                f"ignore_eos={self.ignore_eos}, temperature={self.temperature}, "
                f"length_penalty={self.length_penalty}, "
                f"include_stop_str_in_output={self.include_stop_str_in_output})")
