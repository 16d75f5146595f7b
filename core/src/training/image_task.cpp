// Real image data sets (docs/science.md §6) as a task: two augmented views per batch,
// MI and collapse indicators on a fixed validation subset, a kNN monitor,
// and a linear probe on frozen features at the end.
#include <future>

#include "data/augment.hpp"
#include "data/image_sets.hpp"
#include "evaluation/metrics.hpp"
#include "objectives/mi.hpp"
#include "evaluation/probe.hpp"
#include "ssrl/errors.hpp"
#include "training/distributed.hpp"
#include "training/task.hpp"

namespace ssrl {

namespace {

constexpr std::int64_t kEvalChunk = 256;

// The encoder's output (or features) for many images, a chunk at a time.
torch::Tensor chunked(const std::function<torch::Tensor(const torch::Tensor&)>& fn, const torch::Tensor& x) {
  std::vector<torch::Tensor> parts;
  for (std::int64_t i = 0; i < x.size(0); i += kEvalChunk) parts.push_back(fn(x.narrow(0, i, std::min(kEvalChunk, x.size(0) - i))));
  return torch::cat(parts);
}

// Host images onto the device: pinned and asynchronous on CUDA.
torch::Tensor upload(torch::Tensor x, torch::Device device) {
  if (x.device() == device) return x;
  if (device.is_cuda() && !x.is_pinned()) x = x.pin_memory();
  return x.to(device, /*non_blocking=*/true);
}

// Raw images of a set at given indices, normalised, in chunks; the results
// stay on the device (kNN and the probe run there).
template <class Fn>
torch::Tensor over_images(ImageSet& set, const torch::Tensor& indices, const std::vector<float>& mean,
                          const std::vector<float>& std, torch::Device device, Fn fn) {
  std::vector<torch::Tensor> parts;
  for (std::int64_t i = 0; i < indices.size(0); i += kEvalChunk) {
    const auto idx = indices.narrow(0, i, std::min(kEvalChunk, indices.size(0) - i));
    parts.push_back(fn(normalise(upload(set.images(idx), device), mean, std)));
  }
  return torch::cat(parts);
}

// Training images kept on an accelerator when they take at most this much
// (CIFAR-10's 50 000 images are 150 MiB): no per-batch upload at all.
constexpr std::int64_t kResidentBytes = std::int64_t{2} << 30;

// One epoch's batches. Every rank draws the same order from the run's
// generator and takes its own rows of each batch (dist::batch_rows): it
// loads and augments only those, with each sample's random numbers keyed by
// (seed, epoch, pass, image index, view), so that the views of a sample are
// the same whichever rank draws them, and N processes see what one sees.
class ImageEpochData : public EpochData {
 public:
  // `resident`: the images at `indices`, already on the device (or undefined).
  ImageEpochData(std::shared_ptr<ImageSet> set, torch::Tensor indices, torch::Tensor resident, int batch,
                 at::Generator& gen, AugmentOptions view1, AugmentOptions view2, torch::Device device,
                 bool channels_last, const StopFlag* stop, std::uint64_t seed, int epoch)
      : set_(std::move(set)), indices_(std::move(indices)), resident_(std::move(resident)), batch_(batch), gen_(gen),
        v1_(std::move(view1)), v2_(std::move(view2)), device_(device), channels_last_(channels_last), stop_(stop),
        key_{seed, epoch, -1, 0} {}

  ~ImageEpochData() override {
    if (next_.valid()) next_.wait();
  }

  int begin_pass() override {
    if (next_.valid()) next_.wait();
    ++key_.pass;  // SDMI's E and M passes see fresh views
    const auto perm = torch::randperm(indices_.size(0), gen_, torch::kLong);
    ids_ = indices_.index_select(0, perm);  // image indices in the set, on the host
    const int n = static_cast<int>(ids_.size(0) / batch_);
    if (resident_.defined()) {
      order_ = upload(perm, device_);  // positions in the resident images: one upload per pass
      return n;
    }
    if (n > 0) prefetch(0);
    return n;
  }

  // Decoding and the random numbers run one batch ahead on another thread;
  // the augmentation runs here, as batched tensor ops.
  ViewPair batch(int i) override {
    const auto [offset, count] = dist::batch_rows(batch_);
    const std::int64_t first = static_cast<std::int64_t>(i) * batch_ + offset;
    Loaded in;
    if (resident_.defined()) {
      in = draws(first, count);
      in.raw = resident_.index_select(0, order_.narrow(0, first, count));
    } else {
      in = next_index_ == i && next_.valid() ? next_.get() : load(i);
      if (static_cast<std::int64_t>(i + 1) * batch_ + batch_ <= ids_.size(0)) prefetch(i + 1);
      in.raw = upload(in.raw, device_);
    }
    auto a = augment(in.raw, v1_, in.d1);
    auto b = augment(in.raw, v2_, in.d2);
    if (channels_last_) {
      a = a.contiguous(at::MemoryFormat::ChannelsLast);
      b = b.contiguous(at::MemoryFormat::ChannelsLast);
    }
    return {a, b};
  }

  bool interrupted() const override { return stop_ != nullptr && stop_->requested.load(); }

 private:
  struct Loaded {
    torch::Tensor raw, d1, d2;
  };
  Loaded draws(std::int64_t first, std::int64_t count) {
    const auto ids = ids_.narrow(0, first, count);
    const std::int64_t c = set_->channels();
    DrawKey k1 = key_, k2 = key_;
    k2.view = 1;
    return {torch::Tensor(), augment_draws(v1_, c, k1, ids), augment_draws(v2_, c, k2, ids)};
  }
  // This rank's rows of batch i, decoded (and pinned, for an asynchronous
  // upload) on the loader thread, with their random numbers.
  Loaded load(int i) {
    const auto [offset, count] = dist::rows_of(batch_, dist::shard());
    const std::int64_t first = static_cast<std::int64_t>(i) * batch_ + offset;
    Loaded out = draws(first, count);
    auto x = set_->images(ids_.narrow(0, first, count));
    out.raw = device_.is_cuda() ? x.pin_memory() : x;
    return out;
  }
  void prefetch(int i) {
    next_index_ = i;
    next_ = std::async(std::launch::async, [this, i] { return load(i); });
  }

  std::shared_ptr<ImageSet> set_;
  torch::Tensor indices_, resident_, order_, ids_;
  int batch_;
  at::Generator& gen_;
  AugmentOptions v1_, v2_;
  torch::Device device_;
  bool channels_last_;
  const StopFlag* stop_;
  DrawKey key_;
  std::future<Loaded> next_;
  int next_index_ = -1;
};

class ImageTask : public Task {
 public:
  ImageTask(const RunConfig& cfg, torch::Device device, at::Generator& gen) : cfg_(cfg), device_(device), gen_(gen) {
    const DatasetInfo& info = find_dataset(cfg.dataset);
    split_ = load_dataset(info, cfg.data_dir.empty() ? info.default_dir : cfg.data_dir, cfg.image_size, cfg.loader_threads);
    auto& train = *split_.train;
    auto& test = *split_.test;
    if (cfg.batch_size > train.size())
      throw ConfigError("batch_size", "is larger than the training set (" + std::to_string(train.size()) + " images)");
    // Fixed subsets, drawn once from the run's seed.
    train_idx_ = subset(train.size(), cfg.train_subset);
    if (cfg.batch_size > train_idx_.size(0))
      throw ConfigError("batch_size", "is larger than train_subset (" + std::to_string(train_idx_.size(0)) + " images)");
    val_idx_ = subset(test.size(), cfg.val_subset);
    bank_idx_ = cfg.knn_bank > 0 ? train_idx_.narrow(0, 0, std::min<std::int64_t>(cfg.knn_bank, train_idx_.size(0))) : torch::Tensor();
    probe_idx_ = subset(train.size(), cfg.probe_subset);

    aug1_.out_size = static_cast<int>(train.height());
    aug1_.crop_min_scale = cfg.crop_min_scale;
    aug1_.flip_p = cfg.flip_p;
    aug1_.jitter_p = cfg.jitter_p;
    aug1_.grayscale_p = cfg.grayscale_p;
    aug1_.mean = split_.mean;
    aug1_.std = split_.std;
    aug2_ = aug1_;
    // Solarisation on the second view of the asymmetric methods (docs/science.md §8).
    const std::string base = find_method(cfg.method).base;
    if (base == "byol" || base == "mocov3" || base == "barlow-twins" || base == "dino") aug2_.solarize_p = cfg.solarize_p;

    // The validation subset: clean images and one fixed pair of views.
    const auto raw = upload(test.images(val_idx_), device_);
    val_y_ = test.labels().index_select(0, val_idx_);
    val_clean_ = normalise(raw, split_.mean, split_.std);
    val_v1_ = augment(raw, aug1_, gen_);
    val_v2_ = augment(raw, aug2_, gen_);

    if (!device_.is_cpu()) {
      auto* in_memory = dynamic_cast<TensorImageSet*>(split_.train.get());
      const std::int64_t bytes = train_idx_.size(0) * train.channels() * train.height() * train.width();
      if (in_memory != nullptr && bytes <= kResidentBytes) resident_ = upload(train.images(train_idx_), device_);
    }

    enc_opt_ = image_encoder_options(cfg, train.channels());  // with the method's published head
  }

  std::function<EncoderPtr()> encoder_factory() const override {
    const ImageEncoderOptions o = enc_opt_;
    return [o] { return make_image_encoder(o); };
  }
  std::int64_t embed_dim() const override { return cfg_.proj_dim; }
  int steps_per_epoch() const override { return static_cast<int>(train_idx_.size(0) / cfg_.batch_size); }

  std::unique_ptr<EpochData> epoch_data(int epoch, const StopFlag* stop) override {
    return std::make_unique<ImageEpochData>(split_.train, train_idx_, resident_, cfg_.batch_size, gen_, aug1_, aug2_,
                                            device_, cfg_.channels_last, stop, static_cast<std::uint64_t>(cfg_.seed), epoch);
  }

  // Every rank computes its share of the networks' outputs (dist::sharded);
  // rank 0 computes the indicators from the gathered outputs.
  void evaluate(Method& method, EpochRecord& r) override {
    torch::NoGradGuard no_grad;
    const std::int64_t n_val = val_clean_.size(0);
    torch::Tensor za, zb;
    {
      const auto [offset, count] = dist::eval_rows(n_val);
      auto [a, b] = method.mi_branches(val_v1_.narrow(0, offset, count), val_v2_.narrow(0, offset, count));
      za = dist::gather_rows(a, n_val);
      if (b.defined()) zb = dist::gather_rows(b, n_val);
    }
    auto over_val = [&](const std::function<torch::Tensor(const torch::Tensor&)>& fn) {
      return dist::sharded(val_clean_, [&](const torch::Tensor& x) { return chunked(fn, x); });
    };
    const std::string f = method.encoder_names().front();
    const auto emb = over_val([&](const torch::Tensor& x) { return method.embed(f, x); });
    std::vector<std::pair<torch::Tensor, torch::Tensor>> zh;  // per encoder
    for (const auto& name : method.encoder_names()) {
      const auto z = name == f ? emb : over_val([&](const torch::Tensor& x) { return method.embed(name, x); });
      zh.emplace_back(z, over_val([&](const torch::Tensor& x) { return method.features(name, x); }));
    }
    torch::Tensor bank, queries;
    if (bank_idx_.defined()) {
      auto feats = [&](const torch::Tensor& x) { return method.features(f, x); };
      const auto [offset, count] = dist::eval_rows(bank_idx_.size(0));
      bank = dist::gather_rows(over_images(*split_.train, bank_idx_.narrow(0, offset, count), split_.mean, split_.std,
                                           device_, feats),
                               bank_idx_.size(0));
      queries = zh.front().second;  // f's features of the validation images
    }
    if (dist::shard().rank != 0) return;  // the others go on training

    if (zb.defined()) {
      const MiValues mi = mi_estimates(za, zb, cfg_.mi_temperature, cfg_.mi_block);
      r.mi.cos_dv = mi.cos_dv;
      r.mi.infonce = mi.infonce;
      r.mi.jsd = mi.jsd;
    }
    r.embedding_std = embedding_std(emb);
    r.effective_rank = effective_rank(emb);
    const auto names = method.encoder_names();
    for (std::size_t i = 0; i < names.size(); ++i)
      r.collapse.push_back(collapse_of(names[i], zh[i].first, zh[i].second, method.out_scale(names[i])));
    if (bank.defined()) {
      const auto bank_y = split_.train->labels().index_select(0, bank_idx_).to(device_);
      const int classes = split_.train->classes();
      const auto val_y = val_y_.to(device_);
      r.knn_top1_k20 = knn_top1(bank, bank_y, queries, val_y, classes, 20);
      r.knn_top1_k200 = knn_top1(bank, bank_y, queries, val_y, classes, 200);
    }
  }

  void finish(Method& method, const std::vector<EncoderCentres>&, RunOutcome& out) override {
    if (cfg_.probe_epochs <= 0) return;
    torch::NoGradGuard no_grad;
    method.set_training(false);
    auto& test = *split_.test;
    const auto test_idx = torch::arange(test.size(), torch::kLong);
    for (const auto& enc : method.encoder_names()) {
      auto feats = [&](const torch::Tensor& x) { return method.features(enc, x); };
      const auto train_x = over_images(*split_.train, probe_idx_, split_.mean, split_.std, device_, feats);
      const auto test_x = over_images(test, test_idx, split_.mean, split_.std, device_, feats);
      const auto train_y = split_.train->labels().index_select(0, probe_idx_).to(device_);
      ProbeOptions po;
      po.epochs = cfg_.probe_epochs;
      po.lr = cfg_.probe_lr;
      po.standardise = cfg_.probe_standardise;
      double top1 = 0;
      {
        torch::AutoGradMode grad(true);
        top1 = linear_probe(train_x, train_y, test_x, test.labels().to(device_), split_.train->classes(), po, gen_);
      }
      out.probes.push_back({enc, top1, cfg_.probe_epochs, train_x.size(0), test_x.size(0), cfg_.probe_standardise});
    }
  }

 private:
  torch::Tensor subset(std::int64_t n, std::int64_t k) {
    auto perm = torch::randperm(n, gen_, torch::kLong);
    return k > 0 && k < n ? std::get<0>(perm.narrow(0, 0, k).sort()) : torch::arange(n, torch::kLong);
  }

  RunConfig cfg_;
  torch::Device device_;
  at::Generator& gen_;
  DataSplit split_;
  torch::Tensor train_idx_, val_idx_, bank_idx_, probe_idx_;
  torch::Tensor resident_;  // the training subset's images on the device, when they fit
  torch::Tensor val_clean_, val_v1_, val_v2_, val_y_;
  AugmentOptions aug1_, aug2_;
  ImageEncoderOptions enc_opt_;
};

}  // namespace

std::unique_ptr<Task> make_image_task(const RunConfig& cfg, torch::Device device, at::Generator& gen) {
  return std::make_unique<ImageTask>(cfg, device, gen);
}

}  // namespace ssrl
