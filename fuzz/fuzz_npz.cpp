// Multi-rate codes NPZ reader of the CLI (tools/cli/npz.cpp): any bytes as a .npz file.
#include "fuzz_common.h"
#include "npz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    const std::string path = codec_fuzz::as_file(data, size);
    std::vector<std::vector<int32_t>> levels;
    std::string err;
    if (npz_read_levels(path, levels, err)) {
        codec_fuzz::check(!levels.empty() && levels.size() <= 64, "npz level count");
    } else {
        codec_fuzz::check(!err.empty(), "npz_read_levels failed without a message");
    }
    return 0;
}
