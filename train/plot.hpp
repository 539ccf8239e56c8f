// The figures of a run report (train/report.hpp), drawn by gnuplot
// (Debian's gnuplot-nox) to PNG through its cairo terminal. gnuplot gives
// axes, ticks, legends, log scales, images and heat maps for the price of a
// few lines of script; it runs as a subprocess per figure, only when a report
// is written. A figure is a gnuplot script with its data inline, so it can be
// kept, read and re-run by hand.
//
//   Chart c{"loss", "step", "loss", {{"train", steps, losses}, {"test", steps, test_losses}}};
//   std::string png = render_png(chart_figure("loss", c));   // the bytes of a PNG file
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tg::train {

struct Series {
  std::string name;  // the legend's
  std::vector<double> x, y;
};

// Lines with points, one per series, with labelled axes and a legend.
struct Chart {
  std::string title, xlabel, ylabel;
  std::vector<Series> series;
  bool log_y = false;  // a log scale, when every value is positive and they span 10x
};

// What gnuplot draws: every command but the terminal and the output file.
struct Figure {
  std::string name;    // the file's: "loss" -> REPORT.loss.png
  std::string script;  // gnuplot commands, data inline
  int width = 720, height = 420;
};

Figure chart_figure(std::string name, const Chart& chart);

// Gray images side by side (row-major, `rows` x `cols`, 0 white .. 255
// black), each with a title under it: e.g. digits with their labels.
Figure image_strip(std::string name, const std::vector<std::vector<std::uint8_t>>& images, std::size_t rows,
                   std::size_t cols, const std::vector<std::string>& titles);

// A matrix of counts as a heat map with each count written in its cell;
// `labels` name the rows and the columns alike (a confusion matrix).
Figure heat_map(std::string name, const std::string& title, const std::string& xlabel, const std::string& ylabel,
                const std::vector<std::vector<double>>& matrix, const std::vector<std::string>& labels);

// The gnuplot on PATH. Throws tg::Error saying what to install when there is
// none, or when it cannot draw PNG (no pngcairo terminal).
std::string find_gnuplot();

// The PNG file gnuplot draws from `figure`. Throws tg::Error with gnuplot's
// message when it fails.
std::string render_png(const Figure& figure);

// A value as gnuplot reads it in a string: single quotes, '' for a quote.
std::string gnuplot_quote(const std::string& text);

}  // namespace tg::train
