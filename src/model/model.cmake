# The model layer (DecoderSpec, generic Decoder, architectures, registry). Included from
# src/model/CMakeLists.txt, which defines the checkpoint/config target pagellm_model_io.
set(_model_dir ${CMAKE_CURRENT_LIST_DIR})
set(_model_deps pagellm_ops pagellm_dist)  # dist: the Communicator for tensor parallelism
if(TARGET pagellm_model_io)
  list(APPEND _model_deps pagellm_model_io)
endif()
pagellm_library(pagellm_model
  SRCS
    ${_model_dir}/decoder_spec.cc
    ${_model_dir}/decoder_weights.cc
    ${_model_dir}/decoder.cc
    ${_model_dir}/forward_batch.cc
    ${_model_dir}/layers.cc
    ${_model_dir}/model_loader.cc
    ${_model_dir}/registry.cc
    ${_model_dir}/rope.cc
    ${_model_dir}/sharding.cc
    ${_model_dir}/tensor_parallel.cc
    ${_model_dir}/arch/llama.cc
    ${_model_dir}/arch/mistral.cc
    ${_model_dir}/arch/qwen2.cc
    ${_model_dir}/arch/qwen3.cc
    ${_model_dir}/arch/gemma2.cc
    ${_model_dir}/arch/phi3.cc
    ${_model_dir}/arch/gpt_neox.cc
    ${_model_dir}/arch/gemma.cc
    ${_model_dir}/arch/gpt_bigcode.cc
    ${_model_dir}/arch/gpt2.cc
    ${_model_dir}/arch/opt.cc
    ${_model_dir}/arch/bloom.cc
    ${_model_dir}/arch/falcon.cc
    ${_model_dir}/arch/mpt.cc
    ${_model_dir}/arch/gptj.cc
    ${_model_dir}/arch/baichuan.cc
    ${_model_dir}/arch/mixtral.cc
  DEPS ${_model_deps})

# Tests need the CPU ops and the config/checkpoint readers to link.
if(TARGET pagellm_ops AND TARGET pagellm_model_io)
  pagellm_library(pagellm_model_testing
    SRCS
      ${_model_dir}/testing/fixtures.cc
      ${_model_dir}/testing/memory_weight_source.cc
      ${_model_dir}/testing/paged_harness.cc
      ${_model_dir}/testing/reference_decoder.cc
    DEPS pagellm_model)
  pagellm_test(model_forward_batch_test SRCS ${_model_dir}/forward_batch_test.cc DEPS pagellm_model)
  pagellm_test(model_registry_test SRCS ${_model_dir}/registry_test.cc DEPS pagellm_model)
  pagellm_test(model_decoder_weights_test SRCS ${_model_dir}/decoder_weights_test.cc
    DEPS pagellm_model_testing)
  pagellm_test(model_decoder_test SRCS ${_model_dir}/decoder_test.cc DEPS pagellm_model_testing)
  pagellm_test(model_decoder_moe_test SRCS ${_model_dir}/decoder_moe_test.cc
    DEPS pagellm_model_testing)
  pagellm_test(model_loader_test SRCS ${_model_dir}/model_loader_test.cc DEPS pagellm_model_testing)
  pagellm_test(model_arch_forward_test SRCS ${_model_dir}/arch_forward_test.cc
    DEPS pagellm_model_testing)
  pagellm_test(model_sharding_test SRCS ${_model_dir}/sharding_test.cc DEPS pagellm_model_testing)
  pagellm_test(model_tensor_parallel_test SRCS ${_model_dir}/tensor_parallel_test.cc
    DEPS pagellm_model_testing)
endif()
