#include "apps/common/cli.hpp"

#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace tg::app {
namespace {

template <class N>
N parse_number(const std::string& name, const std::string& text, bool allow_negative) {
  std::size_t used = 0;
  try {
    if constexpr (std::is_floating_point_v<N>) {
      const double v = std::stod(text, &used);
      if (used == text.size()) return static_cast<N>(v);
    } else {
      if (!allow_negative && !text.empty() && text[0] == '-') throw std::invalid_argument("neg");
      const long long v = std::stoll(text, &used);
      if (used == text.size()) return static_cast<N>(v);
    }
  } catch (const std::exception&) {
  }
  throw std::invalid_argument(name + ": '" + text + "' is not a valid " +
                              (std::is_floating_point_v<N> ? "number" :
                               allow_negative ? "integer" : "non-negative integer"));
}

template <class N>
std::string show(N v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

}  // namespace

Cli::Cli(std::string program, std::string summary)
    : program_(std::move(program)), summary_(std::move(summary)) {}

void Cli::option(const std::string& name, std::string* t, const std::string& help) {
  opts_.push_back({name, help, t->empty() ? "" : "'" + *t + "'", true,
                   [t](const std::string& v) { *t = v; }});
}
void Cli::option(const std::string& name, int* t, const std::string& help) {
  opts_.push_back({name, help, show(*t), true,
                   [t, name](const std::string& v) { *t = parse_number<int>(name, v, true); }});
}
void Cli::option(const std::string& name, std::size_t* t, const std::string& help) {
  opts_.push_back({name, help, show(*t), true, [t, name](const std::string& v) {
                     *t = parse_number<std::size_t>(name, v, false);
                   }});
}
void Cli::option(const std::string& name, double* t, const std::string& help) {
  opts_.push_back({name, help, show(*t), true,
                   [t, name](const std::string& v) { *t = parse_number<double>(name, v, true); }});
}
void Cli::flag(const std::string& name, bool* t, const std::string& help) {
  opts_.push_back({name, help, "", false, [t](const std::string&) { *t = true; }});
}

std::string Cli::usage() const {
  std::string s = "usage: " + program_ + " [options]\n\n" + summary_ + "\n\noptions:\n";
  for (const Opt& o : opts_) {
    std::string head = "  " + o.name + (o.takes_value ? " VALUE" : "");
    if (head.size() < 26) head.resize(26, ' ');
    else head += "\n" + std::string(26, ' ');
    s += head + o.help + (o.default_text.empty() ? "" : " (default " + o.default_text + ")") + "\n";
  }
  s += "  --help                  show this help and exit\n";
  if (!epilog_.empty()) s += "\n" + epilog_ + "\n";
  return s;
}

void Cli::fail(const std::string& message) const {
  std::fprintf(stderr, "%s: %s (try --help)\n", program_.c_str(), message.c_str());
  std::exit(kExitUsage);
}

bool Cli::given(const std::string& name) const {
  for (const Opt& o : opts_)
    if (o.name == name) return o.given;
  return false;
}

void Cli::parse(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i], value;
    if (arg == "--help" || arg == "-h") {
      std::fputs(usage().c_str(), stdout);
      std::exit(0);
    }
    const auto eq = arg.find('=');
    bool inline_value = false;
    if (arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      inline_value = true;
    }
    Opt* opt = nullptr;
    for (Opt& o : opts_)
      if (o.name == arg) opt = &o;
    if (!opt) fail("unknown option '" + arg + "'");
    if (opt->takes_value && !inline_value) {
      if (i + 1 >= argc) fail(arg + " needs a value");
      value = argv[++i];
    } else if (!opt->takes_value && inline_value) {
      fail(arg + " takes no value");
    }
    try {
      opt->set(value);
    } catch (const std::exception& e) {
      fail(e.what());
    }
    opt->given = true;
  }
}

}  // namespace tg::app
