// The IDX (Fashion-MNIST) and CIFAR loaders on a file holding the input. The
// first byte chooses: IDX images, IDX labels (each plain or gzip-compressed
// by the harness, so the fuzzer reaches the decompression path), or a
// CIFAR-10/100 folder whose every file is the input.
#include <unistd.h>
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "data/image_sets.hpp"
#include "ssrl/errors.hpp"

namespace {

namespace fs = std::filesystem;

const fs::path& scratch() {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("ssrl-fuzz-loaders-" + std::to_string(getpid()));
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

void write(const fs::path& p, const std::uint8_t* data, std::size_t size, bool gzip) {
  if (gzip) {
    gzFile f = gzopen(p.c_str(), "wb1");
    if (size > 0) gzwrite(f, data, static_cast<unsigned>(size));
    gzclose(f);
  } else {
    std::ofstream(p, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const int mode = data[0] % 6;
  ++data;
  --size;
  try {
    if (mode < 4) {
      const fs::path p = scratch() / (mode % 2 ? "in.gz" : "in");
      write(p, data, size, mode % 2 == 1);
      if (mode < 2) (void)ssrl::read_idx_images(p.string());
      else (void)ssrl::read_idx_labels(p.string(), 10);
    } else {
      const int classes = mode == 4 ? 10 : 100;
      const fs::path dir = scratch() / ("cifar" + std::to_string(classes));
      fs::create_directories(dir);
      for (const char* name : {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin",
                               "test_batch.bin", "train.bin", "test.bin"})
        write(dir / name, data, size, false);
      (void)ssrl::load_cifar(dir.string(), classes);
    }
  } catch (const ssrl::Error&) {
  }
  return 0;
}
