#include "apps/common/schedule.hpp"

#include <fmt/core.h>

#include "apps/common/cli.hpp"

namespace tg::app {

void add_schedule_flags(CLI::App& cli, std::string& schedule, double& min_lr, const std::string& constant_help) {
  cli.add_option("--schedule", schedule,
                 "learning rate: " + constant_help + ", or cosine (from --lr down to --min-lr at the run's last step)")
      ->check(CLI::IsMember({"constant", "cosine"}));
  cli.add_option("--min-lr", min_lr, "with --schedule cosine: the learning rate at the last step")
      ->check(finite_range(0, 10));
}

std::string describe_lr(double lr, const std::string& schedule, double min_lr) {
  if (schedule == "constant") return fmt::format("{:g}", lr);
  return fmt::format("{:g} ({} to {:g} at the last step)", lr, schedule, min_lr);
}

RunSchedule::RunSchedule(Session& session, Optimizer<float>& optimizer, const std::string& schedule,
                         double min_lr) {
  if (schedule != "cosine") return;
  cosine_.emplace(optimizer, session.trainer().total_steps(), float(min_lr));
  session.trainer().schedule(*cosine_, train::Every::Step);
}

}  // namespace tg::app
