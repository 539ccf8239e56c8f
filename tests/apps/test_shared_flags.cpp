// Every app on the one frame: the shared flags, given bad values, exit 2 with
// "prog: error:" before any work; --help exits 0 within 80 columns and names
// the exit codes; --load and --eval-only read the same everywhere.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

struct Run {
  int code;
  std::string out, err;
};

Run run(const std::string& exe, const std::string& args) {
  const std::string err_file = "/tmp/tg_shared_flags_" + std::to_string(::getpid()) + ".err";
  const std::string cmd = exe + " " + args + " 2>" + err_file + " </dev/null";
  Run r{};
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p);
  std::array<char, 4096> buf;
  std::size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (FILE* e = fopen(err_file.c_str(), "r")) {
    while ((n = fread(buf.data(), 1, buf.size(), e)) > 0) r.err.append(buf.data(), n);
    fclose(e);
  }
  std::remove(err_file.c_str());
  return r;
}

// The training apps: name and executable.
const std::vector<std::pair<std::string, std::string>>& apps() {
  static const std::vector<std::pair<std::string, std::string>> a = {
      {"mnist_rnn", MNIST_RNN_EXE},
      {"adding_problem", ADDING_PROBLEM_EXE},
      {"imdb_lstm", IMDB_LSTM_EXE},
      {"slot_filling", SLOT_FILLING_EXE},
  };
  return a;
}

// Writes +inf over the first element of every float32 tensor named model.*
// of a safetensors file, in place (no checkpoint writer would write it).
void poison_weights(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "r+b");
  REQUIRE(f);
  std::uint64_t n = 0;
  REQUIRE(std::fread(&n, 8, 1, f) == 1);
  std::string header(n, '\0');
  REQUIRE(std::fread(header.data(), 1, n, f) == n);
  const float inf = std::numeric_limits<float>::infinity();
  const nlohmann::json tensors = nlohmann::json::parse(header);
  for (const auto& [name, t] : tensors.items())
    if (name.rfind("model.", 0) == 0 && t.at("dtype") == "F32") {
      REQUIRE(std::fseek(f, long(8 + n + t.at("data_offsets").at(0).get<std::uint64_t>()), SEEK_SET) == 0);
      REQUIRE(std::fwrite(&inf, 4, 1, f) == 1);
    }
  std::fclose(f);
}

std::string line_with(const std::string& text, const std::string& start) {
  const auto at = text.find("\n  " + start);
  if (at == std::string::npos) return "";
  const auto end = text.find("\n  --", at + 1);
  return text.substr(at, end - at);
}

}  // namespace

TEST_CASE("shared flags: bad values are usage errors in every app", "[apps][cli]") {
  const std::vector<std::string> bad = {
      "--seed -1",        "--seed many",       "--threads 0",          "--threads 100000",
      "--steps -5",       "--steps 1e12",      "--epochs many",        "--eval-every -1",
      "--clip -1",        "--clip nan",        "--clip inf",           "--eval-only",
      "--save /nonexistent-folder/x.st",      "--metrics /nonexistent-folder/x.csv",
      "--save /tmp",      "--no-such-flag",    "--quiet=maybe",
      "--export-torch /nonexistent-folder/x.safetensors",  "--export-torch /tmp"};
  for (const auto& [name, exe] : apps())
    for (const auto& args : bad) {
      INFO(name << " " << args);
      const Run r = run(exe, args);
      CHECK(r.code == 2);
      CHECK(r.err.rfind(name + ": error: ", 0) == 0);
    }
}

TEST_CASE("shared flags: --export-torch replaces no other file, checked before any work",
          "[apps][cli][torch]") {
  const std::string dir = "/tmp/tg_shared_flags_export_" + std::to_string(::getpid());
  REQUIRE(std::system(("mkdir -p " + dir).c_str()) == 0);
  const std::string notes = dir + "/notes.txt", model = dir + "/model.safetensors";
  {
    std::FILE* f = std::fopen(notes.c_str(), "w");
    REQUIRE(f);
    std::fputs("not a model\n", f);
    std::fclose(f);
  }
  for (const auto& [name, exe] : apps()) {
    INFO(name);
    Run r = run(exe, "--export-torch " + notes);
    CHECK(r.code == 2);
    CHECK(r.err.find("--export-torch '" + notes + "' exists and is not a model exported for PyTorch") !=
          std::string::npos);
    r = run(exe, "--save " + model + " --export-torch " + dir + "/./model.safetensors");
    CHECK(r.code == 2);
    CHECK(r.err.find("is also the --save file") != std::string::npos);
    r = run(exe, "--load " + model + " --eval-only --export-torch " + model);
    CHECK(r.code == 2);
    CHECK(r.err.find("is also the --load file") != std::string::npos);
  }
  FILE* f = std::fopen(notes.c_str(), "r");
  REQUIRE(f);
  char line[64] = {};
  CHECK(std::fgets(line, sizeof line, f) == std::string("not a model\n"));  // untouched
  std::fclose(f);
  std::system(("rm -rf " + dir).c_str());
}

TEST_CASE("shared flags: no two outputs share a file, refused before any work", "[apps][cli]") {
  const std::string dir = "/tmp/tg_shared_flags_apart_" + std::to_string(::getpid());
  REQUIRE(std::system(("mkdir -p " + dir).c_str()) == 0);
  // (arguments, the message): the second output named is the one refused.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--save " + dir + "/o.st --metrics " + dir + "/./o.st", "--metrics '" + dir + "/./o.st' is also the --save file"},
      {"--save " + dir + "/r.ipynb --report " + dir + "/r.ipynb", "--report '" + dir + "/r.ipynb' is also the --save file"},
      {"--metrics " + dir + "/m.ipynb --report " + dir + "/m.ipynb", "is also the --metrics file"},
      {"--metrics " + dir + "/p.csv --profile-csv " + dir + "/p.csv", "--profile-csv '" + dir + "/p.csv' is also the --metrics file"},
      {"--load " + dir + "/l.st --metrics " + dir + "/l.st", "--metrics '" + dir + "/l.st' is also the --load file"}};
  for (const auto& [name, exe] : apps())
    for (const auto& [args, message] : cases) {
      INFO(name << " " << args);
      const Run r = run(exe, args);
      CHECK(r.code == 2);
      CHECK(r.err.find(message) != std::string::npos);
    }
  // Nothing was written: every run stopped at the flags.
  CHECK(std::system(("test -z \"$(ls -A " + dir + ")\"").c_str()) == 0);
  std::system(("rm -rf " + dir).c_str());
}

TEST_CASE("shared flags: a checkpoint of non-finite weights is refused by evaluation, naming the file",
          "[apps][cli][load]") {
  const std::string dir = "/tmp/tg_shared_flags_inf_" + std::to_string(::getpid());
  REQUIRE(std::system(("mkdir -p " + dir).c_str()) == 0);
  // The apps that need no downloaded data: adding_problem evaluates through
  // the skeleton's load, slot_filling (built-in corpus) its best weights.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {ADDING_PROBLEM_EXE, "--hidden 4 --batch 4 --eval-size 8 --steps 2 --quiet --compare none"},
      {SLOT_FILLING_EXE, "--hidden 4 --embed 4 --steps 2 --quiet"}};
  for (const auto& [exe, train] : cases) {
    const std::string st = dir + "/model.st";
    INFO(exe);
    REQUIRE(run(exe, train + " --save " + st).code == 0);
    REQUIRE(run(exe, "--load " + st + " --eval-only").code == 0);
    poison_weights(st);
    const Run r = run(exe, "--load " + st + " --eval-only");
    CHECK(r.code == 1);
    CHECK(r.err.find(st + " holds weights that cannot be evaluated: parameter '") != std::string::npos);
    CHECK(r.err.find("is inf") != std::string::npos);
    CHECK(r.out.find("nan") == std::string::npos);
  }
  std::system(("rm -rf " + dir).c_str());
}

TEST_CASE("shared flags: --help exits 0, fits 80 columns, names the exit codes", "[apps][cli]") {
  std::string load_help, eval_only_help;
  for (const auto& [name, exe] : apps()) {
    INFO(name);
    const Run r = run(exe, "--help");
    CHECK(r.code == 0);
    std::size_t start = 0, longest = 0;
    for (std::size_t end; (end = r.out.find('\n', start)) != std::string::npos; start = end + 1)
      longest = std::max(longest, end - start);
    CHECK(longest <= 80);
    CHECK(r.out.find("exit codes: 0 success, 1 failure while running") != std::string::npos);
    // The shared flags read the same everywhere.
    const std::string l = line_with(r.out, "--load"), e = line_with(r.out, "--eval-only");
    CHECK_FALSE(l.empty());
    CHECK_FALSE(e.empty());
    if (load_help.empty()) load_help = l, eval_only_help = e;
    CHECK(l == load_help);
    CHECK(e == eval_only_help);
  }
}
