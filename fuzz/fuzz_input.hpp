// Shared by the fuzz targets: the readers take file paths, so each input is
// written to a file of this process (a fixed path under /tmp, reused for
// every input and removed at exit) and the reader is pointed at it.
//
// The rule every target checks: a reader accepts its input or throws
// tg::Error. Any other exception escapes LLVMFuzzerTestOneInput and aborts
// the process, which the fuzzer (and the replay driver) report as a finding,
// as they do a crash, a sanitizer report or a hang.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>

#include <tapegrad/backend/tensor.hpp>  // tg::Error

namespace tg::fuzz {

// "/tmp/tapegrad-fuzz-<pid>-<name>": a file or folder name for this process.
// Whatever is created there is removed when the process exits normally.
std::string temp_path(const std::string& name);

// Replaces the content of `path` with `size` bytes; aborts with a message if
// the file cannot be written (that is the machine, not the reader).
void write_file(const std::string& path, const std::uint8_t* data, std::size_t size);

// Fails loudly (message, then abort) when an invariant of a reader's result
// does not hold: a reader that returns must return something consistent.
void check(bool ok, const char* what);

// What a reader made of the input: accepted, or refused with a tg::Error
// (the expected way to refuse). With TAPEGRAD_FUZZ_VERBOSE set, printed to
// stderr (to see why each input of a corpus is refused); silent otherwise.
void accepted(const char* what);
void refused(const char* what, const std::exception& e);

// Runs read() (a reader and the checks of its result): a tg::Error is a
// refusal; anything else thrown escapes.
template <class F>
void attempt(const char* what, F&& read) {
  try {
    read();
    accepted(what);
  } catch (const Error& e) {
    refused(what, e);
  }
}

}  // namespace tg::fuzz
