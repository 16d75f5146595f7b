#include "evaluation/probe.hpp"

#include <cmath>

namespace F = torch::nn::functional;

namespace ssrl {

double linear_probe(const torch::Tensor& train_x_in, const torch::Tensor& train_y, const torch::Tensor& test_x_in,
                    const torch::Tensor& test_y, int classes, const ProbeOptions& opt, at::Generator& gen) {
  torch::Tensor train_x = train_x_in, test_x = test_x_in;
  if (opt.standardise) {
    const auto mean = train_x_in.mean(0, true);
    const auto sd = train_x_in.std(0, /*unbiased=*/false, /*keepdim=*/true) + 1e-6;
    train_x = (train_x_in - mean) / sd, test_x = (test_x_in - mean) / sd;
  }
  const std::int64_t n = train_x.size(0), d = train_x.size(1);
  torch::nn::Linear head(d, classes);
  {
    torch::NoGradGuard no_grad;
    const double bound = 1.0 / std::sqrt(static_cast<double>(d));
    head->weight.uniform_(-bound, bound, gen);
    head->bias.zero_();
  }
  head->to(train_x.device());
  torch::optim::SGD opt_(head->parameters(), torch::optim::SGDOptions(opt.lr).momentum(0.9));
  const std::int64_t steps_per_epoch = std::max<std::int64_t>(1, n / opt.batch_size);
  const std::int64_t total = steps_per_epoch * opt.epochs;
  std::int64_t k = 0;
  for (int e = 0; e < opt.epochs; ++e) {
    const auto perm = torch::randperm(n, gen, torch::kLong).to(train_x.device());
    for (std::int64_t s = 0; s < steps_per_epoch; ++s, ++k) {
      const double lr = opt.lr * 0.5 * (1 + std::cos(M_PI * static_cast<double>(k) / total));
      for (auto& g : opt_.param_groups()) static_cast<torch::optim::SGDOptions&>(g.options()).lr(lr);
      const auto idx = perm.narrow(0, s * opt.batch_size, std::min<std::int64_t>(opt.batch_size, n - s * opt.batch_size));
      opt_.zero_grad();
      F::cross_entropy(head(train_x.index_select(0, idx)), train_y.index_select(0, idx)).backward();
      opt_.step();
    }
  }
  torch::NoGradGuard no_grad;
  const auto pred = head(test_x).argmax(1);
  return pred.eq(test_y).to(torch::kDouble).mean().item<double>();
}

double knn_top1(const torch::Tensor& bank_in, const torch::Tensor& bank_y, const torch::Tensor& queries_in,
                const torch::Tensor& query_y, int classes, int k, double t) {
  torch::NoGradGuard no_grad;
  const auto bank = F::normalize(bank_in, F::NormalizeFuncOptions().dim(1));
  const auto queries = F::normalize(queries_in, F::NormalizeFuncOptions().dim(1));
  const std::int64_t kk = std::min<std::int64_t>(k, bank.size(0));
  std::int64_t correct = 0;
  for (std::int64_t q0 = 0; q0 < queries.size(0); q0 += 256) {
    const auto q = queries.narrow(0, q0, std::min<std::int64_t>(256, queries.size(0) - q0));
    const auto sim = q.mm(bank.t());
    const auto [top, idx] = sim.topk(kk, 1);
    const auto labels = bank_y.index({idx});
    auto votes = torch::zeros({q.size(0), classes}, sim.options());
    votes.scatter_add_(1, labels, torch::exp(top / t));
    correct += votes.argmax(1).eq(query_y.narrow(0, q0, q.size(0))).sum().item<std::int64_t>();
  }
  return static_cast<double>(correct) / static_cast<double>(queries.size(0));
}

}  // namespace ssrl
