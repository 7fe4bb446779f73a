// Error messages are shown on one line (the CLI's "error: ...", the GUI's dialogs), but some quote text from
// a file: schema SQL in SQLite's errors, stored values.
#pragma once
#include <string>

namespace mls {

// `text` on one line: a line break and the indentation after it become one space, other control characters a
// space.
inline std::string oneLine(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  bool after_break = false;
  for (char c : text) {
    if (c == '\n' || c == '\r') {
      if (!after_break) out += ' ';
      after_break = true;
      continue;
    }
    if (after_break && (c == ' ' || c == '\t')) continue;
    after_break = false;
    out += static_cast<unsigned char>(c) < 0x20 ? ' ' : c;
  }
  return out;
}

}  // namespace mls
