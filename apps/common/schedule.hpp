// --schedule and --min-lr, spelled and meant alike in every app that has
// them: the learning rate constant, or a cosine from --lr down to --min-lr
// at the run's last step (the Trainer steps it after every step; its counter
// is in the checkpoint, so a resumed run follows the same curve).
//
//   add_schedule_flags(cli, s.schedule, s.min_lr, "constant (the protocol)");
//   ...
//   RunSchedule schedule(session, adam, s.schedule, s.min_lr);  // before session.start()
#pragma once

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "apps/common/session.hpp"
#include <tapegrad/optim/schedule.hpp>

namespace tg::app {

// `constant_help`: how the help names the constant choice, e.g.
// "constant (the protocol)".
void add_schedule_flags(CLI::App& cli, std::string& schedule, double& min_lr,
                        const std::string& constant_help = "constant");

// "0.002", or "0.002 (cosine to 0 at the last step)".
std::string describe_lr(double lr, const std::string& schedule, double min_lr);

// The schedule of a run, registered on its Trainer; build it before
// session.start(), which restores its counter on --load.
class RunSchedule {
 public:
  RunSchedule(Session& session, Optimizer<float>& optimizer, const std::string& schedule, double min_lr);
  RunSchedule(const RunSchedule&) = delete;  // the Trainer holds its address
  RunSchedule& operator=(const RunSchedule&) = delete;

 private:
  std::optional<CosineLR<float>> cosine_;
};

}  // namespace tg::app
