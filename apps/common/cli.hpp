// The command line's shared pieces (apps/common/cli.cpp): the help's
// layout and parsing helpers the frame needs. finite_range and at_least,
// used by every app, are declared in frame.hpp.
#pragma once

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

namespace tg::app {

// Each option on a line of its own, its description wrapped below it at 80
// columns.
std::shared_ptr<CLI::Formatter> help_formatter();

// A whole string read as a number (strtod); false when it is not one.
bool parse_number(const std::string& s, double* out);

// An argument as a shell reads it back (quoted when it must be).
std::string shell_word(const std::string& a);

}  // namespace tg::app
