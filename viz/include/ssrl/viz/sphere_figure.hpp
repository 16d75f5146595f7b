#pragma once
// What the 3D unit-sphere view draws, as plain data (no VTK here): for each
// panel, the per-epoch cluster centres of one or more runs. The same
// description feeds the live widget and the offscreen export.

#include <optional>
#include <string>
#include <vector>

#include "ssrl/records.hpp"

namespace ssrl::viz {

struct SphereTrajectories {
  std::string label;                       // "sdmi #12 f"
  std::vector<std::vector<Vec3>> centres;  // [epoch - 1][cluster], unit vectors
  bool overlay = false;                    // a run drawn for comparison: thinner, hollow end markers
};

struct SpherePanel {
  std::string title;
  std::vector<SphereTrajectories> runs;   // runs[0] is the main one
  int upto_epoch = 0;                     // draw epochs 1..upto_epoch; 0 = all
  std::optional<SeparationStats> stats;   // shown under the sphere with the optimum for its centre count
  bool legend = true;
};

struct SphereFigure {
  std::vector<SpherePanel> panels;
  int columns = 0;          // panels per row; 0 = all in one row
  double font_scale = 1.0;  // text size relative to a 96-dpi screen
};

// Points along the great circle from a to b (both unit vectors), both ends
// included, about one every `step_deg` degrees. Antipodal ends take the
// path through the pole nearest the equator of a, for determinism.
std::vector<Vec3> great_circle_arc(const Vec3& a, const Vec3& b, double step_deg = 2.0);

// Opacity of the trajectory segment that ends at `epoch` (1-based) of
// `epochs`: faint at the start of training, opaque at the end.
double epoch_opacity(int epoch, int epochs);

// The colour of cluster k (RGB in [0, 1]); the same palette as the charts.
void cluster_colour(int k, double rgb[3]);

// An offscreen rendering, top row first, and where each panel's final
// centres of its main run landed (pixels, origin top-left).
struct RenderedImage {
  int width = 0, height = 0;
  std::vector<unsigned char> rgb;
  std::vector<std::vector<std::pair<double, double>>> final_centres_px;  // [panel][cluster]
};

// Why an offscreen VTK rendering cannot be made here ("" when it can):
// Debian's VTK renders through X only.
std::string offscreen_problem();

// Renders the figure offscreen; throws ssrl::Error naming the problem when
// no display or OpenGL context can be had.
RenderedImage render_offscreen(const SphereFigure& figure, int width, int height);

}  // namespace ssrl::viz
