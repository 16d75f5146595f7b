#pragma once
// Evaluation on frozen features: the linear probe (docs/science.md §6) and the
// weighted kNN monitor (docs/science.md §8).

#include <torch/torch.h>

namespace ssrl {

struct ProbeOptions {
  int epochs = 30;
  double lr = 0.1;
  int batch_size = 512;
  bool standardise = true;  // per-feature mean/SD of the training features
};

// Trains a linear classifier with cross-entropy on the train features
// (standardised per feature with opt.standardise); returns top-1 accuracy on the test features. Deterministic
// under `gen`.
double linear_probe(const torch::Tensor& train_x, const torch::Tensor& train_y, const torch::Tensor& test_x,
                    const torch::Tensor& test_y, int classes, const ProbeOptions& opt, at::Generator& gen);

// kNN on cosine similarity: the k nearest bank features vote for their class
// with weight exp(sim / t); returns top-1 accuracy of the queries. Blockwise
// over queries.
double knn_top1(const torch::Tensor& bank, const torch::Tensor& bank_y, const torch::Tensor& queries,
                const torch::Tensor& query_y, int classes, int k, double t = 0.07);

}  // namespace ssrl
