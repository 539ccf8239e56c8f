// Transitional: the apps' progress and metrics now live in train/log.hpp.
#pragma once

#include "train/log.hpp"

namespace tg::app {
using train::MetricsCsv;
using train::Progress;
using train::seconds_since;
void set_threads(int n);
}  // namespace tg::app
