#include <tapegrad/io/atomic_file.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <tapegrad/backend/tensor.hpp>

namespace tg::io {
namespace {

namespace fs = std::filesystem;

std::string folder_of(const std::string& path) {
  const std::string dir = fs::path(path).parent_path().string();
  return dir.empty() ? "." : dir;
}

int write_all(int fd, const char* data, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data += w;
    n -= std::size_t(w);
  }
  return 0;
}

}  // namespace

int remove_stale_temp_files(const std::string& path) {
  const std::string prefix = fs::path(path).filename().string() + ".tmp.";
  std::error_code ec;
  int removed = 0;
  for (const auto& entry : fs::directory_iterator(folder_of(path), ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const std::string pid_text = name.substr(prefix.size());
    if (pid_text.empty() || pid_text.find_first_not_of("0123456789") != std::string::npos) continue;
    const long pid = std::strtol(pid_text.c_str(), nullptr, 10);
    // Signal 0 probes without signalling: ESRCH means no such process.
    if (pid > 0 && ::kill(pid_t(pid), 0) != 0 && errno == ESRCH) {
      std::error_code rm;
      if (fs::remove(entry.path(), rm)) ++removed;
    }
  }
  return removed;
}

std::string stage_file(const std::string& path, const std::vector<std::string_view>& pieces) {
  remove_stale_temp_files(path);
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0)
    throw Error("cannot write '" + path + "' (open '" + tmp + "'): " + std::strerror(errno));
  const char* step = "write";
  int err = 0;
  for (std::size_t i = 0; i < pieces.size() && err == 0; ++i)
    err = write_all(fd, pieces[i].data(), pieces[i].size());
  if (err == 0 && ::fsync(fd) != 0) {
    step = "fsync";
    err = errno;
  }
  if (::close(fd) != 0 && err == 0) {
    step = "close";
    err = errno;
  }
  if (err != 0) {
    ::unlink(tmp.c_str());
    throw Error("cannot write '" + path + "' (" + step + " '" + tmp + "'): " + std::strerror(err));
  }
  return tmp;
}

void commit_file(const std::string& temp, const std::string& path, bool sync_folder) {
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    throw Error("cannot write '" + path + "' (rename '" + temp + "'): " + std::strerror(err));
  }
  if (!sync_folder) return;
  // Best effort: the new file is complete and in place either way.
  const int dfd = ::open(folder_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

void write_file_atomic(const std::string& path, const std::vector<std::string_view>& pieces) {
  commit_file(stage_file(path, pieces), path);
}

void write_file_atomic(const std::string& path, std::string_view content) {
  write_file_atomic(path, std::vector<std::string_view>{content});
}

void check_writable(const std::string& path, const std::string& what) {
  std::error_code ec;
  const std::string dir = folder_of(path);
  if (fs::is_directory(path, ec))
    throw Error(what + " '" + path + "' is a folder; give a file name");
  if (!fs::is_directory(dir, ec))
    throw Error(what + " '" + path + "': the folder '" + dir + "' does not exist");
  // rename() replaces a read-only file too, and root passes access(W_OK):
  // the mode bits are the user's "keep this".
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && ((st.st_mode & 0222) == 0 || ::access(path.c_str(), W_OK) != 0))
    throw Error(what + " '" + path + "' exists and is read-only; refusing to replace it");
  const std::string probe = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0)
    throw Error(what + " '" + path + "' cannot be written in '" + dir + "': " + std::strerror(errno));
  ::close(fd);
  ::unlink(probe.c_str());
}

}  // namespace tg::io
