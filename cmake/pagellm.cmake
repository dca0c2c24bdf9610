# Shared compile flags and helpers.
add_library(pagellm_flags INTERFACE)
target_compile_options(pagellm_flags INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wno-unused-parameter -Wno-sign-compare>)
target_include_directories(pagellm_flags INTERFACE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR})
target_compile_definitions(pagellm_flags INTERFACE
  PAGELLM_VERSION="${PROJECT_VERSION}"
  PAGELLM_SOURCE_DIR="${PROJECT_SOURCE_DIR}")

if(PAGELLM_SANITIZE)
  set(_san -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_compile_options(pagellm_flags INTERFACE $<$<COMPILE_LANGUAGE:CXX>:${_san}>)
  target_link_options(pagellm_flags INTERFACE ${_san})
endif()

# pagellm_library(NAME SRCS ... DEPS ...): a layer library.
function(pagellm_library name)
  cmake_parse_arguments(A "" "" "SRCS;DEPS" ${ARGN})
  add_library(${name} STATIC ${A_SRCS})
  target_link_libraries(${name} PUBLIC pagellm_flags ${A_DEPS})
endfunction()

# pagellm_test(NAME SRCS ... DEPS ... [LABELS ...]): a GoogleTest binary registered with CTest.
function(pagellm_test name)
  cmake_parse_arguments(A "" "TIMEOUT" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${A_SRCS})
  target_link_libraries(${name} PRIVATE pagellm_flags ${A_DEPS} GTest::gtest GTest::gtest_main)
  add_test(NAME ${name} COMMAND ${name})
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT 300)
  endif()
  set_tests_properties(${name} PROPERTIES TIMEOUT ${A_TIMEOUT}
    ENVIRONMENT "PAGELLM_TEST_DATA=${PROJECT_SOURCE_DIR}/tests/data;PAGELLM_SHARED=${PROJECT_SOURCE_DIR}/../shared")
  if(A_LABELS)
    set_tests_properties(${name} PROPERTIES LABELS "${A_LABELS}")
  endif()
endfunction()
