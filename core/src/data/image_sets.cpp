#include "data/image_sets.hpp"

#include <stb/stb_image.h>
#include <stb/stb_image_resize.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstring>
#include <mutex>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "ssrl/errors.hpp"

namespace fs = std::filesystem;

namespace ssrl {

TensorImageSet::TensorImageSet(torch::Tensor images, torch::Tensor labels, int classes)
    : images_(std::move(images)), labels_(std::move(labels)), classes_(classes) {}

MaybeGzipped::MaybeGzipped(const std::string& path) : path_(path) {
  std::error_code ec;
  const auto st = fs::status(path, ec);
  if (st.type() == fs::file_type::not_found) throw DataError(path + ": no such file");
  if (st.type() != fs::file_type::regular) throw DataError(path + ": not a regular file");
  file_size_ = fs::file_size(path, ec);
  file_ = gzopen(path.c_str(), "rb");  // reads plain files unchanged
  if (file_ == nullptr) throw DataError(path + ": cannot open");
}

MaybeGzipped::~MaybeGzipped() {
  if (file_ != nullptr) gzclose(static_cast<gzFile>(file_));
}

void MaybeGzipped::fail_if_damaged() {
  int code = 0;
  const char* why = gzerror(static_cast<gzFile>(file_), &code);
  // A gzip stream cut short reads as a clean end; zlib flags it as a buffer error.
  if (code == Z_BUF_ERROR) throw DataError(path_ + ": truncated compressed file");
  if (code != Z_OK && code != Z_STREAM_END) throw DataError(path_ + ": damaged compressed data (" + std::string(why) + ")");
}

std::size_t MaybeGzipped::read(std::uint64_t n, std::vector<unsigned char>& out) {
  auto* f = static_cast<gzFile>(file_);
  std::uint64_t done = 0;
  while (done < n) {
    const std::size_t chunk = static_cast<std::size_t>(std::min<std::uint64_t>(n - done, 1 << 20));
    const std::size_t old = out.size();
    out.resize(old + chunk);  // grows with what the file holds, not with what a header claims
    const int got = gzread(f, out.data() + old, static_cast<unsigned>(chunk));
    if (got < 0) {
      out.resize(old);
      fail_if_damaged();
      throw DataError(path_ + ": cannot read");
    }
    out.resize(old + static_cast<std::size_t>(got));
    done += static_cast<std::uint64_t>(got);
    if (static_cast<std::size_t>(got) < chunk) break;
  }
  fail_if_damaged();
  return static_cast<std::size_t>(done);
}

bool MaybeGzipped::at_end() {
  unsigned char byte = 0;
  const int got = gzread(static_cast<gzFile>(file_), &byte, 1);
  fail_if_damaged();
  return got <= 0;
}

bool MaybeGzipped::compressed() { return gzdirect(static_cast<gzFile>(file_)) == 0; }

namespace {

std::uint32_t big_endian(const unsigned char* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) | std::uint32_t(p[3]);
}

// The first of the names that exists in dir.
std::string find_file(const std::string& dir, const std::vector<std::string>& names, const std::string& what) {
  for (const auto& n : names)
    if (fs::exists(fs::path(dir) / n)) return (fs::path(dir) / n).string();
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  throw DataError(what + ": none of " + list + " in " + dir);
}


// An IDX file's items after its header: the header is checked first, and no
// more is decompressed than the header implies (plus one byte, to see trailing data).
std::vector<unsigned char> idx_body(MaybeGzipped& f, const std::string& path, std::size_t header, std::uint64_t expected,
                                    const std::string& what) {
  if (!f.compressed() && f.file_size() != header + expected)
    throw DataError(path + ": " + (f.file_size() < header + expected ? "truncated" : "has trailing data") + ": " + what + " need " +
                    std::to_string(header + expected) + " bytes, found " + std::to_string(f.file_size()));
  std::vector<unsigned char> body;
  f.read(expected, body);
  if (body.size() < expected)
    throw DataError(path + ": truncated: " + what + " need " + std::to_string(header + expected) + " bytes, found " +
                    std::to_string(header + body.size()));
  if (!f.at_end())
    throw DataError(path + ": has trailing data: " + what + " need " + std::to_string(header + expected) + " bytes, found more");
  return body;
}

}  // namespace

torch::Tensor read_idx_images(const std::string& path) {
  MaybeGzipped f(path);
  std::vector<unsigned char> head;
  f.read(16, head);
  if (head.size() < 16) throw DataError(path + ": too short for an IDX image file (" + std::to_string(head.size()) + " bytes)");
  if (big_endian(head.data()) != 0x00000803)
    throw DataError(path + ": not an IDX image file (magic number " + std::to_string(big_endian(head.data())) + ", expected 2051)");
  const std::int64_t n = big_endian(head.data() + 4), rows = big_endian(head.data() + 8), cols = big_endian(head.data() + 12);
  if (rows <= 0 || cols <= 0 || rows > 4096 || cols > 4096) throw DataError(path + ": implausible image size " + std::to_string(rows) + " x " + std::to_string(cols));
  if (n == 0) throw DataError(path + ": holds no images");
  const std::uint64_t expected = static_cast<std::uint64_t>(n) * static_cast<std::uint64_t>(rows * cols);
  const auto body = idx_body(f, path, 16, expected,
                             std::to_string(n) + " images of " + std::to_string(rows) + "x" + std::to_string(cols));
  auto t = torch::empty({n, 1, rows, cols}, torch::kUInt8);
  std::memcpy(t.data_ptr<std::uint8_t>(), body.data(), body.size());
  return t;
}

torch::Tensor read_idx_labels(const std::string& path, int classes) {
  MaybeGzipped f(path);
  std::vector<unsigned char> head;
  f.read(8, head);
  if (head.size() < 8) throw DataError(path + ": too short for an IDX label file");
  if (big_endian(head.data()) != 0x00000801)
    throw DataError(path + ": not an IDX label file (magic number " + std::to_string(big_endian(head.data())) + ", expected 2049)");
  const std::int64_t n = big_endian(head.data() + 4);
  if (n == 0) throw DataError(path + ": holds no labels");
  const auto body = idx_body(f, path, 8, static_cast<std::uint64_t>(n), std::to_string(n) + " labels");
  auto t = torch::empty({n}, torch::kLong);
  auto* out = t.data_ptr<std::int64_t>();
  for (std::int64_t i = 0; i < n; ++i) {
    const int v = body[static_cast<std::size_t>(i)];
    if (v >= classes) throw DataError(path + ": label " + std::to_string(v) + " of item " + std::to_string(i) + " is outside 0.." + std::to_string(classes - 1));
    out[i] = v;
  }
  return t;
}

namespace {

std::shared_ptr<ImageSet> idx_split(const std::string& dir, const std::string& prefix) {
  const auto img = find_file(dir, {prefix + "-images-idx3-ubyte.gz", prefix + "-images-idx3-ubyte", prefix + "-images.idx3-ubyte"},
                             "Fashion-MNIST " + prefix + " images");
  const auto lab = find_file(dir, {prefix + "-labels-idx1-ubyte.gz", prefix + "-labels-idx1-ubyte", prefix + "-labels.idx1-ubyte"},
                             "Fashion-MNIST " + prefix + " labels");
  auto images = read_idx_images(img);
  auto labels = read_idx_labels(lab, 10);
  if (images.size(0) != labels.size(0))
    throw DataError(img + " has " + std::to_string(images.size(0)) + " images but " + lab + " has " +
                    std::to_string(labels.size(0)) + " labels");
  return std::make_shared<TensorImageSet>(images, labels, 10);
}

void check_dir(const std::string& dir, const std::string& what) {
  if (dir.empty()) throw DataError(what + ": no data folder given (use --data-dir DIR)");
  if (!fs::is_directory(dir)) throw DataError(what + ": data folder '" + dir + "' does not exist");
}

}  // namespace

DataSplit load_fashion_mnist(const std::string& dir) {
  check_dir(dir, "Fashion-MNIST");
  DataSplit d;
  d.name = "fashion-mnist";
  d.train = idx_split(dir, "train");
  d.test = idx_split(dir, "t10k");
  return d;
}

namespace {

// `max_records`: how many the official file holds; a bigger file is refused by its size, unread.
std::shared_ptr<ImageSet> cifar_files(const std::vector<std::string>& files, int classes, std::uint64_t max_records) {
  const int label_bytes = classes == 100 ? 2 : 1;
  const std::size_t record = static_cast<std::size_t>(label_bytes) + 3072;
  std::vector<torch::Tensor> images, labels;
  for (const auto& path : files) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) throw DataError(path + ": not a regular file");
    const std::uint64_t size = fs::file_size(path, ec);
    if (ec) throw DataError(path + ": cannot read (" + ec.message() + ")");
    if (size == 0 || size % record != 0)
      throw DataError(path + ": " + std::to_string(size) + " bytes is not a whole number of " +
                      std::to_string(record) + "-byte CIFAR-" + std::to_string(classes) + " records (truncated, or the wrong file)");
    if (size / record > max_records)
      throw DataError(path + ": " + std::to_string(size / record) + " records; this CIFAR-" + std::to_string(classes) +
                      " file holds at most " + std::to_string(max_records) + " (the wrong file?)");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw DataError(path + ": cannot read");
    std::vector<unsigned char> bytes(static_cast<std::size_t>(size));
    if (!in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size)))
      throw DataError(path + ": cannot read (the file shrank while it was read)");
    const std::int64_t n = static_cast<std::int64_t>(bytes.size() / record);
    auto img = torch::empty({n, 3, 32, 32}, torch::kUInt8);
    auto lab = torch::empty({n}, torch::kLong);
    auto* ip = img.data_ptr<std::uint8_t>();
    auto* lp = lab.data_ptr<std::int64_t>();
    for (std::int64_t i = 0; i < n; ++i) {
      const unsigned char* r = bytes.data() + static_cast<std::size_t>(i) * record;
      const int label = r[label_bytes - 1];  // CIFAR-100: coarse then fine; we use fine
      if (label >= classes)
        throw DataError(path + ": record " + std::to_string(i) + " has label " + std::to_string(label) + ", outside 0.." + std::to_string(classes - 1));
      if (classes == 100 && r[0] >= 20)
        throw DataError(path + ": record " + std::to_string(i) + " has coarse label " + std::to_string(r[0]) + ", outside 0..19");
      lp[i] = label;
      std::memcpy(ip + i * 3072, r + label_bytes, 3072);
    }
    images.push_back(img);
    labels.push_back(lab);
  }
  return std::make_shared<TensorImageSet>(torch::cat(images), torch::cat(labels), classes);
}

}  // namespace

DataSplit load_cifar(const std::string& dir_in, int classes) {
  const std::string what = "CIFAR-" + std::to_string(classes);
  check_dir(dir_in, what);
  std::string dir = dir_in;
  const std::string nested = classes == 10 ? "cifar-10-batches-bin" : "cifar-100-binary";
  if (fs::is_directory(fs::path(dir) / nested)) dir = (fs::path(dir) / nested).string();
  std::vector<std::string> train, test;
  if (classes == 10) {
    for (int i = 1; i <= 5; ++i) train.push_back(find_file(dir, {"data_batch_" + std::to_string(i) + ".bin"}, what + " training batch"));
    test.push_back(find_file(dir, {"test_batch.bin"}, what + " test batch"));
  } else {
    train.push_back(find_file(dir, {"train.bin"}, what + " training file"));
    test.push_back(find_file(dir, {"test.bin"}, what + " test file"));
  }
  DataSplit d;
  d.name = classes == 10 ? "cifar10" : "cifar100";
  d.train = cifar_files(train, classes, classes == 10 ? 10000 : 50000);
  d.test = cifar_files(test, classes, 10000);
  return d;
}

namespace {

bool is_image(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}

// Files decoded on demand: shorter side resized to `size`, centre crop, RGB.
class FolderImageSet : public ImageSet {
 public:
  FolderImageSet(std::vector<std::string> files, std::vector<std::int64_t> labels, int classes, int size, int threads)
      : files_(std::move(files)), classes_(classes), size_(size), threads_(std::max(1, threads)) {
    labels_ = torch::tensor(labels, torch::kLong);
  }
  std::int64_t size() const override { return static_cast<std::int64_t>(files_.size()); }
  std::int64_t channels() const override { return 3; }
  std::int64_t height() const override { return size_; }
  std::int64_t width() const override { return size_; }
  int classes() const override { return classes_; }
  const torch::Tensor& labels() const override { return labels_; }

  torch::Tensor images(const torch::Tensor& indices) override {
    const auto idx = indices.to(torch::kLong).contiguous();
    const std::int64_t n = idx.numel();
    auto out = torch::empty({n, 3, size_, size_}, torch::kUInt8);
    std::atomic<std::int64_t> next{0};
    std::string error;
    std::mutex mu;
    auto work = [&] {
      for (std::int64_t i; (i = next++) < n;) {
        try {
          decode(files_[static_cast<std::size_t>(idx.data_ptr<std::int64_t>()[i])], out[i]);
        } catch (const std::exception& e) {
          std::lock_guard<std::mutex> lock(mu);
          if (error.empty()) error = e.what();
        }
      }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads_; ++t) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
    if (!error.empty()) throw DataError(error);
    return out;
  }

 private:
  void decode(const std::string& path, torch::Tensor dst) const {
    int w = 0, h = 0, c = 0;
    unsigned char* px = stbi_load(path.c_str(), &w, &h, &c, 3);
    if (px == nullptr) throw DataError(path + ": cannot decode image (" + std::string(stbi_failure_reason()) + ")");
    // Resize so the shorter side is `size_`, then take the centre square.
    const double scale = static_cast<double>(size_) / std::min(w, h);
    const int rw = std::max(size_, static_cast<int>(std::lround(w * scale)));
    const int rh = std::max(size_, static_cast<int>(std::lround(h * scale)));
    std::vector<unsigned char> resized(static_cast<std::size_t>(rw) * rh * 3);
    const int ok = stbir_resize_uint8(px, w, h, 0, resized.data(), rw, rh, 0, 3);
    stbi_image_free(px);
    if (ok == 0) throw DataError(path + ": cannot resize image");
    const int x0 = (rw - size_) / 2, y0 = (rh - size_) / 2;
    auto* d = dst.data_ptr<std::uint8_t>();
    for (int ch = 0; ch < 3; ++ch)
      for (int y = 0; y < size_; ++y)
        for (int x = 0; x < size_; ++x)
          d[(ch * size_ + y) * size_ + x] = resized[(static_cast<std::size_t>(y + y0) * rw + (x + x0)) * 3 + ch];
  }

  std::vector<std::string> files_;
  torch::Tensor labels_;
  int classes_, size_, threads_;
};

void check_image_header(const std::string& path) {
  int w = 0, h = 0, c = 0;
  if (stbi_info(path.c_str(), &w, &h, &c) == 0)
    throw DataError(path + ": not a readable JPEG or PNG image (" + std::string(stbi_failure_reason()) + ")");
  if (w < 1 || h < 1) throw DataError(path + ": empty image");
}

}  // namespace

DataSplit load_image_folders(const std::string& dir, const std::string& name, int size, int threads) {
  check_dir(dir, name);
  const fs::path train_dir = fs::path(dir) / "train", val_dir = fs::path(dir) / "val";
  if (!fs::is_directory(train_dir)) throw DataError(name + ": expected a 'train' folder with one folder per class in " + dir);
  if (!fs::is_directory(val_dir)) throw DataError(name + ": expected a 'val' folder in " + dir);
  std::vector<std::string> class_names;
  for (const auto& e : fs::directory_iterator(train_dir))
    if (e.is_directory()) class_names.push_back(e.path().filename().string());
  std::sort(class_names.begin(), class_names.end());
  if (class_names.empty()) throw DataError(name + ": no class folders in " + train_dir.string());
  std::map<std::string, std::int64_t> class_index;
  for (std::size_t i = 0; i < class_names.size(); ++i) class_index[class_names[i]] = static_cast<std::int64_t>(i);

  auto collect = [&](const fs::path& root, std::int64_t label, std::vector<std::string>& files, std::vector<std::int64_t>& labels) {
    std::vector<std::string> found;
    for (const auto& e : fs::recursive_directory_iterator(root))
      if (e.is_regular_file() && is_image(e.path())) found.push_back(e.path().string());
    std::sort(found.begin(), found.end());
    for (auto& f : found) {
      files.push_back(std::move(f));
      labels.push_back(label);
    }
  };
  std::vector<std::string> train_files, val_files;
  std::vector<std::int64_t> train_labels, val_labels;
  for (const auto& c : class_names) {
    const std::size_t before = train_files.size();
    collect(train_dir / c, class_index[c], train_files, train_labels);
    if (train_files.size() == before) throw DataError(name + ": class folder " + (train_dir / c).string() + " holds no .jpg/.jpeg/.png image");
  }
  const fs::path annotations = val_dir / "val_annotations.txt";
  if (fs::exists(annotations)) {  // Tiny-ImageNet layout
    std::ifstream in(annotations);
    std::string line;
    int line_no = 0;
    while (std::getline(in, line)) {
      ++line_no;
      if (line.empty()) continue;
      std::istringstream ss(line);
      std::string file, wnid;
      std::getline(ss, file, '\t');
      std::getline(ss, wnid, '\t');
      const auto it = class_index.find(wnid);
      if (it == class_index.end())
        throw DataError(annotations.string() + ":" + std::to_string(line_no) + ": class '" + wnid + "' has no training folder");
      const fs::path p = val_dir / "images" / file;
      if (!fs::exists(p)) throw DataError(annotations.string() + ":" + std::to_string(line_no) + ": " + p.string() + " does not exist");
      val_files.push_back(p.string());
      val_labels.push_back(it->second);
    }
  } else {
    for (const auto& e : fs::directory_iterator(val_dir)) {
      if (!e.is_directory()) continue;
      const std::string c = e.path().filename().string();
      const auto it = class_index.find(c);
      if (it == class_index.end()) throw DataError(name + ": validation class folder '" + c + "' has no training folder");
      collect(e.path(), it->second, val_files, val_labels);
    }
  }
  if (val_files.empty()) throw DataError(name + ": no validation images under " + val_dir.string());
  // Headers only: a file that is no image at all fails here, before training.
  for (const auto& f : train_files) check_image_header(f);
  for (const auto& f : val_files) check_image_header(f);
  DataSplit d;
  d.name = name;
  const int classes = static_cast<int>(class_names.size());
  d.train = std::make_shared<FolderImageSet>(train_files, train_labels, classes, size, threads);
  d.test = std::make_shared<FolderImageSet>(val_files, val_labels, classes, size, threads);
  return d;
}

DataSplit load_dataset(const DatasetInfo& info, const std::string& dir, int image_size, int threads) {
  DataSplit d;
  if (info.format == "idx") d = load_fashion_mnist(dir);
  else if (info.format == "cifar") d = load_cifar(dir, info.classes);
  else if (info.format == "folders") d = load_image_folders(dir, info.name, image_size > 0 ? image_size : info.image_size, threads);
  else throw ConfigError("dataset", "data set " + info.name + " is not read from image files");
  d.name = info.name;
  d.mean = info.mean;
  d.std = info.std;
  return d;
}

}  // namespace ssrl
