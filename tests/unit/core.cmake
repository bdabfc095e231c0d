# Core library tests: codec_unit_tests (error handling, hostile models, threads).
# Included from tests/unit/CMakeLists.txt (after find_package(GTest) / include(GoogleTest)).
#
# This file doubles as the script of the make_tiny_model test (cmake -P core.cmake), so the
# fixture needs no shell: it makes a random tiny DAC checkpoint and converts it to GGUF.
if (CMAKE_SCRIPT_MODE_FILE)
    # Inputs: PY (python), SRC (source root), OUT (gguf path).
    set(_ckpt "${OUT}.ckpt")
    execute_process(COMMAND "${PY}" "${SRC}/tests/fixtures/make_checkpoint.py" --arch dac --variant tiny --seed 0 --out "${_ckpt}"
                    COMMAND_ECHO STDOUT COMMAND_ERROR_IS_FATAL ANY)
    execute_process(COMMAND "${PY}" "${SRC}/scripts/convert.py" --input-dir "${_ckpt}" --out "${OUT}"
                    COMMAND_ECHO STDOUT COMMAND_ERROR_IS_FATAL ANY)
    file(REMOVE_RECURSE "${_ckpt}")
    if (NOT EXISTS "${OUT}")
        message(FATAL_ERROR "convert.py did not write ${OUT}")
    endif()
    return()
endif()

set(CODEC_PYTHON "${CMAKE_SOURCE_DIR}/.venv/bin/python" CACHE FILEPATH "python with torch/transformers/gguf for test fixtures")
set(CODEC_TEST_MODEL_DIR "${CMAKE_BINARY_DIR}/test-models")
set(CODEC_TINY_MODEL_PATH "${CODEC_TEST_MODEL_DIR}/dac-tiny.gguf")
file(MAKE_DIRECTORY "${CODEC_TEST_MODEL_DIR}")

add_test(NAME make_tiny_model
         COMMAND ${CMAKE_COMMAND} -DPY=${CODEC_PYTHON} -DSRC=${CMAKE_SOURCE_DIR} -DOUT=${CODEC_TINY_MODEL_PATH}
                 -P ${CMAKE_CURRENT_LIST_FILE})
set_tests_properties(make_tiny_model PROPERTIES FIXTURES_SETUP tiny_model TIMEOUT 300)

add_executable(codec_unit_tests
    ${CMAKE_CURRENT_LIST_DIR}/test_model_errors.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_api_errors.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_batch.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_threads.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_snac_errors.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_encodec_errors.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_mimi_errors.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_pocket_errors.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_bombs.cpp)
target_compile_options(codec_unit_tests PRIVATE -Wall -Wextra)
# ggml directly: the tests craft broken GGUF files with the gguf writer.
target_link_libraries(codec_unit_tests PRIVATE codec ggml::ggml ggml::ggml-base GTest::gtest_main)

gtest_discover_tests(codec_unit_tests
    DISCOVERY_MODE PRE_TEST
    DISCOVERY_TIMEOUT 60
    PROPERTIES
        ENVIRONMENT "CODEC_TINY_MODEL=${CODEC_TINY_MODEL_PATH}"
        FIXTURES_REQUIRED "tiny_model;fuzz_models"
        TIMEOUT 300)

# Quantizer ties on the fuzz targets' tiny models (every quantizer kind; fixture fuzz_models).
add_executable(codec_tie_tests ${CMAKE_CURRENT_LIST_DIR}/test_ties.cpp)
target_compile_options(codec_tie_tests PRIVATE -Wall -Wextra)
target_link_libraries(codec_tie_tests PRIVATE codec ggml::ggml ggml::ggml-base GTest::gtest_main)
gtest_discover_tests(codec_tie_tests
    DISCOVERY_MODE PRE_TEST
    PROPERTIES
        ENVIRONMENT "CODEC_FUZZ_MODELS=${CMAKE_BINARY_DIR}/fuzz-models"
        FIXTURES_REQUIRED fuzz_models
        TIMEOUT 300)

# Custom CPU ops vs the stock ggml compositions they replace, and the stream state's lagged convs
# vs the one-shot conv (internal headers from src/).
add_executable(codec_ops_tests ${CMAKE_CURRENT_LIST_DIR}/test_ops.cpp ${CMAKE_CURRENT_LIST_DIR}/test_stream_io.cpp)
target_include_directories(codec_ops_tests PRIVATE ${CMAKE_SOURCE_DIR}/src)
target_link_libraries(codec_ops_tests PRIVATE codec ggml::ggml ggml::ggml-base GTest::gtest_main)
gtest_discover_tests(codec_ops_tests DISCOVERY_MODE PRE_TEST)
