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
#include <thread>

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

// Creates `file` with `text` in it; 0, or the errno of the call that failed
// (read at once: a later call, even a successful one, may change errno).
int write_whole(const std::string& file, const std::string& text) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) return errno;
  int err = 0;
  for (std::size_t done = 0; done < text.size() && err == 0;) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n >= 0) done += std::size_t(n);
    else if (errno != EINTR) err = errno;
  }
  if (::close(fd) != 0 && err == 0) err = errno;
  return err;
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
  const fs::path dir = fs::path(path).parent_path();
  std::error_code ec;
  if (!dir.empty() && !fs::create_directories(dir, ec) && ec)
    throw Error("cannot create the folder '" + dir.string() + "': " + ec.message());
  // Readers see the old file or the new one, never half of one.
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  if (const int err = write_whole(tmp, text); err != 0) {
    std::remove(tmp.c_str());  // may fail and set errno: err was kept before
    throw Error("cannot write '" + tmp + "': " + std::strerror(err));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    throw Error("cannot rename '" + tmp + "' to '" + path + "': " + std::strerror(err));
  }
}

Lock::Lock(const std::string& path, std::chrono::milliseconds wait) {
  const std::string file = path + ".lock";
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  const int open_err = fd_ < 0 ? errno : 0;
  // Another user's lock file: an flock needs no write access.
  if (open_err == EACCES) fd_ = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) {
    problem_ = "cannot open '" + file + "': " + std::strerror(open_err);
    return;
  }
  // Polled, not a blocking flock: a holder stopped by Ctrl-Z keeps its lock
  // for as long as it stays stopped.
  const auto deadline = std::chrono::steady_clock::now() + wait;
  int err;
  while ((err = ::flock(fd_, LOCK_EX | LOCK_NB) == 0 ? 0 : errno) != 0) {
    if (err == EINTR) continue;
    if (err != EWOULDBLOCK || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (err == 0) return;
  ::close(fd_);
  fd_ = -1;
  timed_out_ = err == EWOULDBLOCK;
  std::ostringstream why;
  if (timed_out_) why << "another process held '" << file << "' for " << double(wait.count()) / 1000 << " s";
  else why << "cannot lock '" << file << "': " << std::strerror(err);
  problem_ = why.str();
}

Lock::~Lock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

}  // namespace tg::blas::gemm_cache
