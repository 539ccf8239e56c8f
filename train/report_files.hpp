// The files of a run report on disk (train/report.hpp): the notebook PATH
// and its figures STEM.<name>.png beside it (STEM: PATH without .ipynb;
// <name> letters, digits, '_' and '-'), checked before a run and written as
// one unit.
//
// The notebook's metadata lists each figure file it goes with and the file's
// sha256 ("tapegrad": {"figures": {"run.loss.png": "<hex>"}}). That is how a
// later run knows that a PNG there is a figure a tapegrad report wrote,
// unchanged since, and may replace it; any other STEM.<name>.png (a file of
// yours, a folder, a read-only file) is refused, naming it.
//
// The order of a write: every figure and the notebook go to temp files,
// each fsync'ed; then the figures are renamed into place, the old
// notebook's figures that the new one lacks are removed, and the notebook is
// renamed last. A kill before the first rename leaves the old set; after the
// last, the new set. A kill in between (a few renames; nothing is written
// then) can leave new figures beside the old notebook: the new notebook is
// then whole as PATH.tmp.<pid>, and the next report to PATH trusts the
// figures such a staged notebook lists, and replaces them.
#pragma once

#include <string>
#include <vector>

namespace tg::train {

// A figure of a report: its file name beside the notebook, the PNG's bytes.
struct FigureFile {
  std::string file, png;
};

// Throws tg::Error naming the file unless every STEM.<name>.png beside
// `notebook` is a figure that a report at `notebook` wrote, unchanged since.
// Apps call it before any work (exit 2).
void check_report_files(const std::string& notebook);

// Writes the figures beside `notebook` and the notebook's `text` as one unit
// (the order above). Throws tg::Error, having replaced nothing, when the
// notebook there is not a tapegrad report or a figure's place is not ours.
void write_report_files(const std::string& notebook, const std::string& text,
                        const std::vector<FigureFile>& figures);

}  // namespace tg::train
