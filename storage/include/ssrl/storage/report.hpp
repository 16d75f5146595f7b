#pragma once
// Tables built from stored runs, rendered as text, CSV, Markdown or LaTeX.
// The CLI's `export table` and the GUI's export share this code.

#include <optional>
#include <string>
#include <vector>

#include "ssrl/storage/database.hpp"

namespace ssrl::storage {

// A numeric cell carries mean and, over several seeds, the sample SD.
struct Cell {
  std::string text;
  std::optional<double> mean;
  std::optional<double> sd;
  int n = 0;
  int decimals = 2;

  static Cell str(std::string s) { return {std::move(s), {}, {}, 0, 2}; }
  static Cell stats(const std::vector<double>& values, int decimals);
};

struct Column {
  std::string name;
  bool with_sd = false;  // CSV splits it into "<name> mean" and "<name> sd"
};

struct Table {
  std::string title;
  std::vector<Column> columns;
  std::vector<std::vector<Cell>> rows;
  std::vector<std::string> notes;
};

enum class TableFormat { Text, Csv, Markdown, Latex };
// "csv", "markdown" (or "md"), "latex" (or "tex"), "text"; ConfigError otherwise.
TableFormat parse_table_format(const std::string& name);
// Every text in the table goes through printable() first.
std::string render(const Table& table, TableFormat format);
// Free text (run names, tags) made safe for a terminal: control characters,
// ESC among them, and the C1 controls of UTF-8 become \xHH.
std::string printable(const std::string& text);

// The Gaussian-experiment summary: per method, setting and encoder, the
// nearest-neighbour angle statistics and final MI estimates, mean +- SD over
// seeds, with the optimum minimum separation as the reference row.
Table separation_table(const std::vector<RunRow>& runs);

// The ablation on the Gaussian experiment (`reproduce ablation --dataset
// gaussian`): per method, setting and encoder, the minimum and mean
// nearest-neighbour angle, how many seeds collapsed, encoder f's final
// embedding SD and effective rank, and the final cos-DV estimate.
Table gaussian_ablation_table(const std::vector<RunRow>& runs);

// Image data: linear-probe top-1 (%) per method, setting and encoder, mean
// +- SD over seeds, with the final kNN accuracy and collapse indicators;
// random-initialisation baselines appear as their own rows.
Table probe_table(const std::vector<RunRow>& runs);

// A sweep's grid: one row per point (method and axis values), with the
// primary result — linear-probe top-1 (%) on image data, the minimum
// nearest-neighbour angle of encoder f (degrees) on the Gaussian data —
// and the final MI, mean +- SD over the finished seeds.
Table sweep_table(const SweepRow& sweep, const std::vector<RunRow>& runs);
// The best point per method by the primary result's mean (higher is better).
Table sweep_best_table(const SweepRow& sweep, const std::vector<RunRow>& runs);

// Wall time per method (mean over seeds), in seconds.
Table timing_table(const std::vector<RunRow>& runs);

// Max nearest-neighbour angle below which every centre sits on another one.
inline constexpr double kCollapseAngleDeg = 10.0;

}  // namespace ssrl::storage
