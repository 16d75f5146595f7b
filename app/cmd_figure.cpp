// `export figure` and the figures of `reproduce gaussian --out` (GUI builds:
// they need Qt Charts and VTK).
#include <QApplication>

#include <cstdlib>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "ssrl/errors.hpp"
#include "ssrl/output_file.hpp"
#include "ssrl/storage/database.hpp"
#include "ssrl/storage/report.hpp"
#include "ssrl/viz/calibration_figure.hpp"
#include "ssrl/viz/figures.hpp"

namespace ssrl::app {
namespace {

// Charts need a QApplication; without a display Qt's offscreen platform does.
void ensure_application() {
  if (QApplication::instance() != nullptr) return;
  const char* display = std::getenv("DISPLAY");
  if ((display == nullptr || *display == '\0') && std::getenv("QT_QPA_PLATFORM") == nullptr)
    setenv("QT_QPA_PLATFORM", "offscreen", 1);
  static int argc = 1;
  static char name[] = "ssrl-workbench";
  static char* argv[] = {name, nullptr};
  static auto* app = new QApplication(argc, argv);
  (void)app;
}

storage::RunDetail load(const storage::Database& db, const std::string& run, const std::string& db_path) {
  auto d = db.load_run(run);
  if (!d) throw ConfigError("run", "no run with id or name '" + run + "' in " + db_path);
  if (d->epochs.empty()) throw ConfigError("run", "run '" + run + "' has no stored epochs to draw");
  return *d;
}

std::vector<storage::RunRow> batch(const storage::Database& db, const FigureRequest& req) {
  storage::RunFilter f;
  if (req.latest) {
    const std::string tag = db.latest_tag("reproduce-");
    if (tag.empty()) throw ConfigError("latest", "no reproduce batch in the database");
    f.tag = tag;
  } else if (!req.tag.empty()) {
    f.tag = req.tag;
  }
  return db.list_runs(f);
}

viz::FigureOptions options(const FigureRequest& req) {
  viz::FigureOptions o;
  o.width = req.width;
  o.height = req.height;
  o.dpi = req.dpi;
  o.snapshot_epochs.assign(req.epochs.begin(), req.epochs.end());
  return o;
}

}  // namespace

int cmd_export_figure(const Global& g, const FigureRequest& req) {
  const std::vector<std::string> kinds = {"trajectories", "snapshots", "mi", "ablation", "mi-calibration"};
  if (std::find(kinds.begin(), kinds.end(), req.kind) == kinds.end())
    throw ConfigError("kind", "unknown figure kind '" + req.kind +
                                  "' (accepted: trajectories, snapshots, mi, ablation, mi-calibration)");
  if (req.kind == "mi-calibration") {
    if (req.input.empty())
      throw ConfigError("input", "--kind mi-calibration needs --input DIR/calibration.json (from `reproduce mi-calibration`)");
    ensure_application();
    viz::write_calibration_figure(read_calibration(req.input), req.out, options(req));
    std::cout << "figure: " << req.out << "\n";
    return kOk;
  }
  if (req.out.empty()) throw ConfigError("out", "needs an output file (--out FILE.png|.svg)");
  const std::string path = g.db_path();
  if (!std::filesystem::exists(path)) throw StorageError("database '" + path + "': no such file (no runs to draw)");
  storage::Database db(path, storage::Database::Mode::ReadOnly);
  const auto opt = options(req);
  ensure_application();
  if (req.kind == "trajectories" || req.kind == "snapshots") {
    if (req.run.empty()) throw ConfigError("run", "--kind " + req.kind + " needs --run ID");
    const auto run = load(db, req.run, path);
    if (req.kind == "trajectories") {
      std::vector<storage::RunDetail> others;
      if (!req.compare.empty()) others.push_back(load(db, req.compare, path));
      std::vector<const storage::RunDetail*> ptrs;
      for (const auto& o : others) ptrs.push_back(&o);
      viz::write_sphere_figure(viz::trajectory_figure(run, ptrs), req.out, opt);
    } else {
      viz::write_sphere_figure(viz::snapshot_figure(run, opt.snapshot_epochs), req.out, opt);
    }
  } else if (req.kind == "mi") {
    std::vector<storage::RunDetail> runs;
    if (!req.run.empty()) {
      runs.push_back(load(db, req.run, path));
    } else {
      if (req.tag.empty() && !req.latest) throw ConfigError("run", "--kind mi needs --run ID, --tag T or --latest");
      for (const auto& r : batch(db, req)) runs.push_back(*db.load_run(r.id));
    }
    if (runs.empty()) throw ConfigError("tag", "no runs match the selection");
    viz::write_mi_figure(runs, req.estimator, req.out, opt);
  } else {
    viz::write_ablation_figure(batch(db, req), req.out, opt);
  }
  std::cerr << "wrote " << req.out << "\n";
  return kOk;
}

void write_calibration_figure(const std::vector<CalibrationRow>& rows, const std::string& path) {
  ensure_application();
  viz::write_calibration_figure(rows, path, viz::FigureOptions{});
}

int write_reproduce_figures(const Global& g, const std::string& tag, const std::string& dir) {
  prepare_output_dir(dir);
  storage::Database db(g.db_path(), storage::Database::Mode::ReadOnly);
  storage::RunFilter f;
  f.tag = tag;
  const auto rows = db.list_runs(f);
  ensure_application();
  viz::FigureOptions opt;
  std::vector<storage::RunDetail> firsts;
  std::vector<std::string> seen;
  std::vector<storage::RunDetail> all;
  for (const auto& r : rows) {
    auto d = db.load_run(r.id);
    if (!d || d->epochs.empty()) continue;
    all.push_back(*d);
    if (std::find(seen.begin(), seen.end(), r.method) == seen.end()) {
      seen.push_back(r.method);
      firsts.push_back(*d);
    }
  }
  std::vector<std::string> problems;
  int written = 0;
  for (const char* est : {"cos_dv", "infonce", "jsd"}) {
    const std::string path = (std::filesystem::path(dir) / ("mi-" + std::string(est) + ".svg")).string();
    viz::write_mi_figure(all, est, path, opt);
    ++written;
  }
  try {
    viz::write_ablation_figure(rows, (std::filesystem::path(dir) / "ablation.svg").string(), opt);
    ++written;
  } catch (const ConfigError&) {  // no ablation methods in this batch
  }
  firsts.erase(std::remove_if(firsts.begin(), firsts.end(),
                              [](const storage::RunDetail& d) { return d.epochs.empty() || d.epochs.front().centres.empty(); }),
               firsts.end());  // image runs have no cluster centres to draw
  if (firsts.empty()) {
  } else if (const auto why = viz::offscreen_problem(); !why.empty()) {
    problems.push_back("trajectory figures skipped: " + why);
  } else {
    for (const auto& run : firsts) {
      const std::string path = (std::filesystem::path(dir) / ("trajectories-" + run.run.method + ".png")).string();
      viz::write_sphere_figure(viz::trajectory_figure(run), path, opt);
      ++written;
    }
  }
  // The tables beside the figures, for papers.
  const bool image = !rows.empty() && rows.front().dataset != "gaussian";
  const auto table = image ? storage::probe_table(rows) : storage::separation_table(rows);
  for (const auto& [ext, fmt] : std::vector<std::pair<std::string, storage::TableFormat>>{
           {"csv", storage::TableFormat::Csv}, {"md", storage::TableFormat::Markdown}, {"tex", storage::TableFormat::Latex}}) {
    write_output_file((std::filesystem::path(dir) / ("table." + ext)).string(), storage::render(table, fmt));
    ++written;
  }
  std::cout << "figures: " << written << " files in " << dir << "\n";
  for (const auto& p : problems) std::cerr << "error: " << p << "\n";
  return problems.empty() ? kOk : kFailure;
}

}  // namespace ssrl::app
