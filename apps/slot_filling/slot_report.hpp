// slot_filling's sections of the --report notebook (train/report.hpp).
#pragma once

#include "apps/slot_filling/slot_app.hpp"

namespace tg::slotapp {

// The lecture's two sentences: Taipei is the destination in the first and
// the place of departure in the second. Tagged after a run on the built-in
// corpus and in the report.
constexpr const char* kLectureSentences[] = {"I would like to arrive Taipei on November 2nd",
                                             "leave Taipei on November 2nd"};

// The report's own sections: what the run is, the lecture's two sentences
// tagged, --tag's sentences, precision / recall / F1 of the most frequent
// slot types (when the test split was scored).
void add_report(train::Report& report, const Settings& settings, const app::TrainingFlags& flags,
                const slots::SlotData& data, RunResult& result);

}  // namespace tg::slotapp
