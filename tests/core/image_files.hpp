#pragma once
// Small data-set files written by the tests themselves: Fashion-MNIST IDX
// (gzip or plain), CIFAR binaries, image folders. Nothing is downloaded.
#include <stb/stb_image_write.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace ssrl::test {

namespace fs = std::filesystem;

inline void put_be32(std::vector<unsigned char>& v, std::uint32_t x) {
  for (int s = 24; s >= 0; s -= 8) v.push_back(static_cast<unsigned char>((x >> s) & 0xff));
}

inline void write_file(const fs::path& p, const std::vector<unsigned char>& bytes, bool gzip) {
  fs::create_directories(p.parent_path());
  if (gzip) {
    gzFile f = gzopen(p.c_str(), "wb");
    gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(f);
  } else {
    std::ofstream f(p, std::ios::binary);
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
}

inline std::vector<unsigned char> idx_images(int n, int rows, int cols, std::uint32_t seed) {
  std::vector<unsigned char> v;
  put_be32(v, 0x00000803);
  put_be32(v, static_cast<std::uint32_t>(n));
  put_be32(v, static_cast<std::uint32_t>(rows));
  put_be32(v, static_cast<std::uint32_t>(cols));
  std::mt19937 rng(seed);
  for (int i = 0; i < n * rows * cols; ++i) v.push_back(static_cast<unsigned char>(rng() & 0xff));
  return v;
}

inline std::vector<unsigned char> idx_labels(const std::vector<int>& labels) {
  std::vector<unsigned char> v;
  put_be32(v, 0x00000801);
  put_be32(v, static_cast<std::uint32_t>(labels.size()));
  for (int l : labels) v.push_back(static_cast<unsigned char>(l));
  return v;
}

// A Fashion-MNIST folder of n training and m test images of 28 x 28.
inline void write_fashion_mnist(const fs::path& dir, int n, int m, bool gzip) {
  std::vector<int> tl, el;
  for (int i = 0; i < n; ++i) tl.push_back(i % 10);
  for (int i = 0; i < m; ++i) el.push_back((i * 3) % 10);
  const std::string ext = gzip ? ".gz" : "";
  write_file(dir / ("train-images-idx3-ubyte" + ext), idx_images(n, 28, 28, 1), gzip);
  write_file(dir / ("train-labels-idx1-ubyte" + ext), idx_labels(tl), gzip);
  write_file(dir / ("t10k-images-idx3-ubyte" + ext), idx_images(m, 28, 28, 2), gzip);
  write_file(dir / ("t10k-labels-idx1-ubyte" + ext), idx_labels(el), gzip);
}

// CIFAR-10 batches whose images carry their class as a visible pattern
// (brighter in one of ten horizontal bands), so a trained or random
// encoder can separate them; `per_batch` records in each file.
inline std::vector<unsigned char> cifar_records(int n, int classes, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<unsigned char> v;
  for (int i = 0; i < n; ++i) {
    const int label = static_cast<int>(rng() % static_cast<unsigned>(classes));
    if (classes == 100) v.push_back(static_cast<unsigned char>(label / 5));  // coarse
    v.push_back(static_cast<unsigned char>(label));
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < 32; ++y)
        for (int x = 0; x < 32; ++x) {
          const bool band = (y * 10 / 32) == label % 10;
          v.push_back(static_cast<unsigned char>((band ? 180 : 40) + (rng() % 50)));
        }
  }
  return v;
}

inline void write_cifar10(const fs::path& dir, int per_batch, int test) {
  for (int b = 1; b <= 5; ++b) write_file(dir / ("data_batch_" + std::to_string(b) + ".bin"), cifar_records(per_batch, 10, b), false);
  write_file(dir / "test_batch.bin", cifar_records(test, 10, 99), false);
}

inline void write_png(const fs::path& p, int w, int h, int channels, unsigned char value) {
  fs::create_directories(p.parent_path());
  std::vector<unsigned char> px(static_cast<std::size_t>(w) * h * channels, value);
  for (std::size_t i = 0; i < px.size(); i += 7) px[i] = static_cast<unsigned char>(255 - value);
  stbi_write_png(p.c_str(), w, h, channels, px.data(), w * channels);
}

inline void write_jpg(const fs::path& p, int w, int h, unsigned char value) {
  fs::create_directories(p.parent_path());
  std::vector<unsigned char> px(static_cast<std::size_t>(w) * h * 3, value);
  stbi_write_jpg(p.c_str(), w, h, 3, px.data(), 90);
}

}  // namespace ssrl::test
