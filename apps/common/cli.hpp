// A small command-line parser shared by the apps: typed options with
// defaults, generated --help, and errors that name the option and value.
//
//   Cli cli("mnist_rnn", "Train an RNN on MNIST, one image row per step.");
//   cli.option("--steps", &steps, "training steps");
//   cli.flag("--bidirectional", &bidir, "run both directions");
//   cli.parse(argc, argv);   // exits 0 after --help, 2 on a usage error
//
// Exit codes of every app: 0 success, 1 a failure while running (bad data
// file, checkpoint mismatch, ...), 2 a usage error.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tg::app {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

class Cli {
 public:
  Cli(std::string program, std::string summary);

  // --name VALUE (also --name=VALUE). The target's current value is the
  // default shown in --help.
  void option(const std::string& name, std::string* target, const std::string& help);
  void option(const std::string& name, int* target, const std::string& help);
  void option(const std::string& name, std::size_t* target, const std::string& help);  // also seeds
  void option(const std::string& name, double* target, const std::string& help);
  // --name (no value): sets the target to true.
  void flag(const std::string& name, bool* target, const std::string& help);
  // Free text after the option list in --help (examples, exit codes).
  void epilog(std::string text) { epilog_ = std::move(text); }

  void parse(int argc, char** argv);
  // Was the option given on the command line (not just defaulted)?
  bool given(const std::string& name) const;
  std::string usage() const;

 private:
  struct Opt {
    std::string name, help, default_text;
    bool takes_value;
    std::function<void(const std::string&)> set;
    bool given = false;
  };
  [[noreturn]] void fail(const std::string& message) const;
  std::string program_, summary_, epilog_;
  std::vector<Opt> opts_;
};

}  // namespace tg::app
