"""LLM: vLLM's offline inference API (generate, chat, beam_search, get_tokenizer) over the C++
engine. Calls are serialized with a lock (the engine runs one call at a time); the engine runs
with the GIL released and Ctrl-C stops it between steps (KeyboardInterrupt)."""

import json
import os
import shutil
import threading

from . import _pagellm
from ._progress import make_progress
from .outputs import BeamSearchOutput, BeamSearchSequence, RequestOutput
from .sampling_params import BeamSearchParams, SamplingParams
from .tokenizer import Tokenizer

# vLLM arguments accepted for compatibility that change nothing here.
_IGNORED_KWARGS = {"trust_remote_code", "disable_log_stats", "swap_space",
                   "disable_custom_all_reduce", "tokenizer_mode"}
# Other EngineArgs fields settable by keyword (pagellm specifics and less common vLLM ones).
_EXTRA_ENGINE_ARGS = {"enable_chunked_prefill", "scheduling_policy", "batch_invariant",
                      "async_scheduling"}


def _find_tp_worker_bin():
    """Tensor parallelism starts `pagellm tp-worker` processes: tell the engine where the CLI is
    (PAGELLM_TP_WORKER_BIN wins, then PATH, then the build tree this package was built in)."""
    if os.environ.get("PAGELLM_TP_WORKER_BIN"):
        return
    here = os.path.dirname(os.path.abspath(__file__))
    for candidate in (shutil.which("pagellm"), os.path.join(here, "..", "..", "pagellm")):
        if candidate and os.access(candidate, os.X_OK):
            os.environ["PAGELLM_TP_WORKER_BIN"] = os.path.abspath(candidate)
            return


def _engine_args(values, kwargs):
    unknown = sorted(k for k in kwargs if k not in _IGNORED_KWARGS and k not in _EXTRA_ENGINE_ARGS
                     and k != "kv_cache_memory_bytes")
    if unknown:
        raise TypeError("LLM() got unexpected keyword argument(s): " +
                        ", ".join(repr(k) for k in unknown))
    if "kv_cache_memory_bytes" in kwargs:  # vLLM's newer name
        values["kv_cache_memory"] = kwargs["kv_cache_memory_bytes"]
    args = _pagellm.EngineArgs()
    for name, value in values.items():
        if value is None and name in ("seed", "revision"):
            continue
        setattr(args, name, value)
    for name in _EXTRA_ENGINE_ARGS & kwargs.keys():
        setattr(args, name, kwargs[name])
    return args


def _prompt_input(p):
    """One prompt as the extension takes it: str (text) or list[int] (token ids)."""
    if isinstance(p, str):
        return p, p
    if isinstance(p, dict):
        extra = set(p) - {"prompt", "prompt_token_ids"}
        if extra:
            raise ValueError(f"unsupported prompt field(s): {sorted(extra)}")
        if "prompt_token_ids" in p:
            return [int(t) for t in p["prompt_token_ids"]], p.get("prompt")
        if isinstance(p.get("prompt"), str):
            return p["prompt"], p["prompt"]
    raise TypeError("a prompt must be a str, {'prompt': str} or {'prompt_token_ids': list[int]}, "
                    f"not {type(p).__name__}")


def _prompt_list(prompts):
    if isinstance(prompts, (str, dict)):
        return [prompts]
    if prompts is None:
        raise TypeError("prompts must not be None")
    return list(prompts)


class LLM:
    def __init__(self, model, tokenizer=None, dtype="auto", tensor_parallel_size=1,
                 max_model_len=None, gpu_memory_utilization=0.9, seed=0, enforce_eager=False,
                 load_format="auto", device="auto", block_size=16, kv_cache_memory=None,
                 num_gpu_blocks_override=None, max_num_seqs=256, max_num_batched_tokens=None,
                 enable_prefix_caching=True, skip_tokenizer_init=False, revision=None,
                 generation_config="auto", max_logprobs=20, chat_template=None, **kwargs):
        values = dict(model=str(model), tokenizer=tokenizer, dtype=dtype,
                      tensor_parallel_size=tensor_parallel_size, max_model_len=max_model_len,
                      gpu_memory_utilization=gpu_memory_utilization, seed=seed,
                      enforce_eager=enforce_eager, load_format=load_format, device=device,
                      block_size=block_size, kv_cache_memory=kv_cache_memory,
                      num_gpu_blocks_override=num_gpu_blocks_override, max_num_seqs=max_num_seqs,
                      max_num_batched_tokens=max_num_batched_tokens,
                      enable_prefix_caching=enable_prefix_caching,
                      skip_tokenizer_init=skip_tokenizer_init, revision=revision,
                      generation_config=generation_config, max_logprobs=max_logprobs,
                      chat_template=chat_template)
        self._lock = threading.Lock()
        if tensor_parallel_size > 1:
            _find_tp_worker_bin()
        self._engine = _pagellm.Engine(_engine_args(values, kwargs))
        self._tokenizer = Tokenizer(self) if self._engine.has_tokenizer else None

    # -- vLLM API ---------------------------------------------------------------------------

    def get_tokenizer(self):
        return self._tokenizer

    def get_default_sampling_params(self):
        return SamplingParams._from_cpp(self._engine.default_sampling_params())

    def generate(self, prompts, sampling_params=None, use_tqdm=True):
        items = [_prompt_input(p) for p in _prompt_list(prompts)]
        return self._generate([i for i, _ in items], [t for _, t in items], sampling_params,
                              use_tqdm)

    def chat(self, messages, sampling_params=None, use_tqdm=True, chat_template=None,
             add_generation_prompt=True, continue_final_message=False, tools=None,
             chat_template_kwargs=None):
        """Renders each conversation with the chat template, then generates. As in vLLM the
        rendered text is tokenized without special tokens (the template holds them)."""
        if not messages:
            return []
        conversations = messages if isinstance(messages[0], list) else [messages]
        texts = [self._render_chat(c, chat_template=chat_template,
                                   add_generation_prompt=add_generation_prompt,
                                   continue_final_message=continue_final_message, tools=tools,
                                   chat_template_kwargs=chat_template_kwargs)
                 for c in conversations]
        ids = [self._engine.encode(t, False) for t in texts]
        return self._generate(ids, texts, sampling_params, use_tqdm)

    def beam_search(self, prompts, params, use_tqdm=False):
        if not isinstance(params, BeamSearchParams):
            raise TypeError("params must be a BeamSearchParams")
        inputs = [_prompt_input(p)[0] for p in _prompt_list(prompts)]
        with self._lock:
            raw = self._engine.beam_search(inputs, params._to_cpp())
        return [BeamSearchOutput([BeamSearchSequence._from_dict(s) for s in seqs]) for seqs in raw]

    # -- helpers ----------------------------------------------------------------------------

    def _generate(self, inputs, texts, sampling_params, use_tqdm):
        if sampling_params is None:
            sampling_params = self.get_default_sampling_params()
        if isinstance(sampling_params, SamplingParams):
            params = [sampling_params._to_cpp()]
        else:
            params = [p._to_cpp() for p in sampling_params]
            if len(params) != len(inputs):
                raise ValueError("The lengths of prompts and sampling_params must be the same.")
        if not inputs:
            return []
        progress, close = make_progress(len(inputs), use_tqdm)
        try:
            with self._lock:
                raw = self._engine.generate(inputs, params, progress)
        finally:
            close()
        outputs = [RequestOutput._from_dict(d) for d in raw]
        for out, text in zip(outputs, texts):
            out.prompt = text
        return outputs

    def _render_chat(self, conversation, chat_template=None, add_generation_prompt=True,
                     continue_final_message=False, tools=None, chat_template_kwargs=None):
        if add_generation_prompt and continue_final_message:
            raise ValueError("Cannot set both `continue_final_message` and "
                             "`add_generation_prompt` to True.")
        if self._tokenizer is None:
            raise ValueError("chat needs a tokenizer (the LLM was created with skip_tokenizer_init)")
        dumps = lambda v: "" if v is None else json.dumps(v)  # noqa: E731
        return self._engine.render_chat(json.dumps(list(conversation)), add_generation_prompt,
                                        continue_final_message, dumps(tools),
                                        dumps(chat_template_kwargs or None), chat_template)
