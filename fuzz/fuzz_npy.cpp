// Codes/latents NPY reader of the CLI (tools/cli/npy.cpp): any bytes as a .npy file.
#include "fuzz_common.h"
#include "npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    const std::string path = codec_fuzz::as_file(data, size);
    std::vector<int32_t> codes;
    std::vector<float> latent;
    int64_t rows = -1, cols = -1;
    std::string err;
    if (npy_read_i32(path, codes, rows, cols, err)) {
        codec_fuzz::check(rows >= 0 && cols >= 0 && (uint64_t) rows * (uint64_t) cols == codes.size(), "npy_read_i32 shape");
    } else {
        codec_fuzz::check(!err.empty(), "npy_read_i32 failed without a message");
    }
    err.clear();
    if (npy_read_f32(path, latent, rows, cols, err)) {
        codec_fuzz::check(rows >= 0 && cols >= 0 && (uint64_t) rows * (uint64_t) cols == latent.size(), "npy_read_f32 shape");
    } else {
        codec_fuzz::check(!err.empty(), "npy_read_f32 failed without a message");
    }
    return 0;
}
