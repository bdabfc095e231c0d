// codec-cli over several files in one process: encode / decode / roundtrip of a list of inputs
// (--in or --codes repeated, --list FILE) into --out-dir, --batch inputs per codec_encode_batch /
// codec_decode_batch call. Each file is processed whole (the batch calls are one-shot).
#ifndef CODEC_CLI_BATCH_H
#define CODEC_CLI_BATCH_H

#include "cli.h"

#include <cstdio>
#include <string>

namespace cli {

// The command line asks for the several-files form: more than one input, --list or --out-dir.
bool batch_mode(const Options & o);

// Usage errors of either form's options, before any work (audio_out: the command writes audio).
bool batch_check_usage(const Options & o, bool audio_out, std::string & err);

// The --help paragraph on the several-files form (audio_in: encode / roundtrip; audio_out:
// decode / roundtrip).
void batch_print_help(std::FILE * f, bool audio_in, bool audio_out);

// encode (decode false), decode (encode false) or roundtrip (both) of every input; an exit status.
int batch_run(const Options & o, bool encode, bool decode);

}  // namespace cli

#endif  // CODEC_CLI_BATCH_H
