// The MI estimators against pairs whose dependence is known (ssrl/calibration.hpp).
// The von Mises-Fisher benchmark: Poole et al. 2019 ("On variational bounds of
// mutual information", google-research/google-research vbmi) use correlated
// Gaussians with a trained critic; here the critic is the workbench's fixed
// cosine critic, for which vMF pairs on the sphere are the matched case.
#include "evaluation/mi_calibration.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "objectives/mi.hpp"
#include "ssrl/errors.hpp"
#include "unit_rows.hpp"

namespace ssrl {
namespace {

double softplus(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }

std::uint64_t mix(std::uint64_t x) {  // splitmix64: independent seeds for every cell and draw
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// log(1 - e^{-2 kappa}), stable for small and large kappa.
double log1m_exp2k(double kappa) { return std::log(-std::expm1(-2.0 * kappa)); }

// Simpson's rule of f over [a, b] with n (even) intervals.
template <class F>
double simpson(F f, double a, double b, int n) {
  const double h = (b - a) / n;
  double s = f(a) + f(b);
  for (int i = 1; i < n; ++i) s += f(a + i * h) * (i % 2 ? 4.0 : 2.0);
  return s * h / 3.0;
}

}  // namespace

std::pair<torch::Tensor, torch::Tensor> gaussian_pairs(std::int64_t n, int dim, double rho, at::Generator& gen) {
  const auto x = torch::randn({n, dim}, gen, torch::kDouble);
  const auto e = torch::randn({n, dim}, gen, torch::kDouble);
  return {x, rho * x + std::sqrt(1.0 - rho * rho) * e};
}

// x uniform on S^2; y ~ vMF(x, kappa): the cosine w to x by inverting its
// CDF, the direction around x uniform (Wood 1994, the d = 3 case).
std::pair<torch::Tensor, torch::Tensor> vmf_pairs(std::int64_t n, double kappa, at::Generator& gen) {
  const auto x = unit_rows(torch::randn({n, 3}, gen, torch::kDouble));
  const auto u = torch::rand({n, 1}, gen, torch::kDouble);
  const auto w = (1.0 + torch::log(u + (1.0 - u) * std::exp(-2.0 * kappa)) / kappa).clamp(-1.0, 1.0);
  const auto z = torch::randn({n, 3}, gen, torch::kDouble);
  const auto v = unit_rows(z - (z * x).sum(1, true) * x);
  return {x, w * x + torch::sqrt((1.0 - w * w).clamp_min(0.0)) * v};
}

namespace {

struct Cell {
  std::map<double, std::vector<MiValues>> by_t;
};

double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0.0 : s / static_cast<double>(v.size());
}

double sd_of(const std::vector<double>& v) {
  if (v.size() < 2) return 0.0;
  const double m = mean_of(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1));
}

double pick(const MiValues& v, const std::string& estimator) {
  return estimator == "cos_dv" ? v.cos_dv : estimator == "infonce" ? v.infonce : v.jsd;
}

}  // namespace

double gaussian_mi(int dim, double rho) { return -0.5 * dim * std::log1p(-rho * rho); }

double vmf_mi(double kappa) {
  // log(kappa / sinh kappa) + kappa coth kappa - 1, in forms that hold for
  // large kappa (sinh overflows past ~710).
  const double log_sinh = kappa + log1m_exp2k(kappa) - std::log(2.0);
  const double coth = (1.0 + std::exp(-2.0 * kappa)) / -std::expm1(-2.0 * kappa);
  return std::log(kappa) - log_sinh + kappa * coth - 1.0;
}

double vmf_jsd_target(double kappa) {
  // In s = kappa (1 - cos) on [0, 2 kappa]: the joint has density
  // e^-s / (1 - e^-2kappa), the product 1 / (2 kappa); log ratio L(s) below.
  // The f-GAN bound at its optimal critic T = L is
  //   E_joint[-softplus(-L)] - E_product[softplus(L)] = 2 JSD - log 4.
  const double log_norm = log1m_exp2k(kappa);
  auto L = [&](double s) { return std::log(2.0 * kappa) - s - log_norm; };
  const double top_p = std::min(2.0 * kappa, 80.0);
  const double joint = simpson([&](double s) { return std::exp(-s - log_norm) * -softplus(-L(s)); }, 0.0, top_p, 200000);
  // softplus(L) < 1e-30 past L < -70: the rest of [0, 2 kappa] adds nothing.
  const double top_q = std::min(2.0 * kappa, std::max(0.0, std::log(2.0 * kappa) - log_norm + 70.0));
  const double product = simpson([&](double s) { return -softplus(L(s)); }, 0.0, top_q, 200000) / (2.0 * kappa);
  return joint + product;
}

std::pair<double, double> gaussian_jsd_target(int dim, double rho, std::int64_t samples, std::uint64_t seed) {
  std::mt19937_64 rng(mix(seed));
  std::normal_distribution<double> normal;
  const double c = 1.0 - rho * rho;
  const double log_det = -0.5 * dim * std::log(c);
  auto log_ratio = [&](const std::vector<double>& x, const std::vector<double>& y) {
    double a = 0, b = 0;
    for (int k = 0; k < dim; ++k) {
      a += (y[k] - rho * x[k]) * (y[k] - rho * x[k]);
      b += y[k] * y[k];
    }
    return log_det - a / (2.0 * c) + b / 2.0;
  };
  std::vector<double> x(dim), y(dim);
  double sp = 0, sp2 = 0, sq = 0, sq2 = 0;
  for (std::int64_t i = 0; i < samples; ++i) {
    for (int k = 0; k < dim; ++k) x[k] = normal(rng);
    for (int k = 0; k < dim; ++k) y[k] = rho * x[k] + std::sqrt(c) * normal(rng);
    const double p = -softplus(-log_ratio(x, y));
    for (int k = 0; k < dim; ++k) y[k] = normal(rng);  // independent: the product of the marginals
    const double q = -softplus(log_ratio(x, y));
    sp += p, sp2 += p * p, sq += q, sq2 += q * q;
  }
  const double n = static_cast<double>(samples);
  const double mp = sp / n, mq = sq / n;
  const double var = (sp2 / n - mp * mp) / n + (sq2 / n - mq * mq) / n;
  return {mp + mq, std::sqrt(std::max(0.0, var))};
}

std::vector<CalibrationRow> run_mi_calibration(const CalibrationOptions& opt,
                                               const std::function<void(const std::string&)>& progress) {
  if (opt.repeats < 2) throw ConfigError("repeats", "needs at least 2 draws per cell (got " + std::to_string(opt.repeats) + ")");
  for (auto n : opt.sizes)
    if (n < 2 || n > 65536) throw ConfigError("sizes", "batch sizes must be in [2, 65536] (got " + std::to_string(n) + ")");
  for (double r : opt.gaussian_rho)
    if (!(r > 0 && r < 1)) throw ConfigError("rho", "correlations must be in (0, 1)");
  for (double k : opt.vmf_kappa)
    if (!(k > 0 && k <= 1e6)) throw ConfigError("kappa", "concentrations must be in (0, 1e6]");
  if (opt.gaussian_dim < 1 || opt.gaussian_dim > 1024) throw ConfigError("dim", "must be in [1, 1024]");
  std::vector<double> temps = opt.temperatures;
  if (std::find(temps.begin(), temps.end(), 1.0) == temps.end()) temps.push_back(1.0);

  struct Case {
    std::string family;
    int dim;
    double parameter, mi;
    std::pair<double, double> jsd;  // value, error
  };
  std::vector<Case> cases;
  for (double rho : opt.gaussian_rho)
    cases.push_back({"gaussian", opt.gaussian_dim, rho, gaussian_mi(opt.gaussian_dim, rho),
                     gaussian_jsd_target(opt.gaussian_dim, rho, 400000, opt.seed ^ 0x6A55u)});
  for (double kappa : opt.vmf_kappa) cases.push_back({"vmf", 3, kappa, vmf_mi(kappa), {vmf_jsd_target(kappa), 0.0}});

  std::vector<CalibrationRow> rows;
  std::uint64_t case_id = 0;
  for (const auto& c : cases) {
    ++case_id;
    if (progress) progress(c.family + (c.family == "gaussian" ? " rho=" : " kappa=") + std::to_string(c.parameter));
    for (const std::int64_t n : opt.sizes) {
      Cell cell;
      for (int rep = 0; rep < opt.repeats; ++rep) {
        auto gen = at::detail::createCPUGenerator(mix(opt.seed ^ mix(case_id * 1000003u + static_cast<std::uint64_t>(n)) ^
                                                      static_cast<std::uint64_t>(rep)));
        auto [x, y] = c.family == "vmf" ? vmf_pairs(n, c.parameter, gen) : gaussian_pairs(n, c.dim, c.parameter, gen);
        // The estimators as the workbench runs them: float, blockwise.
        const auto xf = x.to(torch::kFloat), yf = y.to(torch::kFloat);
        for (double t : temps) cell.by_t[t].push_back(mi_estimates(xf, yf, t));
      }
      for (const char* est : {"cos_dv", "infonce", "jsd"}) {
        const std::string e = est;
        auto values = [&](double t) {
          std::vector<double> v;
          for (const auto& m : cell.by_t[t]) v.push_back(pick(m, e));
          return v;
        };
        double best_t = temps.front(), best = -INFINITY;
        for (double t : opt.temperatures) {
          const double m = mean_of(values(t));
          if (m > best) best = m, best_t = t;
        }
        for (const auto& [critic, t] : {std::pair<std::string, double>{"cosine", 1.0}, {"best t", best_t}}) {
          CalibrationRow r;
          r.family = c.family;
          r.dim = c.dim;
          r.parameter = c.parameter;
          r.estimator = e;
          r.mi = c.mi;
          r.truth = e == "jsd" ? c.jsd.first : c.mi;
          r.truth_error = e == "jsd" ? c.jsd.second : 0.0;
          r.n = n;
          r.critic = critic;
          r.temperature = t;
          const auto v = values(t);
          r.mean = mean_of(v);
          r.sd = sd_of(v);
          r.repeats = static_cast<int>(v.size());
          rows.push_back(r);
        }
      }
    }
  }
  return rows;
}

}  // namespace ssrl
