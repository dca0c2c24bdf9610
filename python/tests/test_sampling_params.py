"""SamplingParams: vLLM's defaults, every field reaches the C++ side, normalization and
validation messages come from SamplingParams::Finalize()."""

import pytest

from pagellm import BeamSearchParams, SamplingParams, _pagellm

VLLM_DEFAULTS = dict(
    n=1, best_of=None, presence_penalty=0.0, frequency_penalty=0.0, repetition_penalty=1.0,
    temperature=1.0, top_p=1.0, top_k=0, min_p=0.0, seed=None, stop=[], stop_token_ids=[],
    bad_words=None, include_stop_str_in_output=False, ignore_eos=False, max_tokens=16,
    min_tokens=0, logprobs=None, prompt_logprobs=None, detokenize=True,
    skip_special_tokens=True, spaces_between_special_tokens=True, logit_bias=None,
    allowed_token_ids=None, truncate_prompt_tokens=None)

# A non-default, valid value for every field (sampling, so nothing is normalized away).
NON_DEFAULT = dict(
    n=3, best_of=3, presence_penalty=0.5, frequency_penalty=-0.25, repetition_penalty=1.2,
    temperature=0.7, top_p=0.9, top_k=40, min_p=0.05, seed=1234, stop=["\n\n", "END"],
    stop_token_ids=[7, 9], bad_words=["foo"], include_stop_str_in_output=True, ignore_eos=True,
    max_tokens=77, min_tokens=5, logprobs=4, prompt_logprobs=2, detokenize=True,
    skip_special_tokens=False, spaces_between_special_tokens=False, logit_bias={5: 1.5, 6: -2.0},
    allowed_token_ids=[3, 4, 5], truncate_prompt_tokens=100)


def test_defaults_match_vllm():
    sp = SamplingParams()
    for name, value in VLLM_DEFAULTS.items():
        assert getattr(sp, name) == value, name


def test_every_field_maps_to_cpp():
    sp = SamplingParams(**NON_DEFAULT)
    cpp = _pagellm._sampling_params_to_dict(sp._to_cpp())
    for name, value in NON_DEFAULT.items():
        assert cpp[name] == value, name
        assert getattr(sp, name) == value, name
    assert set(NON_DEFAULT) <= set(cpp)


def test_detokenize_maps_to_cpp():
    # detokenize=False cannot go with stop strings, so it is checked alone.
    sp = SamplingParams(detokenize=False)
    assert _pagellm._sampling_params_to_dict(sp._to_cpp())["detokenize"] is False


def test_defaults_map_to_cpp():
    cpp = _pagellm._sampling_params_to_dict(SamplingParams()._to_cpp())
    defaults = _pagellm._sampling_params_to_dict(_pagellm._SamplingParams())
    assert cpp == defaults


def test_attributes_are_writable():
    sp = SamplingParams()
    sp.max_tokens = 3
    sp.stop = "x"
    cpp = _pagellm._sampling_params_to_dict(sp._to_cpp())
    assert cpp["max_tokens"] == 3 and cpp["stop"] == ["x"]


def test_normalization_like_vllm():
    sp = SamplingParams(temperature=0.0, top_p=0.5, top_k=10, min_p=0.1, seed=-1, stop="END",
                        stop_token_ids=[3, 3, 4], logit_bias={"5": 500})
    assert sp.top_p == 1.0 and sp.top_k == 0 and sp.min_p == 0.0
    assert sp.seed is None
    assert sp.stop == ["END"]
    assert sp.stop_token_ids == [3, 4]
    assert sp.logit_bias == {5: 100.0}
    assert SamplingParams(temperature=0.001).temperature == pytest.approx(0.01)


@pytest.mark.parametrize("kwargs, message", [
    (dict(temperature=-1.0), "temperature must be non-negative, got -1.0."),
    (dict(top_p=0.0), "top_p must be in (0, 1], got 0.0."),
    (dict(presence_penalty=3.0), "presence_penalty must be in [-2, 2], got 3.0."),
    (dict(max_tokens=0), "max_tokens must be at least 1, got 0."),
    (dict(n=0), "n must be at least 1, got 0."),
    (dict(stop=[""]), "stop cannot contain an empty string."),
    (dict(min_p=2.0), "min_p must be in [0, 1], got 2.0."),
])
def test_validation_messages(kwargs, message):
    with pytest.raises(ValueError) as e:
        SamplingParams(**kwargs)
    assert message in str(e.value)


def test_wrong_types_and_unknown_fields():
    with pytest.raises(TypeError):
        SamplingParams(temprature=0.5)
    with pytest.raises(TypeError):
        SamplingParams(max_tokens="ten")


def test_repr_like_vllm():
    r = repr(SamplingParams(temperature=0.8, top_p=0.95))
    assert r.startswith("SamplingParams(n=1, presence_penalty=0.0, frequency_penalty=0.0, "
                        "repetition_penalty=1.0, temperature=0.8, top_p=0.95, top_k=0, min_p=0.0, "
                        "seed=None, stop=[], stop_token_ids=[], bad_words=None, ")
    assert "max_tokens=16" in r and r.endswith(")")


def test_clone_and_eq():
    sp = SamplingParams(**NON_DEFAULT)
    assert sp.clone() == sp
    assert SamplingParams() != sp


def test_beam_search_params():
    p = BeamSearchParams(beam_width=2, max_tokens=5)
    assert (p.beam_width, p.max_tokens, p.ignore_eos, p.temperature, p.length_penalty) == (
        2, 5, False, 0.0, 1.0)
    with pytest.raises(ValueError):
        BeamSearchParams(beam_width=0, max_tokens=5)
