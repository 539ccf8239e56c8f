// Text of the apps' run reports (--report) that more than one app shows: the
// recurrent cells' equations in LaTeX, in the lecture's notation.
#pragma once

#include <string>

namespace tg::app {

// Markdown with the equations of one step of `cell` (rnn | lstm | gru) and
// a sentence on what they mean.
std::string cell_equations(const std::string& cell);

}  // namespace tg::app
