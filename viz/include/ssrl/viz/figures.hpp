#pragma once
// The paper's figures from stored runs, written to files: cluster-centre
// trajectories and snapshots on the unit sphere (VTK, PNG), MI curves and
// ablation bars (Qt Charts, PNG or SVG). The CLI's `export figure`,
// `reproduce gaussian --out` and the GUI share these. Chart figures need a
// QApplication; sphere figures need an X display (xvfb-run works).

#include <string>
#include <vector>

#include "ssrl/storage/database.hpp"
#include "ssrl/viz/sphere_figure.hpp"

namespace ssrl::viz {

struct FigureOptions {
  int width = 1800;
  int height = 1000;
  double dpi = 150;
  std::vector<int> snapshot_epochs{1, 5, 20, 70, 100};
};

// One panel per encoder (f and g side by side for SDMI), all epochs.
SphereFigure trajectory_figure(const storage::RunDetail& run, const std::vector<const storage::RunDetail*>& overlays = {});
// A row per encoder, a column per chosen epoch (epochs past the run's end
// are dropped).
SphereFigure snapshot_figure(const storage::RunDetail& run, const std::vector<int>& epochs);

// PNG only; throws ssrl::Error (no display, a bad path or size).
void write_sphere_figure(const SphereFigure& figure, const std::string& path, const FigureOptions& opt);

// MI over training. `estimator` "cos_dv", "infonce" or "jsd" draws that
// estimator in two panels, SDMI family and JMI family side by side; "all"
// draws one panel per estimator. PNG or SVG by the suffix.
void write_mi_figure(const std::vector<storage::RunDetail>& runs, const std::string& estimator,
                     const std::string& path, const FigureOptions& opt);

// Bars of the final nearest-neighbour angle (mean over seeds, SD in the
// label) for the paper's ablation: SDMI, SDMI-NoDV and SDMI-NoDV-Pred (f and
// g), SimSiam, SimSiam-NoPred, SimSiam-SDMI.
void write_ablation_figure(const std::vector<storage::RunRow>& runs, const std::string& path,
                           const FigureOptions& opt);

}  // namespace ssrl::viz
