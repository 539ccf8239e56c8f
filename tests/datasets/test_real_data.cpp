// The protocol's checks on the real data. They run only when the cache
// already holds it (tests never download): otherwise a WARN says so and the
// case passes. `data_check` (built next to this test) fetches the data.
#include <catch2/catch.hpp>

#include <tapegrad/datasets/fetch.hpp>
#include <tapegrad/datasets/imdb.hpp>
#include <tapegrad/datasets/mnist.hpp>

using namespace tg::data;

TEST_CASE("real data: MNIST has 60,000 + 10,000 images", "[datasets][real]") {
  auto files = cached_files(mnist_package());
  if (!files) {
    WARN("MNIST not in " << package_dir(mnist_package()).string() << ": skipped (run data_check to fetch it)");
    return;
  }
  Mnist m = load_mnist(files->at(0).parent_path());
  CHECK(m.train.size() == 60000);
  CHECK(m.test.size() == 10000);
  CHECK(int(m.train.labels[0]) == 5);
  CHECK(int(m.test.labels[0]) == 7);
  LoaderOptions o;
  o.batch = 50;
  MnistLoader it(m.train, o, mnist_batch);
  CHECK(it.batches_per_epoch() == 1200);
  CHECK(it.at(0, 0).x.shape() == std::vector<std::size_t>{28, 50, 28});
}

TEST_CASE("real data: IMDB matches docs/protocols.md section 4", "[datasets][real]") {
  auto files = cached_files(imdb_package());
  if (!files) {
    WARN("IMDB not in " << package_dir(imdb_package()).string() << ": skipped (run data_check to fetch it)");
    return;
  }
  Imdb d = load_imdb(files->at(0));
  CHECK(d.train.size() == 25000);
  CHECK(d.test.size() == 25000);
  float pos_train = 0, pos_test = 0;
  for (float l : d.train.labels) pos_train += l;
  for (float l : d.test.labels) pos_test += l;
  CHECK(pos_train == 12500);
  CHECK(pos_test == 12500);
  CHECK(d.distinct_train_tokens == 89705);
  CHECK(d.vocab.size() == 20002);
  CHECK(d.vocab.token(20001) == "massimo");
  CHECK(d.first_train_text.rfind("Once again Mr. Costner", 0) == 0);
  CHECK(d.train.labels[0] == 0.0f);
  const std::vector<std::int32_t> last12(d.train.ids.begin() + 188, d.train.ids.begin() + 200);
  CHECK(last12 == std::vector<std::int32_t>{10, 97, 78, 6, 393, 36, 1647, 9, 121, 32, 554, 8});
  LoaderOptions o;
  o.batch = 64;
  ImdbLoader it(d.train, o, imdb_batch);
  CHECK(it.batches_per_epoch() == 391);
  CHECK(it.at(0, 0).ids.shape() == std::vector<std::size_t>{200, 64});
}
