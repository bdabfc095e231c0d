// The CLI's file readers and writers promise "false + message, never a throw": each body runs
// under this guard, which turns exceptions (allocation, parsing) into `err`, prefixed with the
// path when there is one.
#ifndef CODEC_CLI_GUARDED_H
#define CODEC_CLI_GUARDED_H

#include <exception>
#include <new>
#include <string>

template <typename Fn>
bool cli_guarded(const std::string & path, std::string & err, Fn fn) {
    try {
        if (fn()) return true;
    } catch (const std::bad_alloc &) {
        err = "out of memory";
    } catch (const std::exception & e) {
        err = e.what();
    }
    if (!path.empty()) err = path + ": " + err;
    return false;
}

#endif  // CODEC_CLI_GUARDED_H
