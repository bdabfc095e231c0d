// The one place that lists the supported architectures.
#include "codec_impl.h"
#include "models/dac.h"
#include "models/encodec.h"
#include "models/snac.h"
#include "models/mimi.h"
#include "models/qwen3_tokenizer.h"
#include "models/soprano.h"
#include "models/wavtokenizer.h"
#include "models/xcodec2.h"

const codec_arch_ops * codec_find_arch(const std::string & name) {
    static const codec_arch_ops * const archs[] = {
        &codec_arch_dac,
        &codec_arch_encodec,
        &codec_arch_snac,
        &codec_arch_mimi,
        &codec_arch_pocket_mimi,
        &codec_arch_qwen3_tokenizer,
        &codec_arch_wavtokenizer,
        &codec_arch_soprano,
        &codec_arch_xcodec2,
    };
    for (const codec_arch_ops * a : archs) {
        if (name == a->name) return a;
    }
    return nullptr;
}
