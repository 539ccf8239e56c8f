// A bound on how deeply JSON read from a file may nest.
//
// nlohmann::json parses iteratively, but copies, compares and prints
// (dump()) values recursively: a value nested some 100,000 levels deep (a
// few hundred KB of '[') overflows the stack as soon as it is copied or
// shown in an error message. Readers of JSON from files (the safetensors
// header, the checkpoint metadata) refuse text nested deeper than
// kMaxJsonDepth before parsing it; ours nests at most 4 levels.
#pragma once

#include <cstddef>
#include <string_view>

namespace tg {

inline constexpr std::size_t kMaxJsonDepth = 64;

// The byte offset of the first '[' or '{' that opens level max_depth + 1,
// or std::string_view::npos. Brackets inside strings do not count; malformed
// text is left for the parser to report.
inline std::size_t json_too_deep(std::string_view text, std::size_t max_depth = kMaxJsonDepth) {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;  // the escaped character cannot end the string
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::string_view::npos;
}

}  // namespace tg
