#include <tapegrad/autograd/profiler.hpp>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

#include <fmt/core.h>

namespace tg::profiler {
namespace detail {

bool on = false;

namespace {
// Keyed by name text (op names are string literals, but the same name may
// live at two addresses in two translation units).
std::map<std::string, OpStats>& table() {
  static std::map<std::string, OpStats> t;
  return t;
}
}  // namespace

void add_forward(const char* op, Clock::duration d, std::size_t bytes, bool first_result) {
  OpStats& s = table()[op];
  s.calls += first_result;
  s.forward_seconds += std::chrono::duration<double>(d).count();
  s.bytes += bytes;
}

void add_backward(const char* op, Clock::duration d) {
  OpStats& s = table()[op];
  ++s.backward_calls;
  s.backward_seconds += std::chrono::duration<double>(d).count();
}

namespace {
struct Follower {
  void* tape;
  void (*switched)(void*, bool);
};
// Tapes are made and dropped on any thread; the switch itself is meant to
// be used while no tape is running (see the header).
std::mutex followers_lock;
std::vector<Follower>& followers() {
  static std::vector<Follower> f;
  return f;
}
}  // namespace

void follow(void* tape, void (*switched)(void*, bool)) {
  std::lock_guard<std::mutex> hold(followers_lock);
  followers().push_back({tape, switched});
}

void unfollow(void* tape) {
  std::lock_guard<std::mutex> hold(followers_lock);
  auto& f = followers();
  f.erase(std::remove_if(f.begin(), f.end(), [&](const Follower& x) { return x.tape == tape; }), f.end());
}

}  // namespace detail

void enable(bool on) {
  std::lock_guard<std::mutex> hold(detail::followers_lock);
  detail::on = on;
  for (const detail::Follower& f : detail::followers()) f.switched(f.tape, on);
}

void enable_from_environment() {
  static std::once_flag once;
  std::call_once(once, [] {
    const char* v = std::getenv("TAPEGRAD_PROFILE");
    if (v && *v && std::string(v) != "0") enable(true);
  });
}

void reset() { detail::table().clear(); }

OpStats stats(const std::string& op) {
  auto it = detail::table().find(op);
  return it == detail::table().end() ? OpStats{} : it->second;
}

namespace {
std::vector<std::pair<std::string, OpStats>> sorted() {
  std::vector<std::pair<std::string, OpStats>> rows(detail::table().begin(), detail::table().end());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    return a.second.forward_seconds + a.second.backward_seconds >
           b.second.forward_seconds + b.second.backward_seconds;
  });
  return rows;
}
}  // namespace

std::string table() {
  std::string out = fmt::format("{:<18} {:>10} {:>12} {:>12} {:>12} {:>7} {:>10}\n", "op", "calls",
                                "forward ms", "backward ms", "total ms", "share", "MB made");
  double total = 0;
  for (const auto& [name, s] : detail::table()) total += s.forward_seconds + s.backward_seconds;
  OpStats sum;
  for (const auto& [name, s] : sorted()) {
    const double t = s.forward_seconds + s.backward_seconds;
    out += fmt::format("{:<18} {:>10} {:>12.1f} {:>12.1f} {:>12.1f} {:>6.1f}% {:>10.1f}\n", name, s.calls,
                       s.forward_seconds * 1e3, s.backward_seconds * 1e3, t * 1e3,
                       total > 0 ? 100 * t / total : 0.0, double(s.bytes) / 1e6);
    sum.calls += s.calls;
    sum.forward_seconds += s.forward_seconds;
    sum.backward_seconds += s.backward_seconds;
    sum.bytes += s.bytes;
  }
  out += fmt::format("{:<18} {:>10} {:>12.1f} {:>12.1f} {:>12.1f} {:>6.1f}% {:>10.1f}\n", "total", sum.calls,
                     sum.forward_seconds * 1e3, sum.backward_seconds * 1e3, total * 1e3, 100.0,
                     double(sum.bytes) / 1e6);
  return out;
}

std::string csv() {
  std::string out = "op,calls,forward_ms,backward_ms,total_ms,mbytes\n";
  for (const auto& [name, s] : sorted())
    out += fmt::format("{},{},{:.6g},{:.6g},{:.6g},{:.6g}\n", name, s.calls, s.forward_seconds * 1e3,
                       s.backward_seconds * 1e3, (s.forward_seconds + s.backward_seconds) * 1e3,
                       double(s.bytes) / 1e6);
  return out;
}

}  // namespace tg::profiler
