// MNIST for the RNN classifier of docs/protocols.md section 3: each 28x28 image is
// a sequence of 28 rows (time steps) of 28 pixels, fed time-major.
//
// Pixels stay uint8 in memory (47 MB for the training set instead of 188 MB
// as float) and become float32 value/255 one batch at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <vector>

#include <tapegrad/backend/tensor.hpp>
#include <tapegrad/datasets/loader.hpp>

namespace tg::data {

constexpr std::size_t kMnistSide = 28;

// One image of a split: a view into it, no copy.
struct MnistImage {
  Span<std::uint8_t> pixels;  // 28x28, row-major
  int label;                  // 0..9
};

// A dataset for data::Loader (size(), get(i)), batched by mnist_batch.
struct MnistSplit {
  std::vector<std::uint8_t> pixels;  // size() * 784, image-major, row-major
  std::vector<std::uint8_t> labels;  // 0..9
  std::size_t size() const { return labels.size(); }
  MnistImage get(std::size_t i) const;  // tg::Error naming i when out of range
};

struct Mnist {
  MnistSplit train;  // 60,000
  MnistSplit test;   // 10,000
};

struct MnistBatch {
  Tensor<float> x;          // (28 time, B, 28), value/255
  std::vector<int> labels;  // B digits
};

// Reads one image file and its label file and checks them against each
// other: magic, 28x28 images, equal counts, labels 0..9.
MnistSplit load_mnist_split(const std::filesystem::path& images, const std::filesystem::path& labels);

// Reads the four files from a folder laid out like the cache
// (train-images-idx3-ubyte, ...). No download.
Mnist load_mnist(const std::filesystem::path& dir);

// The app entry point: `data_dir` is the --data flag (empty: the cache);
// fetches and verifies the files on first use, then loads them.
Mnist fetch_mnist(const std::filesystem::path& data_dir = {}, bool own_data = false);

// The images `idx` of a split as a time-major batch: the collate of
// MnistLoader.
MnistBatch mnist_batch(const MnistSplit& split, const std::vector<std::size_t>& idx);
// A split's batches; with shuffle, EpochSampler's order (what mnist_rnn trains on):
//   data::LoaderOptions o;  o.batch = 50;  o.seed = seed;
//   MnistLoader loader(mnist.train, o, mnist_batch);   loader.at(epoch, index)
using MnistLoader = Loader<MnistSplit, decltype(&mnist_batch)>;
// Images begin .. begin+count-1 in file order (clipped at the end), e.g. the
// test set in chunks of 1000.
MnistBatch mnist_range(const MnistSplit& split, std::size_t begin, std::size_t count);

}  // namespace tg::data
