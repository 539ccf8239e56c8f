#include <tapegrad/train/plot.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/core.h>

#include <tapegrad/backend/tensor.hpp>

namespace tg::train {
namespace {

namespace fs = std::filesystem;

std::string number(double v) { return std::isfinite(v) ? fmt::format("{:.9g}", v) : "NaN"; }

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Runs `command` through the shell; its exit status and what it printed.
int run_command(const std::string& command, std::string* output) {
  std::FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) throw Error("cannot start '" + command + "'");
  char buf[512];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) output->append(buf, n);
  const int status = ::pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string matrix_block(const std::string& name, const std::vector<std::vector<double>>& rows) {
  std::string s = name + " << EOD\n";
  for (const auto& row : rows) {
    for (std::size_t j = 0; j < row.size(); ++j) s += (j ? " " : "") + number(row[j]);
    s += "\n";
  }
  return s + "EOD\n";
}

}  // namespace

std::string gnuplot_quote(const std::string& text) {
  std::string q = "\"";
  for (char c : text) {
    if (c == '\n') q += "\\n";
    else if (c == '"' || c == '\\') q += std::string("\\") + c;
    else q += c;
  }
  return q + "\"";
}

Figure chart_figure(std::string name, const Chart& c) {
  std::string s = fmt::format("set title {}\nset xlabel {}\nset ylabel {}\nset grid\nset key outside right top\n",
                              gnuplot_quote(c.title), gnuplot_quote(c.xlabel), gnuplot_quote(c.ylabel));
  double lo = INFINITY, hi = -INFINITY;
  for (const Series& ser : c.series)
    for (double y : ser.y) lo = std::min(lo, y), hi = std::max(hi, y);
  if (c.log_y && lo > 0 && hi > 10 * lo) s += "set logscale y\n";  // only where it shows more
  std::string plot;
  for (std::size_t i = 0; i < c.series.size(); ++i) {
    const Series& ser = c.series[i];
    if (ser.x.empty()) continue;
    std::vector<std::vector<double>> rows;
    for (std::size_t k = 0; k < ser.x.size() && k < ser.y.size(); ++k) rows.push_back({ser.x[k], ser.y[k]});
    s += matrix_block(fmt::format("$s{}", i), rows);
    plot += fmt::format("{}$s{} using 1:2 with linespoints pointtype 7 pointsize 0.6 linewidth 2 title {}",
                        plot.empty() ? "" : ", ", i, gnuplot_quote(ser.name));
  }
  if (plot.empty())  // gnuplot cannot plot nothing: an empty frame that says so
    s += "set label 1 'no data' at graph 0.5, 0.5 center\nplot [0:1] [0:1] NaN notitle\n";
  else
    s += "plot " + plot + "\n";
  return {std::move(name), std::move(s)};
}

Figure image_strip(std::string name, const std::vector<std::vector<std::uint8_t>>& images, std::size_t rows,
                   std::size_t cols, const std::vector<std::string>& titles) {
  if (images.empty()) throw Error("image_strip '" + name + "': no images");
  std::string s = fmt::format(
      "set multiplot layout 1, {}\nunset key\nunset tics\nunset colorbox\nunset border\n"
      "set palette gray negative\nset cbrange [0:255]\nset size ratio -1\n"
      "set xrange [-0.5:{}]\nset yrange [{}:-0.5]\nset lmargin 1\nset rmargin 1\n",
      images.size(), double(cols) - 0.5, double(rows) - 0.5);
  for (std::size_t i = 0; i < images.size(); ++i) {
    if (images[i].size() != rows * cols)
      throw Error(fmt::format("image_strip '{}': image {} has {} pixels, not {}x{}", name, i, images[i].size(),
                              rows, cols));
    std::vector<std::vector<double>> m(rows, std::vector<double>(cols));
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t k = 0; k < cols; ++k) m[r][k] = images[i][r * cols + k];
    s += matrix_block(fmt::format("$i{}", i), m);
    s += fmt::format("set xlabel {}\nplot $i{} matrix with image\n",
                     gnuplot_quote(i < titles.size() ? titles[i] : ""), i);
  }
  s += "unset multiplot\n";
  Figure f{std::move(name), std::move(s)};
  f.width = int(std::max<std::size_t>(360, 72 * images.size()));
  f.height = 150;
  return f;
}

Figure heat_map(std::string name, const std::string& title, const std::string& xlabel, const std::string& ylabel,
                const std::vector<std::vector<double>>& matrix, const std::vector<std::string>& labels) {
  const std::size_t n = matrix.size();
  std::string tics;
  for (std::size_t i = 0; i < labels.size(); ++i) tics += fmt::format("{}{} {}", i ? ", " : "", gnuplot_quote(labels[i]), i);
  std::string s = fmt::format(
      "set title {}\nset xlabel {}\nset ylabel {}\nunset key\nset size ratio -1\n"
      "set xrange [-0.5:{}]\nset yrange [{}:-0.5]\nset xtics ({}) scale 0\nset ytics ({}) scale 0\n"
      "set palette defined (0 '#ffffff', 1 '#2b6cb0')\nset cbrange [0:*]\n",
      gnuplot_quote(title), gnuplot_quote(xlabel), gnuplot_quote(ylabel), double(n) - 0.5, double(n) - 0.5, tics,
      tics);
  s += matrix_block("$m", matrix);
  s += "plot $m matrix with image, $m matrix using 1:2:(sprintf('%g', $3)) with labels font ',9'\n";
  Figure f{std::move(name), std::move(s)};
  f.width = f.height = 520;
  return f;
}

std::string find_gnuplot() {
  static const std::string found = [] {
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "", exe;
    std::istringstream in(dirs);
    for (std::string dir; std::getline(in, dir, ':');)
      if (!dir.empty() && ::access((fs::path(dir) / "gnuplot").c_str(), X_OK) == 0) {
        exe = (fs::path(dir) / "gnuplot").string();
        break;
      }
    if (exe.empty())
      throw Error("run reports draw their figures with gnuplot, and there is no 'gnuplot' on PATH: "
                  "install Debian's gnuplot-nox (scripts/setup.sh does)");
    std::string out;
    if (run_command(shell_quote(exe) + " -e 'set terminal pngcairo' </dev/null", &out) != 0)
      throw Error(exe + " cannot draw PNG files (no pngcairo terminal): install Debian's gnuplot-nox; it said: " +
                  out);
    return exe;
  }();
  return found;
}

std::string render_png(const Figure& figure) {
  static std::atomic<int> counter{0};
  const fs::path base = fs::temp_directory_path() /
                        fmt::format("tapegrad-figure-{}-{}", ::getpid(), counter.fetch_add(1));
  const std::string script = base.string() + ".gp", png = base.string() + ".png";
  {
    std::ofstream out(script);
    out << fmt::format("set terminal pngcairo size {},{} noenhanced font 'DejaVu Sans,10'\nset output {}\n",
                       figure.width, figure.height, gnuplot_quote(png))
        << figure.script << "unset output\n";
    if (!out) throw Error("cannot write the gnuplot script " + script);
  }
  std::string said;
  const int code = run_command(shell_quote(find_gnuplot()) + " " + shell_quote(script) + " </dev/null", &said);
  std::ifstream in(png, std::ios::binary);
  std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::error_code ignored;
  fs::remove(script, ignored);
  fs::remove(png, ignored);
  if (code != 0 || bytes.empty())
    throw Error(fmt::format("gnuplot could not draw the figure '{}' (exit code {}): {}", figure.name, code, said));
  return bytes;
}

}  // namespace tg::train
