#pragma once
// The MI estimators of docs/science.md §4 against a known truth (`reproduce
// mi-calibration`). Two families of pairs whose dependence is known exactly:
//  - gaussian: x ~ N(0, I_d), y = rho x + sqrt(1 - rho^2) e; I = -d/2 log(1 - rho^2).
//  - vmf: x uniform on the sphere S^2, y ~ von Mises-Fisher(x, kappa) on S^2;
//    I = log(kappa / sinh kappa) + kappa coth kappa - 1. Its density ratio is
//    kappa cos(x, y) + const, so the cosine critic at t = 1 / kappa is optimal.
// Each estimator is compared with the quantity it bounds: cos-DV and InfoNCE
// with the MI (InfoNCE also with log N), JSD with 2 JSD(joint || product) -
// log 4 (the f-GAN form of docs/science.md §8 bounds that, not the MI; it is <= 0).
// No torch here.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ssrl {

struct CalibrationOptions {
  std::vector<double> gaussian_rho{0.5, 0.8, 0.9, 0.95, 0.99, 0.999};
  int gaussian_dim = 3;
  std::vector<double> vmf_kappa{1, 4, 16, 64, 256, 1024};
  std::vector<std::int64_t> sizes{64, 256, 1024, 4096};
  // The critic T = cos / t: t = 1 (the workbench's MI panels) and the best t
  // of this grid per cell (chosen by the mean estimate itself, so it leans
  // slightly high: the sampling error of a maximum).
  std::vector<double> temperatures{0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0};
  int repeats = 10;  // independent draws per cell
  std::uint64_t seed = 0;
};

struct CalibrationRow {
  std::string family;      // "gaussian" | "vmf"
  int dim = 0;             // of x and y
  double parameter = 0;    // rho or kappa
  std::string estimator;   // "cos_dv" | "infonce" | "jsd"
  double truth = 0;        // the MI, or 2 JSD - log 4 for "jsd"
  double truth_error = 0;  // numerical error of the truth (Monte Carlo SE; 0 when exact)
  double mi = 0;           // the true MI of the pairs
  std::int64_t n = 0;      // batch size
  std::string critic;      // "cosine" (t = 1) | "best t"
  double temperature = 1;
  double mean = 0, sd = 0;  // over the repeats
  int repeats = 0;
};

// Every cell (family x parameter x N) with both critics and all three
// estimators. `progress` sees each family/parameter as it starts.
std::vector<CalibrationRow> run_mi_calibration(const CalibrationOptions& options,
                                               const std::function<void(const std::string&)>& progress = nullptr);

// The truths, from their closed forms or numerically.
double gaussian_mi(int dim, double rho);
double vmf_mi(double kappa);
// 2 JSD(joint || product) - log 4 for von Mises-Fisher pairs on S^2 (quadrature).
double vmf_jsd_target(double kappa);
// The same for the Gaussian pairs, by Monte Carlo with `samples` draws;
// returns {value, standard error}.
std::pair<double, double> gaussian_jsd_target(int dim, double rho, std::int64_t samples, std::uint64_t seed);

}  // namespace ssrl
