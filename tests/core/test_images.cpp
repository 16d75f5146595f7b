// Real-data pieces: loaders (good and broken files the test writes),
// augmentations, encoders, probe and kNN, checkpoints and resume.
#include <gtest/gtest.h>
#include <unistd.h>

#include "data/augment.hpp"
#include "data/image_sets.hpp"
#include "image_files.hpp"
#include "models/encoders.hpp"
#include "evaluation/probe.hpp"
#include "ssrl/errors.hpp"
#include "ssrl/trainer.hpp"
#include "support/temp_dir.hpp"
#include "training/distributed.hpp"
#include "training/task.hpp"

namespace ssrl {
namespace {

using namespace ssrl::test;

class Files : public wb_test::TempDirTest {};

template <class Fn>
std::string data_error(Fn&& fn) {
  try {
    fn();
  } catch (const DataError& e) {
    return e.what();
  }
  return "";
}

TEST_F(Files, FashionMnistReadsGzipAndPlainIdx) {
  for (bool gz : {true, false}) {
    const auto d = dir_ / (gz ? "gz" : "plain");
    write_fashion_mnist(d, 30, 20, gz);
    const DataSplit s = load_fashion_mnist(d.string());
    EXPECT_EQ(s.train->size(), 30);
    EXPECT_EQ(s.test->size(), 20);
    EXPECT_EQ(s.train->channels(), 1);
    EXPECT_EQ(s.train->height(), 28);
    EXPECT_EQ(s.train->labels()[13].item<std::int64_t>(), 3);
    // The bytes land where the file put them: byte 16 + 784 * 2 is image 2's first pixel.
    const auto raw = idx_images(30, 28, 28, 1);
    EXPECT_EQ(s.train->images(torch::tensor({2}, torch::kLong))[0][0][0][0].item<int>(), raw[16 + 784 * 2]);
  }
}

// Every loader goes through load_dataset, which adds the data set's declared
// normalisation (a split without it normalised nothing: bench train broke so).
TEST_F(Files, LoadDatasetCarriesTheDeclaredNormalisation) {
  write_fashion_mnist(dir_, 20, 10, true);
  const DatasetInfo& info = find_dataset("fashion-mnist");
  const DataSplit s = load_dataset(info, dir_.string(), 0, 1);
  EXPECT_EQ(s.name, "fashion-mnist");
  EXPECT_EQ(s.mean, info.mean);
  EXPECT_EQ(s.std, info.std);
  EXPECT_EQ(static_cast<std::int64_t>(s.mean.size()), s.train->channels());
}

TEST_F(Files, BrokenIdxFilesNameTheFileAndTheProblem) {
  write_fashion_mnist(dir_, 10, 10, false);
  auto bytes = idx_images(10, 28, 28, 1);
  bytes[3] = 0x01;  // wrong magic
  write_file(dir_ / "train-images-idx3-ubyte", bytes, false);
  auto msg = data_error([&] { load_fashion_mnist(dir_.string()); });
  EXPECT_NE(msg.find("train-images-idx3-ubyte"), std::string::npos) << msg;
  EXPECT_NE(msg.find("magic"), std::string::npos) << msg;

  bytes = idx_images(10, 28, 28, 1);
  bytes.resize(bytes.size() - 100);  // truncated
  write_file(dir_ / "train-images-idx3-ubyte", bytes, false);
  msg = data_error([&] { load_fashion_mnist(dir_.string()); });
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;

  write_file(dir_ / "train-images-idx3-ubyte", idx_images(10, 28, 28, 1), false);
  write_file(dir_ / "train-labels-idx1-ubyte", idx_labels({0, 1, 2, 3, 4, 5, 6, 7, 8, 12}), false);
  msg = data_error([&] { load_fashion_mnist(dir_.string()); });
  EXPECT_NE(msg.find("label 12"), std::string::npos) << msg;

  write_file(dir_ / "train-labels-idx1-ubyte", idx_labels({0, 1, 2}), false);
  msg = data_error([&] { load_fashion_mnist(dir_.string()); });
  EXPECT_NE(msg.find("has 10 images but"), std::string::npos) << msg;

  fs::remove(dir_ / "t10k-labels-idx1-ubyte");
  write_file(dir_ / "train-labels-idx1-ubyte", idx_labels({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}), false);
  msg = data_error([&] { load_fashion_mnist(dir_.string()); });
  EXPECT_NE(msg.find("t10k-labels-idx1-ubyte"), std::string::npos) << msg;

  // A gzip file cut short.
  fs::remove_all(dir_ / "z");
  write_fashion_mnist(dir_ / "z", 50, 10, true);
  const auto gz = dir_ / "z" / "train-images-idx3-ubyte.gz";
  fs::resize_file(gz, fs::file_size(gz) / 2);
  msg = data_error([&] { load_fashion_mnist((dir_ / "z").string()); });
  EXPECT_NE(msg.find("train-images-idx3-ubyte.gz"), std::string::npos) << msg;
  EXPECT_FALSE(msg.empty());
}

// Issue 13, class 5: a header is checked before the data, and no more is
// decompressed than it implies, so a small gzip "bomb" costs nothing.
TEST_F(Files, LoadersReadNoMoreThanTheHeaderImplies) {
  const auto bomb = dir_ / "bomb" / "train-images-idx3-ubyte.gz";
  fs::create_directories(bomb.parent_path());
  {
    auto head = idx_images(10, 28, 28, 1);
    gzFile f = gzopen(bomb.c_str(), "wb9");
    gzwrite(f, head.data(), static_cast<unsigned>(head.size()));
    const std::vector<unsigned char> zeros(1 << 20, 0);
    for (int i = 0; i < 64; ++i) gzwrite(f, zeros.data(), static_cast<unsigned>(zeros.size()));  // 64 MiB more
    gzclose(f);
  }
  ASSERT_LT(fs::file_size(bomb), 1u << 20);
  MaybeGzipped f(bomb.string());
  std::vector<unsigned char> out;
  EXPECT_EQ(f.read(16, out), 16u);
  EXPECT_EQ(out.size(), 16u);  // a request of 16 bytes holds 16, not the file
  EXPECT_EQ(f.read(1000, out), 1000u);
  EXPECT_EQ(out.size(), 1016u);
  EXPECT_FALSE(f.at_end());
  auto msg = data_error([&] { read_idx_images(bomb.string()); });
  EXPECT_NE(msg.find("has trailing data"), std::string::npos) << msg;
  EXPECT_NE(msg.find("train-images-idx3-ubyte.gz"), std::string::npos) << msg;
  // A header that claims far more than the file holds: truncated, nothing allocated for the claim.
  auto huge = idx_images(2, 28, 28, 1);
  huge[4] = huge[5] = 0xff;  // 4 294 901 762 images
  write_file(dir_ / "claim" / "train-images-idx3-ubyte.gz", huge, true);
  msg = data_error([&] { read_idx_images((dir_ / "claim" / "train-images-idx3-ubyte.gz").string()); });
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
  write_file(dir_ / "claim" / "plain", huge, false);
  msg = data_error([&] { read_idx_images((dir_ / "claim" / "plain").string()); });
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
  // No images at all (found by fuzz_loaders: an empty body reached memcpy as a null pointer).
  write_file(dir_ / "claim" / "none", idx_images(0, 28, 28, 1), false);
  msg = data_error([&] { read_idx_images((dir_ / "claim" / "none").string()); });
  EXPECT_NE(msg.find("holds no images"), std::string::npos) << msg;
  // A folder where a file should be.
  fs::create_directories(dir_ / "claim" / "folder");
  msg = data_error([&] { read_idx_labels((dir_ / "claim" / "folder").string(), 10); });
  EXPECT_NE(msg.find("not a regular file"), std::string::npos) << msg;
  // A CIFAR batch bigger than the official one is refused by its size, unread (a sparse file).
  write_cifar10(dir_ / "c10", 2, 2);
  fs::resize_file(dir_ / "c10" / "data_batch_2.bin", 10001ull * 3073);
  msg = data_error([&] { load_cifar((dir_ / "c10").string(), 10); });
  EXPECT_NE(msg.find("data_batch_2.bin: 10001 records"), std::string::npos) << msg;
}

TEST_F(Files, CifarTenAndHundredBinaries) {
  write_cifar10(dir_ / "c10", 7, 5);
  const DataSplit c10 = load_cifar((dir_ / "c10").string(), 10);
  EXPECT_EQ(c10.train->size(), 35);
  EXPECT_EQ(c10.test->size(), 5);
  EXPECT_EQ(c10.train->channels(), 3);
  EXPECT_LT(c10.train->labels().max().item<std::int64_t>(), 10);
  write_file(dir_ / "c100" / "train.bin", cifar_records(9, 100, 1), false);
  write_file(dir_ / "c100" / "test.bin", cifar_records(4, 100, 2), false);
  const DataSplit c100 = load_cifar((dir_ / "c100").string(), 100);
  EXPECT_EQ(c100.train->size(), 9);
  EXPECT_EQ(c100.train->classes(), 100);
  // A file that is not whole records, and a label out of range.
  auto bytes = cifar_records(3, 10, 5);
  bytes.pop_back();
  write_file(dir_ / "c10" / "data_batch_3.bin", bytes, false);
  auto msg = data_error([&] { load_cifar((dir_ / "c10").string(), 10); });
  EXPECT_NE(msg.find("data_batch_3.bin"), std::string::npos) << msg;
  EXPECT_NE(msg.find("3073-byte"), std::string::npos) << msg;
  bytes = cifar_records(3, 10, 5);
  bytes[3073] = 11;
  write_file(dir_ / "c10" / "data_batch_3.bin", bytes, false);
  msg = data_error([&] { load_cifar((dir_ / "c10").string(), 10); });
  EXPECT_NE(msg.find("label 11"), std::string::npos) << msg;
  msg = data_error([&] { load_cifar((dir_ / "nowhere").string(), 10); });
  EXPECT_NE(msg.find("does not exist"), std::string::npos) << msg;
}

TEST_F(Files, ImageFoldersDecodeResizeAndCheckHeaders) {
  write_png(dir_ / "train" / "cat" / "a.png", 40, 30, 3, 200);
  write_png(dir_ / "train" / "cat" / "sub" / "b.PNG", 24, 24, 1, 50);  // grayscale, nested, upper-case
  write_jpg(dir_ / "train" / "dog" / "c.jpg", 50, 20, 100);
  write_png(dir_ / "val" / "dog" / "d.png", 16, 16, 3, 10);
  const DataSplit s = load_image_folders(dir_.string(), "imagenet100", 16, 2);
  EXPECT_EQ(s.train->size(), 3);
  EXPECT_EQ(s.train->classes(), 2);
  EXPECT_EQ(s.test->size(), 1);
  EXPECT_EQ(s.test->labels()[0].item<std::int64_t>(), 1);  // "dog" is class 1 of {cat, dog}
  const auto imgs = s.train->images(torch::tensor({0, 1, 2}, torch::kLong));
  EXPECT_EQ(imgs.sizes(), (std::vector<std::int64_t>{3, 3, 16, 16}));
  EXPECT_NEAR(imgs[2].to(torch::kFloat).mean().item<double>(), 100.0, 6.0);  // the JPEG's grey survives decoding
  EXPECT_TRUE(torch::equal(imgs[1][0], imgs[1][1]));  // grayscale spread to RGB

  // Tiny-ImageNet's validation layout.
  write_png(dir_ / "tiny" / "train" / "n01" / "images" / "x.png", 8, 8, 3, 1);
  write_png(dir_ / "tiny" / "train" / "n02" / "images" / "y.png", 8, 8, 3, 2);
  write_png(dir_ / "tiny" / "val" / "images" / "val_0.png", 8, 8, 3, 3);
  std::ofstream(dir_ / "tiny" / "val" / "val_annotations.txt") << "val_0.png\tn02\t0\t0\t8\t8\n";
  const DataSplit t = load_image_folders((dir_ / "tiny").string(), "tiny-imagenet", 8, 1);
  EXPECT_EQ(t.test->labels()[0].item<std::int64_t>(), 1);

  // Not an image: found before training, named.
  std::ofstream(dir_ / "train" / "dog" / "broken.jpg") << "this is not a jpeg";
  const auto msg = data_error([&] { load_image_folders(dir_.string(), "imagenet100", 16, 1); });
  EXPECT_NE(msg.find("broken.jpg"), std::string::npos) << msg;
  fs::remove(dir_ / "train" / "dog" / "broken.jpg");
  fs::create_directories(dir_ / "val" / "bird");
  EXPECT_NE(data_error([&] { load_image_folders(dir_.string(), "imagenet100", 16, 1); }).find("'bird'"), std::string::npos);
}

TEST(Augment, IdentitySettingsReproduceTheNormalisedInput) {
  auto gen = at::detail::createCPUGenerator(1);
  const auto x = torch::randint(0, 256, {4, 3, 8, 8}, gen, torch::kUInt8);
  AugmentOptions o;
  o.out_size = 8;
  o.crop_min_scale = 1.0;
  o.ratio_min = o.ratio_max = 1.0;
  o.flip_p = 0;
  o.jitter_p = 0;
  o.grayscale_p = 0;
  o.mean = {0.5f, 0.5f, 0.5f};
  o.std = {0.25f, 0.25f, 0.25f};
  const auto y = augment(x, o, gen);
  EXPECT_TRUE(torch::allclose(y, normalise(x, o.mean, o.std), 1e-4, 1e-4));
  // Flip everything: the columns reverse.
  o.flip_p = 1;
  const auto f = augment(x, o, gen);
  EXPECT_TRUE(torch::allclose(f, normalise(x, o.mean, o.std).flip({3}), 1e-4, 1e-4));
  // Solarise everything: values at or above one half invert.
  o.flip_p = 0;
  o.solarize_p = 1;
  o.mean = {0, 0, 0};
  o.std = {1, 1, 1};
  const auto s = augment(x, o, gen);
  const auto v = x.to(torch::kFloat) / 255.0;
  EXPECT_TRUE(torch::allclose(s, torch::where(v >= 0.5, 1.0 - v, v), 1e-4, 1e-4));
}

TEST(Augment, DeterministicUnderTheGeneratorAndGrayscaleSafe) {
  const auto x = torch::randint(0, 256, {6, 1, 28, 28}, torch::kUInt8);
  AugmentOptions o;
  o.out_size = 28;
  auto g1 = at::detail::createCPUGenerator(5), g2 = at::detail::createCPUGenerator(5), g3 = at::detail::createCPUGenerator(6);
  const auto a = augment(x, o, g1), b = augment(x, o, g2), c = augment(x, o, g3);
  EXPECT_EQ(a.sizes(), (std::vector<std::int64_t>{6, 1, 28, 28}));
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_FALSE(torch::equal(a, c));
  EXPECT_TRUE(torch::isfinite(a).all().item<bool>());
}

// The per-sample streams: uniform at torch.rand's float resolution, rows
// uncorrelated, a sample's numbers its own (the same alone or in a batch)
// and different for another seed, epoch, pass or view.
TEST(Augment, PerSampleDrawsAreUniformAndKeyedBySample) {
  AugmentOptions o;
  const auto ids = torch::arange(5000, torch::kLong);
  const DrawKey key{7, 3, 0, 0};
  const auto d = augment_draws(o, 3, key, ids);
  ASSERT_EQ(d.sizes(), (std::vector<std::int64_t>{augment_draw_rows(o, 3), 5000}));
  EXPECT_GE(d.min().item<float>(), 0.0f);
  EXPECT_LT(d.max().item<float>(), 1.0f);
  EXPECT_NEAR(d.mean().item<double>(), 0.5, 0.005);  // SD of the mean here: 0.0012
  EXPECT_NEAR(d.var().item<double>(), 1.0 / 12, 0.003);
  const auto scaled = d.to(torch::kDouble) * 16777216.0;
  EXPECT_TRUE(torch::equal(scaled, scaled.floor()));
  // Rows against each other and along the samples: correlations at noise level (SD 0.014).
  const auto rows = torch::corrcoef(d);
  const auto off = rows - torch::eye(rows.size(0));
  EXPECT_LT(off.abs().max().item<double>(), 0.07);
  const auto lag = torch::corrcoef(torch::stack({d[0].narrow(0, 0, 4999), d[0].narrow(0, 1, 4999)}));
  EXPECT_LT(std::abs(lag[0][1].item<double>()), 0.07);
  // One sample alone: the same numbers as in the batch.
  const auto one = augment_draws(o, 3, key, torch::tensor({1234}, torch::kLong));
  EXPECT_TRUE(torch::equal(one.squeeze(1), d.select(1, 1234)));
  for (DrawKey other : {DrawKey{8, 3, 0, 0}, DrawKey{7, 4, 0, 0}, DrawKey{7, 3, 1, 0}, DrawKey{7, 3, 0, 1}})
    EXPECT_FALSE(torch::equal(augment_draws(o, 3, other, ids), d));
}

// A sample's two views are the same whether rank 0 of 1 process or rank 1
// of 2 draws them: the second half of a batch on rank 1 of 2 is the second
// half of the batch one process sees.
TEST_F(Files, ASampleHasTheSameViewsOnRankZeroOfOneAndRankOneOfTwo) {
  write_cifar10(dir_ / "data", 60, 40);
  ConfigBuilder b("simclr", "cifar10");
  for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"data_dir", (dir_ / "data").string()}, {"encoder", "small-cnn"}, {"batch_size", "16"}, {"val_subset", "32"}})
    b.set(k, v);
  const RunConfig cfg = b.build();
  auto views = [&](int rank, int world) {
    const dist::ShardForTest shard(rank, world);
    auto gen = at::detail::createCPUGenerator(static_cast<std::uint64_t>(cfg.seed));
    auto task = make_image_task(cfg, torch::kCPU, gen);
    auto data = task->epoch_data(2, nullptr);
    EXPECT_GE(data->begin_pass(), 3);
    data->batch(0);
    return data->batch(2);  // the loader thread prefetched it
  };
  const auto [a1, b1] = views(0, 1);
  const auto [a2, b2] = views(1, 2);
  ASSERT_EQ(a1.size(0), 16);
  ASSERT_EQ(a2.size(0), 8);
  EXPECT_TRUE(torch::allclose(a2, a1.narrow(0, 8, 8), 1e-6, 1e-6));
  EXPECT_TRUE(torch::allclose(b2, b1.narrow(0, 8, 8), 1e-6, 1e-6));
  EXPECT_FALSE(torch::allclose(a1, b1, 1e-2, 1e-2));  // two different views
  const auto [a0, b0] = views(0, 2);
  EXPECT_TRUE(torch::allclose(a0, a1.narrow(0, 0, 8), 1e-6, 1e-6));
  (void)b0;
}

std::int64_t count(torch::nn::Module& m) {
  std::int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

TEST(Encoders, ShapesAndTheSmallImageResNets) {
  ImageEncoderOptions o;
  o.backbone = "small-cnn";
  o.in_channels = 1;
  o.proj_dim = 128;
  o.proj_hidden = 512;
  o.proj_layers = 2;
  auto cnn = make_image_encoder(o);
  const auto x = torch::randn({5, 1, 28, 28});
  EXPECT_EQ(cnn->features(x).sizes(), (std::vector<std::int64_t>{5, 256}));
  const auto z = cnn->forward(x);
  EXPECT_EQ(z.sizes(), (std::vector<std::int64_t>{5, 128}));
  EXPECT_TRUE(torch::allclose(z.norm(2, 1), torch::ones({5}), 1e-5, 1e-5));
  // ResNet-18/50 with the 3x3 stride-1 stem and no max-pool: torchvision's
  // backbones (11,176,512 and 23,508,032 parameters without the classifier)
  // minus their 7x7 stem (9,408) plus a 3x3 one (1,728).
  o.in_channels = 3;
  o.backbone = "resnet18";
  auto r18 = make_image_encoder(o);
  auto& r18_backbone = *r18->named_children()["backbone"];
  EXPECT_EQ(count(r18_backbone), 11168832);
  EXPECT_EQ(r18->feature_dim(), 512);
  o.backbone = "resnet50";
  auto r50 = make_image_encoder(o);
  EXPECT_EQ(count(*r50->named_children()["backbone"]), 23500352);
  EXPECT_EQ(r50->feature_dim(), 2048);
  r18->eval();
  EXPECT_EQ(r18->forward(torch::randn({2, 3, 32, 32})).sizes(), (std::vector<std::int64_t>{2, 128}));
  o.backbone = "vgg";
  EXPECT_THROW(make_image_encoder(o), ConfigError);
}

TEST(Evaluation, LinearProbeSeparatesSeparableDataAndNotNoise) {
  auto gen = at::detail::createCPUGenerator(3);
  const auto y = torch::randint(0, 2, {600}, gen, torch::kLong);
  const auto x = torch::randn({600, 8}, gen, torch::kFloat) + y.unsqueeze(1).to(torch::kFloat) * 3.0;
  ProbeOptions o;
  o.epochs = 20;
  const double acc = linear_probe(x.narrow(0, 0, 400), y.narrow(0, 0, 400), x.narrow(0, 400, 200), y.narrow(0, 400, 200), 2, o, gen);
  EXPECT_GT(acc, 0.95);
  const auto noise = torch::randn({600, 8}, gen, torch::kFloat);
  const double chance = linear_probe(noise.narrow(0, 0, 400), y.narrow(0, 0, 400), noise.narrow(0, 400, 200), y.narrow(0, 400, 200), 2, o, gen);
  EXPECT_LT(chance, 0.65);
}

TEST(Evaluation, WeightedKnnByHand) {
  // Bank: two points of class 0 near (1, 0), one of class 1 at (0, 1).
  const auto bank = torch::tensor({{1.0f, 0.0f}, {0.9f, 0.1f}, {0.0f, 1.0f}});
  const auto bank_y = torch::tensor({0, 0, 1}, torch::kLong);
  const auto q = torch::tensor({{1.0f, 0.05f}, {0.1f, 1.0f}});
  const auto qy = torch::tensor({0, 1}, torch::kLong);
  EXPECT_DOUBLE_EQ(knn_top1(bank, bank_y, q, qy, 2, 1), 1.0);
  // k = 3 and a query between the groups: two class-0 votes outweigh one.
  const auto mid = torch::tensor({{0.6f, 0.55f}});
  EXPECT_DOUBLE_EQ(knn_top1(bank, bank_y, mid, torch::tensor({0}, torch::kLong), 2, 3), 1.0);
}

// A run stopped after its second epoch and resumed from the checkpoint gives
// the numbers of the run that was never stopped (CPU).
TEST_F(Files, ResumedRunMatchesAnUninterruptedOne) {
  write_cifar10(dir_ / "data", 60, 40);
  ConfigBuilder b("byol", "cifar10");
  for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"data_dir", (dir_ / "data").string()}, {"encoder", "small-cnn"}, {"epochs", "3"}, {"batch_size", "64"},
           {"val_subset", "32"}, {"knn_bank", "64"}, {"probe_epochs", "2"}, {"proj_hidden", "64"}, {"proj_dim", "32"},
           {"predictor_hidden", "32"}, {"checkpoint_every", "1"}})
    b.set(k, v);
  const RunConfig cfg = b.build();
  struct Collect : TrainObserver {
    std::vector<EpochRecord> epochs;
    StopFlag* stop_after_2 = nullptr;
    void on_epoch(const EpochRecord& r) override {
      epochs.push_back(r);
      if (stop_after_2 != nullptr && r.epoch == 2) stop_after_2->requested = true;
    }
  };
  Collect whole;
  TrainControl c1;
  c1.checkpoint_dir = (dir_ / "ck1").string();
  const auto full = train(cfg, whole, c1);
  ASSERT_EQ(full.status, RunStatus::Finished) << full.message;
  ASSERT_EQ(whole.epochs.size(), 3u);

  Collect first;
  StopFlag stop;
  first.stop_after_2 = &stop;
  TrainControl c2;
  c2.stop = &stop;
  c2.checkpoint_dir = (dir_ / "ck2").string();
  const auto part = train(cfg, first, c2);
  ASSERT_EQ(part.status, RunStatus::Interrupted);
  ASSERT_EQ(checkpoint_epoch(part.checkpoint), 2);
  Collect rest;
  TrainControl c3;
  c3.checkpoint_dir = c2.checkpoint_dir;
  c3.resume_from = part.checkpoint;
  const auto resumed = train(cfg, rest, c3);
  ASSERT_EQ(resumed.status, RunStatus::Finished) << resumed.message;
  ASSERT_EQ(rest.epochs.size(), 1u);
  EXPECT_EQ(rest.epochs[0].epoch, 3);
  EXPECT_EQ(rest.epochs[0].loss, whole.epochs[2].loss);
  EXPECT_EQ(*rest.epochs[0].mi.cos_dv, *whole.epochs[2].mi.cos_dv);
  EXPECT_EQ(*rest.epochs[0].knn_top1_k20, *whole.epochs[2].knn_top1_k20);
  ASSERT_EQ(resumed.probes.size(), 1u);
  EXPECT_EQ(resumed.probes[0].top1, full.probes[0].top1);
}

TEST_F(Files, MissingDataFailsBeforeTheRunStarts) {
  ConfigBuilder b("simclr", "cifar10");
  b.set("data_dir", (dir_ / "empty").string());
  std::string field;
  try {
    b.build();
  } catch (const ConfigError& e) {
    field = e.field();
  }
  EXPECT_EQ(field, "data_dir");
  fs::create_directories(dir_ / "empty");
  ConfigBuilder c("simclr", "cifar10");
  c.set("data_dir", (dir_ / "empty").string());
  struct Started : TrainObserver {
    bool started = false;
    void on_start(const RunStart&) override { started = true; }
  } obs;
  const auto msg = data_error([&] { train(c.build(), obs); });
  EXPECT_NE(msg.find("data_batch_1.bin"), std::string::npos) << msg;
  EXPECT_FALSE(obs.started);
}

TEST(Devices, CudaOnlyTrainingRunsOnTheGpu) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device here";
  ConfigBuilder b("jmi");
  b.set("device", "cuda");
  b.set("epochs", "2");
  struct Dev : TrainObserver {
    std::string device;
    void on_start(const RunStart& s) override { device = s.device; }
  } obs;
  EXPECT_EQ(train(b.build(), obs).status, RunStatus::Finished);
  EXPECT_EQ(obs.device, "cuda:0");
}

}  // namespace
}  // namespace ssrl
