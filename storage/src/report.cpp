#include "ssrl/storage/report.hpp"

#include <cstdio>
#include <algorithm>
#include <cmath>
#include <iomanip>
#include <map>
#include <tuple>
#include <sstream>

#include <nlohmann/json.hpp>

#include "ssrl/errors.hpp"

namespace ssrl::storage {
namespace {

std::string fixed(double v, int decimals) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(decimals) << v;
  return os.str();
}

// Plain-text form of a cell ("87.31 ± 1.20", "0.52", "n/a").
std::string plain(const Cell& c, const std::string& pm) {
  if (!c.mean) return c.text;
  std::string s = fixed(*c.mean, c.decimals);
  if (c.sd) s += pm + fixed(*c.sd, c.decimals);
  return s;
}

std::string csv_escape(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char ch : s) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return out + "\"";
}

std::string latex_escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    switch (ch) {
      case '&': case '%': case '$': case '#': case '_': case '{': case '}':
        out += '\\';
        out += ch;
        break;
      case '~': out += "\\textasciitilde{}"; break;
      case '^': out += "\\textasciicircum{}"; break;
      case '\\': out += "\\textbackslash{}"; break;
      default: out += ch;
    }
  }
  // The degree sign and +- are common in our headers.
  std::string res;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out.compare(i, 2, "\xC2\xB0") == 0) {
      res += "$^\\circ$";
      ++i;
    } else if (out.compare(i, 2, "\xC2\xB1") == 0) {
      res += "$\\pm$";
      ++i;
    } else {
      res += out[i];
    }
  }
  return res;
}

std::string render_text(const Table& t) {
  std::vector<std::string> head;
  for (const auto& c : t.columns) head.push_back(c.name);
  std::vector<std::vector<std::string>> body;
  for (const auto& r : t.rows) {
    std::vector<std::string> line;
    for (const auto& c : r) line.push_back(plain(c, " ± "));
    body.push_back(line);
  }
  // Width in characters, counting UTF-8 continuation bytes as nothing.
  auto width = [](const std::string& s) {
    std::size_t w = 0;
    for (unsigned char ch : s) w += (ch & 0xC0) != 0x80;
    return w;
  };
  std::vector<std::size_t> w(head.size(), 0);
  for (std::size_t i = 0; i < head.size(); ++i) w[i] = width(head[i]);
  for (const auto& line : body)
    for (std::size_t i = 0; i < line.size() && i < w.size(); ++i) w[i] = std::max(w[i], width(line[i]));
  std::ostringstream os;
  if (!t.title.empty()) os << t.title << "\n";
  std::string line_out;
  auto emit = [&](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size(); ++i) {
      const bool numeric = !t.rows.empty() && i < t.rows.front().size() && t.rows.front()[i].mean.has_value();
      const std::string pad(w[i] - width(cells[i]), ' ');
      line_out += (i ? "  " : "") + (numeric ? pad + cells[i] : cells[i] + pad);
    }
    while (!line_out.empty() && line_out.back() == ' ') line_out.pop_back();
    os << line_out << "\n";
    line_out.clear();
  };
  emit(head);
  std::size_t total = 0;
  for (auto x : w) total += x + 2;
  os << std::string(total > 2 ? total - 2 : 0, '-') << "\n";
  for (const auto& line : body) emit(line);
  for (const auto& n : t.notes) os << n << "\n";
  return os.str();
}

std::string render_csv(const Table& t) {
  std::ostringstream os;
  for (std::size_t i = 0; i < t.columns.size(); ++i) {
    const auto& c = t.columns[i];
    os << (i ? "," : "") << csv_escape(c.name);
    if (c.with_sd) os << "," << csv_escape(c.name + " sd");
  }
  os << "\n";
  for (const auto& r : t.rows) {
    for (std::size_t i = 0; i < t.columns.size(); ++i) {
      const Cell& c = i < r.size() ? r[i] : Cell{};
      os << (i ? "," : "");
      if (c.mean) {
        std::ostringstream v;
        v << std::setprecision(10) << *c.mean;
        os << v.str();
      } else {
        os << csv_escape(c.text);
      }
      if (t.columns[i].with_sd) {
        os << ",";
        if (c.sd) {
          std::ostringstream v;
          v << std::setprecision(10) << *c.sd;
          os << v.str();
        }
      }
    }
    os << "\n";
  }
  return os.str();
}

std::string render_markdown(const Table& t) {
  std::ostringstream os;
  if (!t.title.empty()) os << "**" << t.title << "**\n\n";
  os << "|";
  for (const auto& c : t.columns) os << " " << c.name << " |";
  os << "\n|";
  for (std::size_t i = 0; i < t.columns.size(); ++i) {
    const bool numeric = !t.rows.empty() && i < t.rows.front().size() && t.rows.front()[i].mean.has_value();
    os << (numeric ? " ---: |" : " --- |");
  }
  os << "\n";
  for (const auto& r : t.rows) {
    os << "|";
    for (const auto& c : r) {
      std::string s = plain(c, " ± ");
      std::string esc;
      for (char ch : s) esc += ch == '|' ? std::string("\\|") : std::string(1, ch);
      os << " " << esc << " |";
    }
    os << "\n";
  }
  if (!t.notes.empty()) os << "\n";
  for (const auto& n : t.notes) os << n << "\n";
  return os.str();
}

std::string render_latex(const Table& t) {
  std::ostringstream os;
  os << "% Generated by SSRL Workbench; needs \\usepackage{booktabs}.\n";
  os << "\\begin{table}[t]\n\\centering\n";
  if (!t.title.empty()) os << "\\caption{" << latex_escape(t.title) << "}\n";
  os << "\\begin{tabular}{";
  for (std::size_t i = 0; i < t.columns.size(); ++i) {
    const bool numeric = !t.rows.empty() && i < t.rows.front().size() && t.rows.front()[i].mean.has_value();
    os << (numeric ? "r" : "l");
  }
  os << "}\n\\toprule\n";
  for (std::size_t i = 0; i < t.columns.size(); ++i) os << (i ? " & " : "") << latex_escape(t.columns[i].name);
  os << " \\\\\n\\midrule\n";
  for (const auto& r : t.rows) {
    for (std::size_t i = 0; i < r.size(); ++i) {
      const auto& c = r[i];
      os << (i ? " & " : "");
      if (c.mean) {
        os << "$" << fixed(*c.mean, c.decimals);
        if (c.sd) os << " \\pm " << fixed(*c.sd, c.decimals);
        os << "$";
      } else {
        os << latex_escape(c.text);
      }
    }
    os << " \\\\\n";
  }
  os << "\\bottomrule\n\\end{tabular}\n";
  for (const auto& n : t.notes) os << "% " << n << "\n";
  os << "\\end{table}\n";
  return os.str();
}

struct GroupKey {
  std::string method, setting, encoder;
  bool operator<(const GroupKey& o) const {
    return std::tie(method, setting, encoder) < std::tie(o.method, o.setting, o.encoder);
  }
};

std::string setting_of(const RunRow& r, int* clusters) {
  auto cfg = nlohmann::json::parse(r.config_json, nullptr, /*allow_exceptions=*/false);
  int batch = -1, epochs = r.epochs_planned;
  if (cfg.is_object()) {
    if (cfg.contains("batch_size") && cfg["batch_size"].is_number_integer()) batch = cfg["batch_size"];
    if (cfg.contains("epochs") && cfg["epochs"].is_number_integer()) epochs = cfg["epochs"];
    if (clusters != nullptr && cfg.contains("clusters") && cfg["clusters"].is_number_integer())
      *clusters = cfg["clusters"];
  }
  const std::string b = batch == 0 ? "full batch" : batch > 0 ? "batch " + std::to_string(batch) : "batch ?";
  std::string out = r.dataset + ", " + b + ", " + std::to_string(epochs) + " ep";
  // Which settings a row comes from: the preset, and the two settings the
  // paper's toy runs and the workbench's defaults differ in.
  if (cfg.is_object()) {
    if (cfg.contains("momentum") && cfg["momentum"].is_number()) out += ", momentum " + fixed(cfg["momentum"].get<double>(), 2);
    if (cfg.contains("temperature") && cfg["temperature"].is_number()) out += ", t " + fixed(cfg["temperature"].get<double>(), 2);
    if (cfg.contains("preset") && cfg["preset"].is_string() && !cfg["preset"].get<std::string>().empty())
      out += ", preset " + cfg["preset"].get<std::string>();
  }
  return out;
}

}  // namespace

Cell Cell::stats(const std::vector<double>& values, int decimals) {
  Cell c;
  c.decimals = decimals;
  c.n = static_cast<int>(values.size());
  if (values.empty()) {
    c.text = "n/a";
    return c;
  }
  double sum = 0;
  for (double v : values) sum += v;
  const double mean = sum / static_cast<double>(values.size());
  c.mean = mean;
  if (values.size() > 1) {
    double ss = 0;
    for (double v : values) ss += (v - mean) * (v - mean);
    c.sd = std::sqrt(ss / static_cast<double>(values.size() - 1));
  }
  return c;
}

TableFormat parse_table_format(const std::string& name) {
  if (name == "csv") return TableFormat::Csv;
  if (name == "markdown" || name == "md") return TableFormat::Markdown;
  if (name == "latex" || name == "tex") return TableFormat::Latex;
  if (name == "text") return TableFormat::Text;
  throw ConfigError("format", "unknown table format '" + name + "' (accepted: csv, markdown, latex, text)");
}

std::string printable(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  char buf[8];
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const bool c1 = c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
                    static_cast<unsigned char>(text[i + 1]) <= 0x9F;
    if (c < 0x20 || c == 0x7F) {
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    } else if (c1) {
      std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned char>(text[++i]));
      out += buf;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string render(const Table& raw, TableFormat format) {
  Table table = raw;
  table.title = printable(table.title);
  for (auto& c : table.columns) c.name = printable(c.name);
  for (auto& r : table.rows)
    for (auto& c : r) c.text = printable(c.text);
  for (auto& n : table.notes) n = printable(n);
  switch (format) {
    case TableFormat::Csv: return render_csv(table);
    case TableFormat::Markdown: return render_markdown(table);
    case TableFormat::Latex: return render_latex(table);
    case TableFormat::Text: return render_text(table);
  }
  return render_text(table);
}

Table separation_table(const std::vector<RunRow>& runs) {
  Table t;
  t.title = "Cluster-centre separation: nearest-neighbour angle between centres (degrees), final MI estimates";
  t.columns = {{"Method"},          {"Paradigm"},      {"Setting"},         {"Encoder"},
               {"Seeds"},           {"NN mean (°)", true}, {"NN min (°)", true}, {"NN max (°)", true},
               {"NN SD (°)", true}, {"cos-DV", true},  {"InfoNCE", true},   {"JSD", true},
               {"Collapsed"}};
  struct Acc {
    std::string paradigm;
    std::vector<double> mean, min, max, sd, cos_dv, infonce, jsd;
    int seeds = 0, collapsed = 0;
  };
  std::vector<GroupKey> order;
  std::map<GroupKey, Acc> groups;
  std::optional<int> clusters;
  bool mixed_clusters = false;
  for (const auto& r : runs) {
    if (r.status != "finished") continue;
    int k = 5;
    const std::string setting = setting_of(r, &k);
    if (clusters && *clusters != k) mixed_clusters = true;
    clusters = k;
    for (const auto& f : r.finals) {
      GroupKey key{r.method, setting, f.encoder};
      if (!groups.count(key)) order.push_back(key);
      auto& a = groups[key];
      a.paradigm = r.paradigm;
      a.seeds += 1;
      a.mean.push_back(f.separation.mean);
      a.min.push_back(f.separation.min);
      a.max.push_back(f.separation.max);
      a.sd.push_back(f.separation.sd);
      if (f.separation.max < kCollapseAngleDeg) a.collapsed += 1;
      if (r.last_mi.cos_dv) a.cos_dv.push_back(*r.last_mi.cos_dv);
      if (r.last_mi.infonce) a.infonce.push_back(*r.last_mi.infonce);
      if (r.last_mi.jsd) a.jsd.push_back(*r.last_mi.jsd);
    }
  }
  for (const auto& key : order) {
    const auto& a = groups[key];
    t.rows.push_back({Cell::str(key.method), Cell::str(a.paradigm), Cell::str(key.setting),
                      Cell::str(key.encoder), Cell::str(std::to_string(a.seeds)),
                      Cell::stats(a.mean, 1), Cell::stats(a.min, 1), Cell::stats(a.max, 1),
                      Cell::stats(a.sd, 1), Cell::stats(a.cos_dv, 3), Cell::stats(a.infonce, 3),
                      Cell::stats(a.jsd, 3),
                      Cell::str(std::to_string(a.collapsed) + "/" + std::to_string(a.seeds))});
  }
  if (clusters && !mixed_clusters) {
    if (auto opt = tammes_optimum_deg(*clusters)) {
      Cell none = Cell::str("");
      Cell best;
      best.mean = *opt;
      best.decimals = 1;
      t.rows.push_back({Cell::str("optimum"), none, Cell::str(std::to_string(*clusters) + " points on S^2"), none, none,
                        none, best, none, none, none, none, none, none});
      t.notes.push_back("Reference: the best possible minimum separation of " + std::to_string(*clusters) +
                        " points on the unit sphere is " + fixed(*opt, 1) + "°" +
                        (*clusters == 5 ? " (triangular bipyramid)." : " (Tammes problem)."));
    }
  }
  t.notes.push_back("Values are mean ± SD (sample) over seeds; per run, NN SD is the population SD over its centres.");
  t.notes.push_back("Collapsed: runs whose every centre lies within " + fixed(kCollapseAngleDeg, 0) +
                    "° of another (max NN angle below that).");
  return t;
}

Table gaussian_ablation_table(const std::vector<RunRow>& runs) {
  Table t;
  t.title = "Ablation on the Gaussian experiment: separation (degrees) and collapse indicators";
  t.columns = {{"Method"}, {"Setting"}, {"Encoder"}, {"Seeds"}, {"NN min (°)", true}, {"NN mean (°)", true},
               {"Collapsed"}, {"Emb SD (f)", true}, {"Eff rank (f)", true}, {"cos-DV", true}};
  struct Acc {
    std::vector<double> min, mean, std_, rank, cos_dv;
    int seeds = 0, collapsed = 0;
  };
  std::vector<GroupKey> order;
  std::map<GroupKey, Acc> groups;
  for (const auto& r : runs) {
    if (r.status != "finished") continue;
    const std::string setting = setting_of(r, nullptr);
    for (const auto& f : r.finals) {
      GroupKey key{r.method, setting, f.encoder};
      if (!groups.count(key)) order.push_back(key);
      auto& a = groups[key];
      a.seeds += 1;
      a.min.push_back(f.separation.min);
      a.mean.push_back(f.separation.mean);
      if (f.separation.max < kCollapseAngleDeg) a.collapsed += 1;
      if (&f == &r.finals.front()) {  // the run's indicators are encoder f's
        if (r.last_embedding_std) a.std_.push_back(*r.last_embedding_std);
        if (r.last_effective_rank) a.rank.push_back(*r.last_effective_rank);
        if (r.last_mi.cos_dv) a.cos_dv.push_back(*r.last_mi.cos_dv);
      }
    }
  }
  for (const auto& key : order) {
    const auto& a = groups[key];
    t.rows.push_back({Cell::str(key.method), Cell::str(key.setting), Cell::str(key.encoder),
                      Cell::str(std::to_string(a.seeds)), Cell::stats(a.min, 1), Cell::stats(a.mean, 1),
                      Cell::str(std::to_string(a.collapsed) + "/" + std::to_string(a.seeds)),
                      a.std_.empty() ? Cell::str("") : Cell::stats(a.std_, 3),
                      a.rank.empty() ? Cell::str("") : Cell::stats(a.rank, 2),
                      a.cos_dv.empty() ? Cell::str("") : Cell::stats(a.cos_dv, 3)});
  }
  t.notes.push_back("Values are mean ± SD (sample) over seeds. Emb SD: per-dimension SD of the L2-normalised "
                    "embeddings (0 = collapsed to a point, 1/sqrt(3) ≈ 0.577 spread over S^2); Eff rank: RankMe, at most 3.");
  t.notes.push_back("Collapsed: runs whose every centre lies within " + fixed(kCollapseAngleDeg, 0) +
                    "° of another (max NN angle below that). cos-DV: the run's branches (docs/science.md §4), f vs g for SDMI.");
  return t;
}

Table probe_table(const std::vector<RunRow>& runs) {
  Table t;
  t.title = "Linear-probe top-1 accuracy (%) on the test split";
  t.columns = {{"Method"}, {"Paradigm"}, {"Setting"}, {"Encoder"}, {"Seeds"}, {"Top-1 (%)", true},
               {"kNN@20 (%)", true}, {"cos-DV", true}, {"Emb SD", true}, {"Eff rank", true}};
  struct Acc {
    std::string paradigm;
    std::vector<double> top1, knn, cos_dv, std_, rank;
  };
  std::vector<GroupKey> order;
  std::map<GroupKey, Acc> groups;
  for (const auto& r : runs) {
    if (r.status != "finished") continue;
    auto cfg = nlohmann::json::parse(r.config_json, nullptr, false);
    std::string setting = r.dataset;
    if (cfg.is_object()) {
      auto get = [&](const char* k) { return cfg.contains(k) ? (cfg[k].is_string() ? cfg[k].get<std::string>() : cfg[k].dump()) : std::string("?"); };
      setting += ", " + get("encoder") + (r.method == "random-init" ? "" : ", " + get("epochs") + " ep");
    }
    for (const auto& p : r.probes) {
      GroupKey key{r.method, setting, p.encoder};
      if (!groups.count(key)) order.push_back(key);
      auto& a = groups[key];
      a.paradigm = r.paradigm;
      a.top1.push_back(100.0 * p.top1);
      if (p.encoder != "f") continue;  // the per-epoch monitors follow encoder f
      if (r.last_knn_top1) a.knn.push_back(100.0 * *r.last_knn_top1);
      if (r.last_mi.cos_dv) a.cos_dv.push_back(*r.last_mi.cos_dv);
      if (r.last_embedding_std) a.std_.push_back(*r.last_embedding_std);
      if (r.last_effective_rank) a.rank.push_back(*r.last_effective_rank);
    }
  }
  // The untrained baseline closes the table, whatever order runs came in.
  std::stable_partition(order.begin(), order.end(), [](const GroupKey& k) { return k.method != "random-init"; });
  for (const auto& key : order) {
    const auto& a = groups[key];
    t.rows.push_back({Cell::str(key.method), Cell::str(a.paradigm), Cell::str(key.setting), Cell::str(key.encoder),
                      Cell::str(std::to_string(a.top1.size())), Cell::stats(a.top1, 2), Cell::stats(a.knn, 1),
                      Cell::stats(a.cos_dv, 3), Cell::stats(a.std_, 3), Cell::stats(a.rank, 1)});
  }
  t.notes.push_back("Values are mean ± SD (sample) over seeds. random-init: the same encoder untrained (BN statistics "
                    "recalibrated on training batches), probed the same way. kNN, cos-DV, embedding SD (collapse -> 0) "
                    "and effective rank are of encoder f's last epoch.");
  return t;
}

namespace {

struct SweepPoint {
  nlohmann::json point;
  std::string method, dataset;
  int runs = 0;
  std::vector<double> primary, cos_dv, infonce;
};

std::vector<std::string> axes_of(const SweepRow& sweep) {
  std::vector<std::string> axes;
  const auto j = nlohmann::json::parse(sweep.axes_json, nullptr, false);
  if (j.is_array())
    for (const auto& a : j)
      if (a.is_string()) axes.push_back(a.get<std::string>());
  return axes;
}

std::vector<SweepPoint> sweep_points(const std::vector<RunRow>& runs) {
  std::vector<SweepPoint> points;
  std::map<std::string, std::size_t> index;
  for (const auto& r : runs) {
    if (r.sweep_point.empty()) continue;
    const auto [it, fresh] = index.emplace(r.sweep_point, points.size());
    if (fresh) {
      SweepPoint p;
      p.point = nlohmann::json::parse(r.sweep_point, nullptr, false);
      p.method = r.method;
      p.dataset = r.dataset;
      points.push_back(std::move(p));
    }
    auto& p = points[it->second];
    ++p.runs;
    if (r.status != "finished") continue;
    if (r.dataset == "gaussian") {
      if (r.min_separation) p.primary.push_back(*r.min_separation);
    } else if (r.probe_top1) {
      p.primary.push_back(100.0 * *r.probe_top1);
    }
    if (r.last_mi.cos_dv) p.cos_dv.push_back(*r.last_mi.cos_dv);
    if (r.last_mi.infonce) p.infonce.push_back(*r.last_mi.infonce);
  }
  return points;
}

std::string primary_name(const std::vector<SweepPoint>& points) {
  const bool image = std::any_of(points.begin(), points.end(), [](const SweepPoint& p) { return p.dataset != "gaussian"; });
  return image ? "Probe top-1 (%)" : "Min sep f (deg)";
}

std::vector<Cell> point_cells(const SweepPoint& p, const std::vector<std::string>& axes) {
  std::vector<Cell> row{Cell::str(p.method)};
  for (const auto& a : axes) {
    const bool has = p.point.is_object() && p.point.contains(a);
    row.push_back(Cell::str(!has ? "-" : p.point[a].is_string() ? p.point[a].get<std::string>() : p.point[a].dump()));
  }
  row.push_back(Cell::str(std::to_string(p.primary.size()) + "/" + std::to_string(p.runs)));
  row.push_back(Cell::stats(p.primary, 2));
  row.push_back(Cell::stats(p.cos_dv, 3));
  row.push_back(Cell::stats(p.infonce, 3));
  return row;
}

std::vector<Column> point_columns(const std::vector<std::string>& axes, const std::string& primary) {
  std::vector<Column> cols{{"Method"}};
  for (const auto& a : axes) cols.push_back({a});
  for (Column c : std::vector<Column>{{"Done"}, {primary, true}, {"cos-DV", true}, {"InfoNCE", true}}) cols.push_back(c);
  return cols;
}

}  // namespace

Table sweep_table(const SweepRow& sweep, const std::vector<RunRow>& runs) {
  const auto axes = axes_of(sweep);
  const auto points = sweep_points(runs);
  Table t;
  t.title = "Sweep " + sweep.name + ": " + std::to_string(points.size()) + " points, " + std::to_string(sweep.finished) + "/" +
            std::to_string(sweep.planned) + " runs finished";
  t.columns = point_columns(axes, primary_name(points));
  for (const auto& p : points) t.rows.push_back(point_cells(p, axes));
  t.notes.push_back("Mean ± SD (sample) over the finished seeds of each point; Done = finished / stored runs. '-': the "
                    "method has no such setting. Gaussian runs: the minimum angle between encoder f's cluster centres "
                    "(optimum 90° for five); image runs: linear-probe top-1 of encoder f.");
  return t;
}

Table sweep_best_table(const SweepRow& sweep, const std::vector<RunRow>& runs) {
  const auto axes = axes_of(sweep);
  const auto points = sweep_points(runs);
  Table t;
  t.title = "Sweep " + sweep.name + ": best point per method";
  t.columns = point_columns(axes, primary_name(points));
  std::vector<std::string> order;
  std::map<std::string, const SweepPoint*> best;
  for (const auto& p : points) {
    if (p.primary.empty()) continue;
    if (!best.count(p.method)) order.push_back(p.method);
    const SweepPoint*& b = best[p.method];
    const auto mean = [](const std::vector<double>& v) {
      double s = 0;
      for (double x : v) s += x;
      return s / static_cast<double>(v.size());
    };
    if (b == nullptr || mean(p.primary) > mean(b->primary)) b = &p;
  }
  for (const auto& m : order) t.rows.push_back(point_cells(*best[m], axes));
  t.notes.push_back("The point with the highest mean " + primary_name(points) + " per method, among points with a finished run.");
  return t;
}

Table timing_table(const std::vector<RunRow>& runs) {
  Table t;
  t.title = "Wall time per run (training and per-epoch evaluation)";
  t.columns = {{"Method"}, {"Setting"}, {"Runs"}, {"Seconds", true}, {"ms / epoch", true}};
  std::vector<std::pair<std::string, std::string>> order;
  std::map<std::pair<std::string, std::string>, std::pair<std::vector<double>, std::vector<double>>> groups;
  for (const auto& r : runs) {
    if (r.epochs_done == 0) continue;
    const auto key = std::make_pair(r.method, setting_of(r, nullptr));
    if (!groups.count(key)) order.push_back(key);
    groups[key].first.push_back(r.seconds);
    groups[key].second.push_back(1000.0 * r.seconds / r.epochs_done);
  }
  for (const auto& key : order) {
    const auto& g = groups[key];
    t.rows.push_back({Cell::str(key.first), Cell::str(key.second), Cell::str(std::to_string(g.first.size())),
                      Cell::stats(g.first, 2), Cell::stats(g.second, 1)});
  }
  return t;
}

}  // namespace ssrl::storage
