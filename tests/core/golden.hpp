#pragma once
// Reference values from tests/golden/make_golden.py (plain Python, no torch).
#include <torch/torch.h>

#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

namespace ssrl::test {

inline const nlohmann::json& golden() {
  static const nlohmann::json j = [] {
    std::ifstream in(std::string(WB_TEST_DATA) + "/golden/golden.json");
    return nlohmann::json::parse(in);
  }();
  return j;
}

inline const nlohmann::json& golden_case(const std::string& name) {
  for (const auto& c : golden()["cases"])
    if (c["name"] == name) return c;
  throw std::runtime_error("no golden case " + name);
}

inline torch::Tensor matrix(const nlohmann::json& rows, torch::Dtype dtype) {
  const auto n = static_cast<std::int64_t>(rows.size());
  const auto d = static_cast<std::int64_t>(rows[0].size());
  auto t = torch::empty({n, d}, torch::kDouble);
  auto acc = t.accessor<double, 2>();
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t k = 0; k < d; ++k) acc[i][k] = rows[i][k].get<double>();
  return t.to(dtype);
}

inline double value(const torch::Tensor& t) { return t.item<double>(); }

}  // namespace ssrl::test
