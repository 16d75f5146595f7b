// `reproduce mi-calibration`: the MI estimators against pairs whose MI is
// known, as tables, a results file and a figure.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "progress.hpp"
#include "ssrl/errors.hpp"
#include "ssrl/json_read.hpp"
#include "ssrl/output_file.hpp"
#include "ssrl/storage/report.hpp"

namespace ssrl::app {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

std::string num(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

const char* estimator_title(const std::string& e) {
  return e == "cos_dv" ? "cos-DV" : e == "infonce" ? "InfoNCE" : "JSD";
}

// One row per family, parameter and estimator; a column per batch size.
storage::Table pivot(const std::vector<CalibrationRow>& rows, const std::string& critic) {
  std::set<std::int64_t> sizes;
  for (const auto& r : rows) sizes.insert(r.n);
  storage::Table t;
  t.title = critic == "cosine" ? "MI estimates with the cosine critic (t = 1, as in a run's MI panels), mean ± SD over draws"
                               : "MI estimates with the best temperature of the grid per cell, mean ± SD over draws";
  t.columns = {{"Pairs"}, {"Parameter"}, {"Estimator"}, {"Target"}};
  for (auto n : sizes) t.columns.push_back({"N=" + std::to_string(n), true});
  if (critic != "cosine") t.columns.push_back({"t per N"});
  using Key = std::tuple<std::string, double, std::string>;
  std::map<Key, std::map<std::int64_t, const CalibrationRow*>> cells;
  std::vector<Key> order;
  for (const auto& r : rows) {
    if (r.critic != critic) continue;
    const Key k{r.family, r.parameter, r.estimator};
    if (!cells.count(k)) order.push_back(k);
    cells[k][r.n] = &r;
  }
  for (const auto& k : order) {
    const auto& byn = cells[k];
    const CalibrationRow& any = *byn.begin()->second;
    std::vector<storage::Cell> row = {
        storage::Cell::str(any.family == "vmf" ? "vMF on S^2" : "Gaussian, d=" + std::to_string(any.dim)),
        storage::Cell::str((any.family == "vmf" ? "kappa=" : "rho=") + num(any.parameter, any.family == "vmf" ? 0 : 3)),
        storage::Cell::str(estimator_title(any.estimator)),
        storage::Cell::str(num(any.truth, 3) + (any.truth_error > 0 ? " ± " + num(any.truth_error, 3) : ""))};
    std::string temps;
    for (auto n : sizes) {
      const auto it = byn.find(n);
      if (it == byn.end()) {
        row.push_back(storage::Cell::str(""));
        continue;
      }
      row.push_back({"", it->second->mean, it->second->sd, it->second->repeats, 3});
      char shown[32];
      std::snprintf(shown, sizeof shown, "%g", it->second->temperature);
      temps += (temps.empty() ? "" : "/") + std::string(shown);
    }
    if (critic != "cosine") row.push_back(storage::Cell::str(temps));
    t.rows.push_back(row);
  }
  t.notes.push_back("Target: the true MI (nats) for cos-DV and InfoNCE; 2 JSD(joint || product) - log 4 for JSD, the "
                    "quantity its f-GAN form bounds (<= 0). InfoNCE is also bounded by log N.");
  t.notes.push_back("vMF: x uniform on S^2, y ~ von Mises-Fisher(x, kappa); the cosine critic at t = 1/kappa is optimal. "
                    "Gaussian: y = rho x + sqrt(1 - rho^2) e; the cosine critic sees directions only.");
  return t;
}

json to_json(const std::vector<CalibrationRow>& rows, const CalibrationOptions& opt) {
  json out;
  out["options"] = {{"gaussian_rho", opt.gaussian_rho}, {"gaussian_dim", opt.gaussian_dim}, {"vmf_kappa", opt.vmf_kappa},
                    {"sizes", opt.sizes}, {"temperatures", opt.temperatures}, {"repeats", opt.repeats},
                    {"seed", opt.seed}, {"program_version", SSRL_VERSION}};
  json a = json::array();
  for (const auto& r : rows)
    a.push_back({{"family", r.family}, {"dim", r.dim}, {"parameter", r.parameter}, {"estimator", r.estimator},
                 {"truth", r.truth}, {"truth_error", r.truth_error}, {"mi", r.mi}, {"n", r.n}, {"critic", r.critic},
                 {"temperature", r.temperature}, {"mean", r.mean}, {"sd", r.sd}, {"repeats", r.repeats}});
  out["rows"] = a;
  return out;
}

// Every row in long form, for plotting elsewhere.
std::string long_csv(const std::vector<CalibrationRow>& rows) {
  std::string s = "family,dim,parameter,estimator,target,target_error,true_mi,n,log_n,critic,temperature,mean,sd,draws\n";
  for (const auto& r : rows)
    s += r.family + "," + std::to_string(r.dim) + "," + num(r.parameter, 6) + "," + r.estimator + "," + num(r.truth, 6) + "," +
         num(r.truth_error, 6) + "," + num(r.mi, 6) + "," + std::to_string(r.n) + "," +
         num(std::log(static_cast<double>(r.n)), 6) + "," + r.critic + "," + num(r.temperature, 4) + "," + num(r.mean, 6) + "," +
         num(r.sd, 6) + "," + std::to_string(r.repeats) + "\n";
  return s;
}

void write_file(const fs::path& path, const std::string& text) { write_output_file(path.string(), text); }

}  // namespace

std::vector<CalibrationRow> read_calibration(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw ConfigError("input", "'" + path + "' is not a file (give DIR/calibration.json)");
  std::ifstream in(path);
  if (!in) throw ConfigError("input", "cannot read calibration results '" + path + "'");
  std::string error;
  const json j = parse_json_bounded(in, &error);
  if (!j.is_object() || !j.contains("rows") || !j["rows"].is_array())
    throw ConfigError("input", "'" + path + "' is not a calibration.json written by `reproduce mi-calibration`");
  std::vector<CalibrationRow> rows;
  try {
    for (const auto& r : j["rows"]) {
      CalibrationRow c;
      c.family = r.at("family").get<std::string>();
      c.dim = r.at("dim").get<int>();
      c.parameter = r.at("parameter").get<double>();
      c.estimator = r.at("estimator").get<std::string>();
      c.truth = r.at("truth").get<double>();
      c.truth_error = r.at("truth_error").get<double>();
      c.mi = r.at("mi").get<double>();
      c.n = r.at("n").get<std::int64_t>();
      c.critic = r.at("critic").get<std::string>();
      c.temperature = r.at("temperature").get<double>();
      c.mean = r.at("mean").get<double>();
      c.sd = r.at("sd").get<double>();
      c.repeats = r.at("repeats").get<int>();
      rows.push_back(c);
    }
  } catch (const json::exception&) {
    throw ConfigError("input", "'" + path + "' has a calibration row that is not as `reproduce mi-calibration` writes it");
  }
  return rows;
}

int cmd_reproduce_mi_calibration(
    const CalibrationRequest& req,
    const std::function<void(const std::vector<CalibrationRow>&, const std::string&)>& figure) {
  CalibrationOptions opt;
  opt.repeats = req.repeats;
  opt.sizes.assign(req.sizes.begin(), req.sizes.end());
  opt.seed = static_cast<std::uint64_t>(req.seed);
  if (req.quick) {
    opt.gaussian_rho = {0.9, 0.99};
    opt.vmf_kappa = {4, 64};
    opt.sizes = {64, 512};
    opt.repeats = 3;
  }
  if (req.out.empty()) throw ConfigError("out", "needs a folder for the results");
  prepare_output_dir(req.out);
  const auto t0 = std::chrono::steady_clock::now();
  const auto rows = run_mi_calibration(opt, [](const std::string& what) { std::fprintf(stderr, "calibrating: %s\n", what.c_str()); });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const fs::path dir(req.out);
  write_file(dir / "calibration.json", to_json(rows, opt).dump(1) + "\n");
  write_file(dir / "calibration.csv", long_csv(rows));
  std::string md, tex;
  for (const char* critic : {"best t", "cosine"}) {
    const auto t = pivot(rows, critic);
    std::cout << storage::render(t, storage::TableFormat::Text) << "\n";
    md += storage::render(t, storage::TableFormat::Markdown) + "\n";
    tex += storage::render(t, storage::TableFormat::Latex) + "\n";
  }
  write_file(dir / "table.md", md);
  write_file(dir / "table.tex", tex);
  int files = 4;
  if (figure) {
    for (const char* name : {"mi-calibration.svg", "mi-calibration.png"}) figure(rows, (dir / name).string());
    files += 2;
  }
  std::cout << rows.size() << " cells in " << format_duration(seconds) << "; " << files << " files in " << req.out
            << (figure ? "" : " (no figure: this build has no Qt Charts)") << "\n";
  return kOk;
}

}  // namespace ssrl::app
