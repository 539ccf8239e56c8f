#include <tapegrad/backend/gemm_cache.hpp>

#include <cblas.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include <tapegrad/backend/gemm_choice.hpp>
#include <tapegrad/backend/tensor.hpp>

namespace tg::blas::gemm_cache {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
constexpr int kB = GemmChooser::kBuckets;
const char* const kCases[] = {"NN", "TN", "NT", "TT"};  // index order: ta + 2 tb

// Letters and digits kept, every other run of characters one '-'.
std::string tidy(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (std::isalnum(static_cast<unsigned char>(ch))) out += ch;
    else if (!out.empty() && out.back() != '-') out += '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "unknown" : out;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 1);
  return "";
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

std::string machine() {
  std::string core = tidy(openblas_get_corename());
  for (char& ch : core) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  // OpenBLAS sizes its blocks from it: another value, other timings.
  if (const std::string l2 = env("OPENBLAS_L2_SIZE"); !l2.empty()) core += "-l2-" + tidy(l2);
  return tidy(cpu_model()) + "-" + core;
}

std::string default_path() {
  fs::path dir;
  if (auto d = env("TAPEGRAD_CACHE"); !d.empty()) dir = d;
  else if (auto x = env("XDG_CACHE_HOME"); !x.empty()) dir = fs::path(x) / "tapegrad";
  else if (auto h = env("HOME"); !h.empty()) dir = fs::path(h) / ".cache" / "tapegrad";
  else return "";
  return (dir / ("gemm-" + machine() + ".json")).string();
}

std::string class_key(int index) {
  const int k = index % kB, n = index / kB % kB, m = index / (kB * kB) % kB, c = index / (kB * kB * kB);
  std::ostringstream s;
  s << kCases[c] << " m" << (1L << m) << " n" << (1L << n) << " k" << (1L << k);
  return s.str();
}

int class_index(const std::string& key) {
  for (int index = 0; index < 4 * kB * kB * kB; index += kB * kB * kB) {
    const std::string prefix = std::string(kCases[index / (kB * kB * kB)]) + " m";
    if (key.rfind(prefix, 0) != 0) continue;
    long m = 0, n = 0, k = 0;
    char rest = 0;
    if (std::sscanf(key.c_str() + prefix.size(), "%ld n%ld k%ld%c", &m, &n, &k, &rest) != 3) return -1;
    for (long v : {m, n, k})
      if (v < 1 || v > (1L << (kB - 1)) || (v & (v - 1)) != 0) return -1;
    const int i = index + (__builtin_ctzl(m) * kB + __builtin_ctzl(n)) * kB + __builtin_ctzl(k);
    return class_key(i) == key ? i : -1;
  }
  return -1;
}

Loaded load(const std::string& path) {
  Loaded out;
  std::ifstream in(path, std::ios::binary);
  if (!in) return out;
  try {
    const json j = json::parse(in);
    if (j.at("machine").get<std::string>() != machine())
      throw std::runtime_error("it was measured on " + j.at("machine").get<std::string>());
    for (const auto& [key, e] : j.at("classes").items()) {
      if (class_index(key) < 0) throw std::runtime_error("'" + key + "' is not a shape class");
      const std::string backend = e.at("backend").get<std::string>();
      if (backend != "own" && backend != "openblas")
        throw std::runtime_error("'" + key + "': backend '" + backend + "'");
      const auto& shape = e.at("shape");
      out.entries[key] = Entry{backend == "own", shape.at(0).get<int>(), shape.at(1).get<int>(),
                               shape.at(2).get<int>(), e.at("own_us").get<double>(),
                               e.at("openblas_us").get<double>()};
    }
  } catch (const std::exception& e) {
    out.entries.clear();
    out.problem = e.what();
  }
  return out;
}

void store(const std::string& path, const Entries& entries) {
  json classes = json::object();
  for (const auto& [key, e] : entries)
    classes[key] = {{"backend", e.own ? "own" : "openblas"},
                    {"shape", {e.m, e.n, e.k}},
                    {"own_us", std::round(e.own_us * 1000) / 1000},
                    {"openblas_us", std::round(e.openblas_us * 1000) / 1000}};
  const std::string text = json{{"machine", machine()}, {"classes", classes}}.dump(1) + "\n";
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  // Readers see the old file or the new one, never half of one.
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
      std::remove(tmp.c_str());
      throw Error("cannot write '" + tmp + "': " + std::strerror(errno));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    throw Error("cannot rename '" + tmp + "' to '" + path + "': " + std::strerror(err));
  }
}

Lock::Lock(const std::string& path) {
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  fd_ = ::open((path + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd_ < 0) return;
  while (::flock(fd_, LOCK_EX) != 0) {
    if (errno != EINTR) {
      ::close(fd_);
      fd_ = -1;
      return;
    }
  }
}

Lock::~Lock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

}  // namespace tg::blas::gemm_cache
