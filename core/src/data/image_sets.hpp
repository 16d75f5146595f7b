#pragma once
// Real image data sets of docs/science.md §6, read from files the user points at
// (nothing is downloaded). Every loader checks what it reads and fails with
// a DataError naming the file and the problem.

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ssrl/datasets.hpp"

namespace ssrl {

// An image set: either held in memory (N x C x H x W uint8) or decoded from
// files on demand. Labels are int64 in [0, classes).
class ImageSet {
 public:
  virtual ~ImageSet() = default;
  virtual std::int64_t size() const = 0;
  virtual std::int64_t channels() const = 0;
  virtual std::int64_t height() const = 0;
  virtual std::int64_t width() const = 0;
  virtual int classes() const = 0;
  virtual const torch::Tensor& labels() const = 0;
  // Images at the given indices, N x C x H x W uint8 on the CPU.
  virtual torch::Tensor images(const torch::Tensor& indices) = 0;
};

// In-memory set (Fashion-MNIST, CIFAR, tests).
class TensorImageSet : public ImageSet {
 public:
  TensorImageSet(torch::Tensor images, torch::Tensor labels, int classes);
  std::int64_t size() const override { return images_.size(0); }
  std::int64_t channels() const override { return images_.size(1); }
  std::int64_t height() const override { return images_.size(2); }
  std::int64_t width() const override { return images_.size(3); }
  int classes() const override { return classes_; }
  const torch::Tensor& labels() const override { return labels_; }
  torch::Tensor images(const torch::Tensor& indices) override { return images_.index_select(0, indices); }
  const torch::Tensor& all() const { return images_; }

 private:
  torch::Tensor images_, labels_;
  int classes_;
};

struct DataSplit {
  std::shared_ptr<ImageSet> train, test;
  std::vector<float> mean, std;  // per channel, for normalisation (set by load_dataset)
  std::string name;
};

// Fashion-MNIST IDX files (gzip or plain): train-images-idx3-ubyte[.gz], ...
DataSplit load_fashion_mnist(const std::string& dir);
// CIFAR-10 (data_batch_1..5.bin, test_batch.bin) or CIFAR-100 (train.bin,
// test.bin, fine labels), binary versions.
DataSplit load_cifar(const std::string& dir, int classes);
// Image folders: <dir>/train/<class>/**.{jpg,jpeg,png} and <dir>/val/...;
// Tiny-ImageNet's val/images + val/val_annotations.txt is understood too.
// Images are decoded on demand, resized to size x size (shorter side, centre
// crop), with `threads` decoding in parallel.
DataSplit load_image_folders(const std::string& dir, const std::string& name, int size, int threads);

// The data set's files in `dir`, read by the loader its declaration names
// (ssrl/datasets.hpp), with its normalisation. `image_size` 0 = its own.
DataSplit load_dataset(const DatasetInfo& info, const std::string& dir, int image_size, int threads);

// A file that may be gzip-compressed, read piece by piece so that memory
// follows what the file holds, never what its header claims. DataError naming
// the file for anything wrong.
class MaybeGzipped {
 public:
  explicit MaybeGzipped(const std::string& path);
  ~MaybeGzipped();
  MaybeGzipped(const MaybeGzipped&) = delete;
  MaybeGzipped& operator=(const MaybeGzipped&) = delete;
  // Appends up to n more bytes to out; returns how many (fewer at the end).
  std::size_t read(std::uint64_t n, std::vector<unsigned char>& out);
  bool at_end();                 // reads one byte to see
  bool compressed();             // false for a plain file (valid after a read)
  std::uint64_t file_size() const { return file_size_; }  // on disk

 private:
  void fail_if_damaged();
  std::string path_;
  void* file_ = nullptr;  // gzFile, kept out of this header
  std::uint64_t file_size_ = 0;
};
// The IDX readers (Fashion-MNIST), for the loaders and the fuzz target.
torch::Tensor read_idx_images(const std::string& path);
torch::Tensor read_idx_labels(const std::string& path, int classes);

}  // namespace ssrl
