// Every file tapegrad writes (checkpoints, vocabularies, tag lists, metrics
// CSVs, cache stamps, reports) goes through here, so a reader or a crash sees
// the old file or the new one, never half of one:
//
//   PATH.tmp.<pid> in PATH's folder  ->  write  ->  fsync  ->  rename over PATH
//   ->  fsync the folder (the rename itself survives a power cut)
//
// A save killed midway leaves only its temp file behind; the next save to the
// same PATH removes temp files whose process is gone.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tg::io {

// Writes the pieces, in order, as the whole new content of `path`. On failure
// the temp file is removed, `path` is untouched, and tg::Error names the path,
// the step that failed and the system's reason.
void write_file_atomic(const std::string& path, const std::vector<std::string_view>& pieces);
void write_file_atomic(const std::string& path, std::string_view content);

// The two halves of write_file_atomic, for files that go in together (a
// report and its figures): stage_file writes and fsyncs PATH.tmp.<pid> and
// returns its name; commit_file renames it over `path` and fsyncs the
// folder (the last of several commits may do it for all). Each throws tg::Error as write_file_atomic does, leaving no temp
// file of the failed step.
std::string stage_file(const std::string& path, const std::vector<std::string_view>& pieces);
void commit_file(const std::string& temp, const std::string& path, bool sync_folder = true);

// Throws tg::Error (naming `path` and why) unless a file can be written at
// `path`: its folder exists and is writable, `path` is not a folder, and a
// file already there is not read-only (no write bit, or not writable by us). Apps
// call it for every output before any work starts. Writes nothing that stays.
void check_writable(const std::string& path, const std::string& what);

// Removes PATH.tmp.<pid> files whose process no longer runs; returns how
// many. Called by write_file_atomic.
int remove_stale_temp_files(const std::string& path);

}  // namespace tg::io
