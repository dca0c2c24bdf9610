"""vLLM's output classes: RequestOutput, CompletionOutput, Logprob, BeamSearchOutput.

Plain Python objects built from the dicts the extension returns (attribute names as in vLLM).
"""


class Logprob:
    """One log-probability entry: vLLM's Logprob(logprob, rank, decoded_token)."""

    __slots__ = ("logprob", "rank", "decoded_token")

    def __init__(self, logprob, rank=None, decoded_token=None):
        self.logprob = logprob
        self.rank = rank
        self.decoded_token = decoded_token

    def __eq__(self, other):
        if not isinstance(other, Logprob):
            return NotImplemented
        return (self.logprob, self.rank, self.decoded_token) == (
            other.logprob, other.rank, other.decoded_token)

    def __repr__(self):
        return (f"Logprob(logprob={self.logprob}, rank={self.rank}, "
                f"decoded_token={self.decoded_token!r})")


def _logprob_dict(d):
    if d is None:
        return None
    return {tid: Logprob(*v) for tid, v in d.items()}


class CompletionOutput:
    def __init__(self, index, text, token_ids, cumulative_logprob, logprobs,
                 finish_reason=None, stop_reason=None):
        self.index = index
        self.text = text
        self.token_ids = token_ids
        self.cumulative_logprob = cumulative_logprob
        self.logprobs = logprobs
        self.finish_reason = finish_reason
        self.stop_reason = stop_reason
        self.lora_request = None

    def finished(self):
        return self.finish_reason is not None

    @classmethod
    def _from_dict(cls, d):
        logprobs = d["logprobs"]
        if logprobs is not None:
            logprobs = [_logprob_dict(x) for x in logprobs]
        return cls(d["index"], d["text"], d["token_ids"], d["cumulative_logprob"], logprobs,
                   d["finish_reason"], d["stop_reason"])

    def __repr__(self):
        return (f"CompletionOutput(index={self.index}, text={self.text!r}, "
                f"token_ids={self.token_ids}, cumulative_logprob={self.cumulative_logprob}, "
                f"logprobs={self.logprobs}, finish_reason={self.finish_reason}, "
                f"stop_reason={self.stop_reason})")


class RequestOutput:
    def __init__(self, request_id, prompt, prompt_token_ids, prompt_logprobs, outputs, finished,
                 num_cached_tokens=0):
        self.request_id = request_id
        self.prompt = prompt
        self.prompt_token_ids = prompt_token_ids
        self.prompt_logprobs = prompt_logprobs
        self.outputs = outputs
        self.finished = finished
        self.num_cached_tokens = num_cached_tokens
        self.metrics = None
        self.lora_request = None
        self.encoder_prompt = None
        self.encoder_prompt_token_ids = None

    @classmethod
    def _from_dict(cls, d):
        prompt_logprobs = d["prompt_logprobs"]
        if prompt_logprobs is not None:
            prompt_logprobs = [_logprob_dict(x) for x in prompt_logprobs]
        outputs = [CompletionOutput._from_dict(c) for c in d["outputs"]]
        return cls(d["request_id"], d["prompt"], d["prompt_token_ids"], prompt_logprobs, outputs,
                   d["finished"], d["num_cached_tokens"])

    def __repr__(self):
        return (f"RequestOutput(request_id={self.request_id}, prompt={self.prompt!r}, "
                f"prompt_token_ids={self.prompt_token_ids}, "
                f"encoder_prompt={self.encoder_prompt!r}, "
                f"encoder_prompt_token_ids={self.encoder_prompt_token_ids}, "
                f"prompt_logprobs={self.prompt_logprobs}, outputs={self.outputs}, "
                f"finished={self.finished}, metrics={self.metrics}, "
                f"lora_request={self.lora_request}, num_cached_tokens={self.num_cached_tokens})")


class BeamSearchSequence:
    """A finished beam: tokens are prompt + generated; text is the generated part decoded;
    logprobs has one {token_id: Logprob} per generated token (rank unknown: None)."""

    def __init__(self, tokens, logprobs, cum_logprob, text, score=None):
        self.tokens = tokens
        self.logprobs = logprobs
        self.cum_logprob = cum_logprob
        self.text = text
        self.score = score
        self.finish_reason = None
        self.stop_reason = None

    @classmethod
    def _from_dict(cls, d):
        tokens = d["tokens"]
        start = len(tokens) - len(d["logprobs"])
        logprobs = [{tokens[start + i]: Logprob(lp)} for i, lp in enumerate(d["logprobs"])]
        return cls(tokens, logprobs, d["cum_logprob"], d["text"], d["score"])

    def __repr__(self):
        return (f"BeamSearchSequence(tokens={self.tokens}, cum_logprob={self.cum_logprob}, "
                f"text={self.text!r})")


class BeamSearchOutput:
    def __init__(self, sequences):
        self.sequences = sequences

    def __repr__(self):
        return f"BeamSearchOutput(sequences={self.sequences})"
