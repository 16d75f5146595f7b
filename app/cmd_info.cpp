// Read-only commands: runs, show, methods, export table, bench.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "progress.hpp"
#include "ssrl/bench.hpp"
#include "ssrl/config.hpp"
#include "ssrl/datasets.hpp"
#include "ssrl/engine.hpp"
#include "ssrl/errors.hpp"
#include "ssrl/output_file.hpp"
#include "ssrl/methods.hpp"
#include "ssrl/storage/database.hpp"
#include "ssrl/storage/report.hpp"
#include "ssrl/runner/recorder.hpp"
#include "ssrl/weights.hpp"

namespace ssrl::app {
namespace {

using json = nlohmann::json;
using storage::Cell;

json opt(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

json centres_json(const std::vector<Vec3>& cs) {
  json a = json::array();
  for (const auto& c : cs) a.push_back({c.x, c.y, c.z});
  return a;
}

json run_summary_json(const storage::RunRow& r) {
  json j = {{"id", r.id},
            {"name", r.name},
            {"method", r.method},
            {"base_method", r.base_method},
            {"paradigm", r.paradigm},
            {"dataset", r.dataset},
            {"status", r.status},
            {"seed", r.seed},
            {"device", r.device},
            {"tag", r.tag},
            {"epochs_planned", r.epochs_planned},
            {"epochs_done", r.epochs_done},
            {"seconds", r.seconds},
            {"created_at", r.created_at},
            {"started_at", r.started_at},
            {"finished_at", r.finished_at},
            {"message", r.message},
            {"final_mi", {{"cos_dv", opt(r.last_mi.cos_dv)}, {"infonce", opt(r.last_mi.infonce)}, {"jsd", opt(r.last_mi.jsd)}}},
            {"min_separation_f", opt(r.min_separation)},
            {"probe_top1_f", opt(r.probe_top1)}};
  return j;
}

json run_detail_json(const storage::RunDetail& d) {
  const auto& r = d.run;
  json j = run_summary_json(r);
  j["program_version"] = r.program_version;
  j["config"] = json::parse(r.config_json, nullptr, false);
  json epochs = json::array();
  for (const auto& e : d.epochs) {
    json ej = {{"epoch", e.epoch},
               {"loss", e.loss},
               {"mi", {{"cos_dv", opt(e.mi.cos_dv)}, {"infonce", opt(e.mi.infonce)}, {"jsd", opt(e.mi.jsd)}}},
               {"embedding_std", e.embedding_std},
               {"effective_rank", e.effective_rank},
               {"lr", e.lr},
               {"seconds", e.seconds}};
    if (e.loss_e || e.loss_m) ej["loss_phases"] = {{"e", opt(e.loss_e)}, {"m", opt(e.loss_m)}};
    if (e.knn_top1_k20 || e.knn_top1_k200) {
      ej["knn_top1"] = opt(e.knn_top1_k20);
      ej["knn_top1_k200"] = opt(e.knn_top1_k200);
    }
    // Collapse at both levels per encoder; the first encoder's also at the
    // epoch's top level, beside the projection's embedding_std/effective_rank.
    json col = json::object();
    for (const auto& c : e.collapse) {
      col[c.encoder] = {{"projection", {{"embedding_std", c.proj_std}, {"effective_rank", c.proj_rank}}},
                        {"backbone", {{"embedding_std", c.feat_std}, {"effective_rank", c.feat_rank}}},
                        {"out_scale_norm", opt(c.out_scale_norm)}};
      if (&c == &e.collapse.front()) {
        ej["backbone"] = col[c.encoder]["backbone"];
        ej["out_scale_norm"] = opt(c.out_scale_norm);
      }
    }
    if (!e.collapse.empty()) ej["collapse"] = col;
    json cs = json::object();
    for (const auto& ec : e.centres) cs[ec.encoder] = centres_json(ec.centres);
    ej["centres"] = cs;
    epochs.push_back(ej);
  }
  j["epochs"] = epochs;
  json encs = json::object();
  for (const auto& f : d.finals)
    encs[f.encoder] = {{"nn_gap_mean", f.separation.mean},
                       {"nn_gap_min", f.separation.min},
                       {"nn_gap_max", f.separation.max},
                       {"nn_gap_sd", f.separation.sd},
                       {"centres", centres_json(f.centres)}};
  j["final"] = {{"encoders", encs}};
  if (!d.finals.empty())
    if (const auto opt = tammes_optimum_deg(static_cast<int>(d.finals.front().centres.size())))
      j["final"]["optimum_min_separation_deg"] = *opt;
  if (!r.probes.empty()) {
    json probes = json::object();
    for (const auto& p : r.probes)
      probes[p.encoder] = {{"top1", p.top1}, {"epochs", p.epochs}, {"train_size", p.train_size}, {"test_size", p.test_size},
                           {"standardised", p.standardised}};
    j["final"]["linear_probe"] = {{"top1", r.probes.front().top1}, {"encoders", probes}};
    for (const auto& p : r.probes) j["final"]["encoders"][p.encoder]["linear_probe_top1"] = p.top1;
  }
  if (!r.checkpoint.empty()) j["checkpoint"] = {{"path", r.checkpoint}, {"epoch", r.checkpoint_epoch}};
  return j;
}

std::string num(const std::optional<double>& v, int decimals) {
  if (!v) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, *v);
  return buf;
}

Cell value(double v, int decimals) {
  Cell c;
  c.mean = v;
  c.decimals = decimals;
  return c;
}

Cell opt_value(const std::optional<double>& v, int decimals) { return v ? value(*v, decimals) : Cell::str("n/a"); }

// Read commands open an existing database read-only; none means no runs.
std::optional<storage::Database> open_for_reading(const Global& g) {
  const std::string path = g.db_path();
  if (!std::filesystem::exists(path)) return std::nullopt;
  return std::optional<storage::Database>(std::in_place, path, storage::Database::Mode::ReadOnly);
}

void check_format(const std::string& format, std::initializer_list<const char*> accepted) {
  std::string list;
  for (const char* a : accepted) {
    if (format == a) return;
    list += (list.empty() ? "" : ", ") + std::string(a);
  }
  throw ConfigError("format", "unknown format '" + format + "' (accepted: " + list + ")");
}

}  // namespace

int cmd_runs(const Global& g, const std::string& format, const std::string& dataset, const std::string& method,
             const std::string& status, const std::string& tag) {
  check_format(format, {"table", "json"});
  if (!status.empty()) {
    try {
      status_from_name(status);
    } catch (const std::invalid_argument&) {
      throw ConfigError("status", "unknown status '" + status +
                                      "' (accepted: queued, running, finished, failed, interrupted, diverged)");
    }
  }
  storage::RunFilter f;
  if (!dataset.empty()) f.dataset = dataset;
  if (!method.empty()) f.method = method;
  if (!status.empty()) f.status = status;
  if (!tag.empty()) f.tag = tag;
  std::vector<storage::RunRow> rows;
  auto db = open_for_reading(g);
  // A --db that names no file is a mistake (as for `show`); the default
  // database not there yet only means no runs so far.
  if (!db && !g.db.empty()) throw StorageError("database '" + g.db_path() + "': no such file");
  if (db) rows = db->list_runs(f);
  if (format == "json") {
    json a = json::array();
    for (const auto& r : rows) a.push_back(run_summary_json(r));
    std::cout << a.dump(2) << "\n";
    return kOk;
  }
  if (rows.empty()) {
    std::cout << "no runs in " << g.db_path() << (db ? "" : " (no database there yet)") << "\n";
    return kOk;
  }
  storage::Table t;
  t.columns = {{"ID"}, {"Name"}, {"Method"}, {"Data"}, {"Status"}, {"Seed"}, {"Epochs"},
               {"cos-DV"}, {"Min sep f (°)"}, {"Probe f (%)"}, {"Time"}, {"Created"}};
  for (const auto& r : rows) {
    t.rows.push_back({value(static_cast<double>(r.id), 0), Cell::str(r.name), Cell::str(r.method), Cell::str(r.dataset),
                      Cell::str(r.status), value(static_cast<double>(r.seed), 0),
                      Cell::str(std::to_string(r.epochs_done) + "/" + std::to_string(r.epochs_planned)),
                      opt_value(r.last_mi.cos_dv, 3), opt_value(r.min_separation, 1),
                      r.probe_top1 ? value(100.0 * *r.probe_top1, 2) : Cell::str("-"),
                      Cell::str(format_duration(r.seconds)), Cell::str(r.created_at.substr(0, 19))});
  }
  std::cout << storage::render(t, storage::TableFormat::Text);
  return kOk;
}

int cmd_show(const Global& g, const std::string& run, const std::string& format) {
  check_format(format, {"text", "json"});
  auto db = open_for_reading(g);
  if (!db) throw StorageError("database '" + g.db_path() + "': no such file (no runs yet)");
  const auto d = db->load_run(run);
  if (!d) throw ConfigError("run", "no run with id or name '" + run + "' in " + g.db_path());
  const auto log = db->load_log(d->run.id);
  if (format == "json") {
    json j = run_detail_json(*d);
    json lines = json::array();
    for (const auto& l : log) lines.push_back({{"at", l.at}, {"level", l.level}, {"text", l.text}});
    j["log"] = lines;
    std::cout << j.dump(2) << "\n";
    return kOk;
  }
  const auto& r = d->run;
  std::cout << "run " << r.id << " '" << storage::printable(r.name) << "'\n"
            << "  method     " << r.method << " (" << r.paradigm << (r.method != r.base_method ? ", variant of " + r.base_method : "") << ")\n"
            << "  data set   " << r.dataset << "\n"
            << "  status     " << r.status << (r.message.empty() ? "" : " — " + r.message) << "\n"
            << "  seed       " << r.seed << "   device " << (r.device.empty() ? "-" : r.device) << "\n"
            << "  epochs     " << r.epochs_done << "/" << r.epochs_planned << " in " << format_duration(r.seconds) << "\n"
            << "  created    " << r.created_at << "   finished " << (r.finished_at.empty() ? "-" : r.finished_at) << "\n"
            << "  tag        " << (r.tag.empty() ? "-" : storage::printable(r.tag)) << "   version " << r.program_version << "\n"
            << "  config     " << r.config_json << "\n\n";
  storage::Table t;
  t.columns = {{"Epoch"}, {"Loss"}, {"Loss E"}, {"Loss M"}, {"cos-DV"}, {"InfoNCE"}, {"JSD"}, {"Emb SD"}, {"Eff rank"}, {"LR"}, {"kNN@20"}};
  const std::size_t n = d->epochs.size();
  const std::size_t every = std::max<std::size_t>(1, n / 20);
  for (std::size_t i = 0; i < n; ++i) {
    if (i % every != 0 && i + 1 != n) continue;
    const auto& e = d->epochs[i];
    t.rows.push_back({value(e.epoch, 0), value(e.loss, 4), opt_value(e.loss_e, 4), opt_value(e.loss_m, 4),
                      opt_value(e.mi.cos_dv, 4), opt_value(e.mi.infonce, 4), opt_value(e.mi.jsd, 4),
                      value(e.embedding_std, 4), value(e.effective_rank, 3), value(e.lr, 4),
                      e.knn_top1_k20 ? value(100.0 * *e.knn_top1_k20, 1) : Cell::str("-")});
  }
  if (!t.rows.empty()) std::cout << storage::render(t, storage::TableFormat::Text) << "\n";
  for (const auto& p : r.probes)
    std::printf("encoder %s: linear probe top-1 %.2f%% (%lld training, %lld test images, %d epochs)\n", p.encoder.c_str(),
                100.0 * p.top1, static_cast<long long>(p.train_size), static_cast<long long>(p.test_size), p.epochs);
  if (!r.checkpoint.empty()) std::cout << "checkpoint after epoch " << r.checkpoint_epoch << ": " << r.checkpoint << "\n";
  for (const auto& f : d->finals) {
    std::printf("encoder %s: %s\n", f.encoder.c_str(), separation_text(f.separation, static_cast<int>(f.centres.size())).c_str());
    for (std::size_t k = 0; k < f.centres.size(); ++k)
      std::printf("  centre %zu: (% .4f, % .4f, % .4f)\n", k + 1, f.centres[k].x, f.centres[k].y, f.centres[k].z);
  }
  if (!log.empty()) std::cout << "\nlog\n";
  for (const auto& l : log) std::cout << "  " << l.at << "  " << l.level << "  " << l.text << "\n";
  return kOk;
}

// The settings reference: every key of ssrl/settings.def with its meaning,
// range, default and scope. docs/settings.md is this command's markdown
// output (a test checks that it is current).
int cmd_settings(const std::string& format) {
  check_format(format, {"table", "markdown", "json"});
  auto scope_text = [](const ConfigField& f) -> std::string {
    switch (f.scope) {
      case Scope::All: return "every run";
      case Scope::Gaussian: return "Gaussian";
      case Scope::Image: return "images";
      case Scope::Method: break;
    }
    std::string users;
    for (const auto& m : all_methods())
      if (!m.is_variant() && std::find(m.uses.begin(), m.uses.end(), f.key) != m.uses.end())
        users += (users.empty() ? "" : ", ") + m.name;
    return users.empty() ? "methods that use it" : users;
  };
  auto default_text = [](const ConfigField& f) {
    const json v = f.default_value();
    return v.is_boolean() ? std::string(v.get<bool>() ? "on" : "off") : v.is_string() ? (v.get<std::string>().empty() ? std::string("''") : v.get<std::string>()) : v.dump();
  };
  if (format == "json") {
    json a = json::array();
    for (const auto& f : config_fields())
      a.push_back({{"key", f.key}, {"group", group_title(f.group)}, {"scope", scope_text(f)}, {"range", f.range()},
                   {"default", f.default_value()}, {"flag", f.flag}, {"description", f.description}});
    std::cout << a.dump(2) << "\n";
    return kOk;
  }
  if (format == "markdown") {
    std::cout << "# Settings reference\n\n"
              << "Generated by `ssrl-workbench settings --format markdown` from the one declaration of the settings,\n"
              << "`core/include/ssrl/settings.def`; do not edit by hand (the `settings_doc` test checks that it is current).\n\n"
              << "Every key works with `--set key=value`, in config files, presets and sweeps; the keys marked with a flag\n"
              << "also have `--key-with-dashes`. The defaults are the declaration's: a data set and a method bring their own\n"
              << "for some keys (`ssrl-workbench datasets`, `ssrl-workbench methods --format json`).\n";
    for (const SettingGroup g : kSettingGroups) {
      std::cout << "\n## " << group_title(g) << "\n\n| Key | Default | Range | Used by | Meaning |\n|---|---|---|---|---|\n";
      for (const auto& f : config_fields()) {
        if (f.group != g) continue;
        std::string key = "`" + f.key + "`";
        if (f.flag) {
          std::string dashed = f.key;
          std::replace(dashed.begin(), dashed.end(), '_', '-');
          key += " (`--" + dashed + "`)";
        }
        std::string range = f.range(), meaning = f.description;
        for (auto* s : {&range, &meaning}) {
          std::string out;
          for (char c : *s) out += c == '|' ? std::string("\\|") : std::string(1, c);
          *s = out;
        }
        std::cout << "| " << key << " | " << default_text(f) << " | " << range << " | " << scope_text(f) << " | " << meaning
                  << " |\n";
      }
    }
    return kOk;
  }
  storage::Table t;
  t.columns = {{"Key"}, {"Default"}, {"Range"}, {"Used by"}, {"Meaning"}};
  for (const auto& f : config_fields())
    t.rows.push_back({Cell::str(f.key), Cell::str(default_text(f)), Cell::str(f.range()), Cell::str(scope_text(f)),
                      Cell::str(f.description)});
  std::cout << storage::render(t, storage::TableFormat::Text);
  return kOk;
}

// The data sets as declared (core/src/config/datasets.cpp): where their files
// are read from, their default encoder and normalisation, the defaults they bring.
int cmd_datasets(const std::string& format) {
  check_format(format, {"table", "json"});
  auto numbers = [](const std::vector<float>& v) {
    std::ostringstream s;
    for (std::size_t i = 0; i < v.size(); ++i) s << (i ? ", " : "") << v[i];
    return s.str();
  };
  if (format == "json") {
    json a = json::array();
    for (const auto& d : datasets())
      a.push_back({{"name", d.name}, {"title", d.title}, {"format", d.format}, {"files", d.files},
                   {"default_dir", d.default_dir}, {"encoder", d.encoder}, {"classes", d.classes},
                   {"channels", d.channels}, {"image_size", d.image_size}, {"mean", d.mean}, {"std", d.std},
                   {"defaults", d.defaults}});
    std::cout << a.dump(2) << "\n";
    return kOk;
  }
  for (const auto& d : datasets()) {
    std::cout << d.name << "  " << d.title << "\n";
    if (!d.images()) {
      std::cout << "  generated from the run's seed; encoder mlp\n\n";
      continue;
    }
    std::cout << "  files      " << d.files << "\n"
              << "  folder     " << (d.default_dir.empty() ? "--data-dir (required)" : d.default_dir) << "\n"
              << "  encoder    " << d.encoder << ", " << d.channels << " channel(s), " << d.image_size << " px, "
              << d.classes << " classes\n"
              << "  normalise  mean (" << numbers(d.mean) << "), SD (" << numbers(d.std) << ")\n";
    std::string defaults;
    for (const auto& [k, v] : d.defaults.items()) defaults += (defaults.empty() ? "" : " ") + k + "=" + v.dump();
    std::cout << "  defaults   " << defaults << "\n\n";
  }
  return kOk;
}

int cmd_devices() {
  load_engine();
  std::cout << "LibTorch " << torch_version() << " (built against " << torch_build_version() << ")\n"
            << "CUDA     " << (cuda_available() ? "available" : "not available (CPU only)") << "\n"
            << "device   auto = " << resolve_device("auto") << "\n";
  return kOk;
}

int cmd_methods(const std::string& format) {
  check_format(format, {"table", "json"});
  if (format == "json") {
    json a = json::array();
    for (const auto& m : all_methods()) {
      const RunConfig cfg = ConfigBuilder(m.name).build();
      json defaults = to_json(cfg);
      defaults.erase("method");
      defaults.erase("base_method");
      // The image heads at the paper's CIFAR size; F is the backbone's width.
      const json image = to_json(ConfigBuilder(m.name, "cifar10").build(false));
      const HeadLayers layers = head_layers(m, image, "F");
      const json head = {{"projector", layers.projector},
                         {"predictor", layers.predictor},
                         {"output_norm", image.at("proj_out_norm")},
                         {"loss_input", m.head.loss_input},
                         {"source", m.head.source},
                         {"sizes_from", "data set cifar10 defaults (docs/science.md §6); proj_layers, proj_hidden, proj_dim, "
                                        "predictor_hidden and proj_out_norm are settings"},
                         {"gaussian_encoder", "Linear(2, hidden_dim) BatchNorm1d ReLU Linear(hidden_dim, 3) "
                                              "BatchNorm1d, then L2 (docs/science.md §5, every method)"}};
      a.push_back({{"name", m.name},
                   {"display", m.display},
                   {"paradigm", paradigm_name(m.paradigm)},
                   {"base_method", m.base},
                   {"variant", m.is_variant()},
                   {"summary", m.summary},
                   {"settings", m.uses},
                   {"encoders", m.encoders},
                   {"mi_branches", m.mi_branches},
                   {"fixed", m.fixed.is_null() ? json::object() : m.fixed},
                   {"defaults", defaults},
                   {"head", head}});
    }
    std::cout << a.dump(2) << "\n";
    return kOk;
  }
  storage::Table t;
  t.columns = {{"Name"}, {"Paradigm"}, {"Method"}, {"Own defaults"}, {"What it does"}};
  for (const auto& m : all_methods()) {
    const RunConfig cfg = ConfigBuilder(m.name).build();
    std::string defaults;
    for (const auto& key : m.uses) {
      if (key == "predictor_hidden") continue;
      const json v = field_value(cfg, key);
      std::string text = v.is_boolean() ? (v.get<bool>() ? "on" : "off") : v.is_string() ? v.get<std::string>() : v.dump();
      defaults += (defaults.empty() ? "" : " ") + key + "=" + text;
    }
    t.rows.push_back({Cell::str(m.name), Cell::str(paradigm_name(m.paradigm)),
                      Cell::str(m.is_variant() ? m.display + " (variant of " + m.base + ")" : m.display),
                      Cell::str(defaults), Cell::str(m.summary)});
  }
  const RunConfig common = ConfigBuilder("jmi").build();
  t.notes.push_back("Common defaults (Gaussian experiment, mini-batch setting): epochs=" + std::to_string(common.epochs) +
                    " batch_size=" + std::to_string(common.batch_size) + " lr=" + num(common.lr, 2) +
                    " momentum=" + num(common.momentum, 2) + " weight_decay=" + num(common.weight_decay, 5) +
                    " lr_schedule=" + common.lr_schedule + " mi_temperature=" + num(common.mi_temperature, 1));
  t.notes.push_back("Any setting can be changed with --set key=value; `methods --format json` lists each method's defaults, "
                    "`settings` every setting with its range and scope.");
  std::cout << storage::render(t, storage::TableFormat::Text);
  return kOk;
}

int cmd_export_weights(const Global& g, const WeightsRequest& req) {
  auto db = open_for_reading(g);
  if (!db) throw StorageError("database '" + g.db_path() + "': no such file");
  const auto d = db->load_run(req.run);
  if (!d) throw ConfigError("run", "no run with id or name '" + req.run + "' in " + g.db_path());
  const auto& r = d->run;
  if (r.checkpoint.empty() || !std::filesystem::exists(r.checkpoint))
    throw ConfigError("run", "run " + std::to_string(r.id) + " has no checkpoint to export" +
                                 (r.checkpoint.empty() ? " (Gaussian runs stored by earlier versions kept none)"
                                                       : " (" + r.checkpoint + " is gone)"));
  const RunConfig cfg = runner::stored_config(r);
  const WeightsExport w = export_weights(cfg, r.checkpoint, req.encoder, req.part, req.out);
  if (!g.quiet) {
    std::cout << "wrote " << req.out << ": " << w.tensors << " tensors, " << w.values << " values, encoder " << req.encoder
              << " of run " << r.id << " (" << r.method << ") after epoch " << r.checkpoint_epoch << "\n"
              << "load in PyTorch (resources/python/ssrl_encoders.py):\n"
              << "  model = " << w.python << "\n"
              << "  model.load_state_dict(torch.load(\"" << req.out << "\"))\n";
  }
  return kOk;
}

int cmd_export_table(const Global& g, const ExportRequest& req) {
  const auto format = storage::parse_table_format(req.format);
  auto db = open_for_reading(g);
  if (!db) throw StorageError("database '" + g.db_path() + "': no such file (no runs to export)");
  storage::RunFilter f;
  if (!req.dataset.empty()) f.dataset = req.dataset;
  for (auto id : req.runs) f.ids.push_back(id);
  if (!req.tag.empty()) f.tag = req.tag;
  if (req.latest) {
    const std::string tag = db->latest_tag("reproduce-" + req.dataset);
    if (tag.empty()) throw ConfigError("latest", "no reproduce run of data set '" + req.dataset + "' in " + g.db_path());
    f.tag = tag;
  }
  const auto rows = db->list_runs(f);
  const auto table = req.dataset == "gaussian" ? storage::separation_table(rows) : storage::probe_table(rows);
  if (table.rows.empty() || (table.rows.size() == 1 && table.rows[0][0].text == "optimum"))
    throw ConfigError("", "no finished runs match the selection (data set " + req.dataset + ")");
  const std::string text = storage::render(table, format);
  if (req.out.empty() || req.out == "-") {
    std::cout << text;
    return kOk;
  }
  write_output_file(req.out, text);
  std::cerr << "wrote " << req.out << " (" << rows.size() << " runs)\n";
  return kOk;
}

int cmd_bench(const BenchRequest& req) {
  check_format(req.format, {"text", "json"});
  if (req.repeats < 1) throw ConfigError("repeats", "must be at least 1");
  if (req.dim < 1 || req.dim > 4096) throw ConfigError("dim", "must be in [1, 4096]");
  BenchOptions opt;
  opt.sizes.clear();
  for (auto n : req.sizes) {
    if (n < 2) throw ConfigError("sizes", "every N must be at least 2");
    opt.sizes.push_back(n);
  }
  opt.dim = req.dim;
  opt.repeats = req.repeats;
  opt.dense = req.dense;
  set_torch_threads(1);
  const bool text = req.format == "text";
  if (text)
    std::printf("%-26s %-26s %7s %4s %12s %10s %12s\n", "what", "path", "N", "D", "median ms", "min ms", "peak MiB");
  const auto rows = run_kernel_benchmarks(opt, [&](const BenchRow& r) {
    if (text) {
      std::printf("%-26s %-26s %7lld %4lld %12.3f %10.3f %12.2f\n", r.what.c_str(), r.path.c_str(),
                  static_cast<long long>(r.n), static_cast<long long>(r.d), r.ms_median, r.ms_min, r.peak_mib);
      std::fflush(stdout);
    }
  });
  if (!text) {
    json a = json::array();
    for (const auto& r : rows)
      a.push_back({{"what", r.what}, {"path", r.path}, {"n", r.n}, {"d", r.d}, {"ms_median", r.ms_median},
                   {"ms_min", r.ms_min}, {"peak_mib", r.peak_mib}, {"repeats", r.repeats}});
    std::cout << a.dump(2) << "\n";
  } else {
    std::printf("peak MiB: peak of live CPU tensor memory during one call (c10 allocator hook); 1 thread.\n");
  }
  return kOk;
}

int cmd_bench_train(const TrainBenchRequest& req) {
  TrainBenchOptions opt;
  auto split = [](const std::string& s) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, ',')) if (!item.empty()) out.push_back(item);
    return out;
  };
  opt.encoders = split(req.encoders);
  for (const auto& e : opt.encoders)
    if (e != "small-cnn" && e != "resnet18" && e != "resnet50")
      throw ConfigError("encoders", "unknown encoder '" + e + "' (accepted: small-cnn, resnet18, resnet50)");
  opt.methods = split(req.methods);
  for (const auto& m : opt.methods) find_method(m);
  if (req.steps < 1) throw ConfigError("steps", "must be at least 1");
  opt.steps = req.steps;
  opt.batch_small = req.batch_small;
  opt.batch_resnet = req.batch_resnet;
  opt.device = req.device;
  opt.fashion_mnist_dir = req.data_dir;
  std::printf("%-20s %-10s %-16s %6s %6s %12s %12s %12s\n", "input", "encoder", "method", "batch", "steps", "images/s",
              "step only", "step CPU");
  run_training_benchmarks(opt, [](const TrainBenchRow& r) {
    std::printf("%-20s %-10s %-16s %6d %6d %12.1f ", r.input.c_str(), r.encoder.c_str(), r.method.c_str(), r.batch, r.steps,
                r.images_per_s);
    if (r.step_images_per_s > 0)
      std::printf("%12.1f %12.1f\n", r.step_images_per_s, r.step_cpu_images_per_s);
    else
      std::printf("%12s %12s\n", "-", "-");
    std::fflush(stdout);
  });
  std::printf("images/s counts images per pass over the data, each seen as two augmented views (SDMI: both phases);\n"
              "step only: the same steps on two views made beforehand (compare bench/eager_image_simclr.py);\n"
              "step CPU: those steps' images per second of this process's CPU time (other load on the cores changes it less);\n"
              "(data pipeline): loading plus augmenting the two views alone, on the training device.\n");
  return kOk;
}

// `bench parallel`: the same run on one process (1 and 2 intra-op threads)
// and on N processes of one thread each, as a user starts it (`run`, this
// program again); images/s from the stored epoch times (training and the
// per-epoch evaluation), the first epoch left out when there are more.
int cmd_bench_parallel(const ParallelBenchRequest& req) {
  if (req.nproc < 2 || req.nproc > 64) throw ConfigError("nproc", "must be in [2, 64]");
  if (req.epochs < 1 || req.repeats < 1) throw ConfigError("epochs", "epochs and repeats must be at least 1");
  struct Case {
    std::string name;
    std::vector<std::string> args;
    std::int64_t samples_per_epoch;
  };
  std::vector<Case> cases;
  std::stringstream list(req.cases);
  for (std::string c; std::getline(list, c, ',');) {
    if (c == "fashion-mnist") {
      if (!std::filesystem::is_directory(req.data_dir))
        throw ConfigError("data_dir", "no Fashion-MNIST folder at " + req.data_dir + " (install dataset-fashion-mnist or pass --data-dir)");
      // The case of issue 17: 50 steps of 256 images, a 10 000-image kNN bank.
      cases.push_back({"fashion-mnist small-cnn simclr b256",
                       {"run", "--method", "simclr", "--dataset", "fashion-mnist", "--encoder", "small-cnn", "--epochs",
                        std::to_string(req.epochs), "--batch-size", "256", "--set", "train_subset=12800", "--set",
                        "probe_epochs=0", "--set", "val_subset=256", "--data-dir", req.data_dir},
                       12800});
    } else if (c == "gaussian") {
      cases.push_back({"gaussian simclr b500", {"run", "--method", "simclr", "--epochs", "100", "--batch-size", "500"}, 2500});
    } else if (!c.empty()) {
      throw ConfigError("cases", "unknown case '" + c + "' (accepted: fashion-mnist, gaussian)");
    }
  }
  const auto dir = std::filesystem::temp_directory_path() / ("ssrl-bench-parallel-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string db_path = (dir / "bench.db").string();
  struct Row {
    int procs, threads;
  };
  const std::vector<Row> rows = {{1, 1}, {1, 2}, {req.nproc, 1}};
  std::printf("%-36s %5s %7s %10s %10s %8s %8s %8s\n", "case", "procs", "threads", "epoch s", "samples/s", "speed-up", "wall s",
              "CPU s");
  int failures = 0;
  for (const auto& c : cases) {
    double base = 0;
    for (const auto& row : rows) {
      std::vector<double> epoch_s, wall_s, cpu_s;
      for (int rep = 0; rep < req.repeats; ++rep) {
        std::vector<std::string> args = {"--db", db_path, "-q"};
        args.insert(args.end(), c.args.begin(), c.args.end());
        args.insert(args.end(), {"--set", "threads=" + std::to_string(row.threads)});
        if (row.procs > 1) args.insert(args.end(), {"--nproc", std::to_string(row.procs)});
        const auto t0 = std::chrono::steady_clock::now();
        // The run's own summary would break the table: its stdout goes to /dev/null.
        std::fflush(stdout);
        const int saved = dup(STDOUT_FILENO), null = open("/dev/null", O_WRONLY);
        dup2(null, STDOUT_FILENO);
        const pid_t pid = spawn_self(args, {}, SIGKILL);
        dup2(saved, STDOUT_FILENO);
        close(saved);
        close(null);
        int status = 0;
        rusage usage{};
        wait4(pid, &status, 0, &usage);  // the run's CPU time with its other ranks (children it waited for)
        wall_s.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        cpu_s.push_back(static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                        1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec));
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
          std::fprintf(stderr, "bench parallel: %s on %d process(es) failed (exit status %d)\n", c.name.c_str(), row.procs,
                       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
          ++failures;
          continue;
        }
        storage::Database db(db_path, storage::Database::Mode::ReadOnly);
        const auto run = db.load_run(db.list_runs().back().id);
        const auto& ep = run->epochs;
        double sum = 0;
        const std::size_t from = ep.size() > 1 ? 1 : 0;
        for (std::size_t i = from; i < ep.size(); ++i) sum += ep[i].seconds;
        if (ep.size() > from) epoch_s.push_back(sum / static_cast<double>(ep.size() - from));
      }
      if (epoch_s.empty()) continue;
      std::sort(epoch_s.begin(), epoch_s.end());
      std::sort(wall_s.begin(), wall_s.end());
      std::sort(cpu_s.begin(), cpu_s.end());
      const double e = epoch_s[epoch_s.size() / 2], rate = static_cast<double>(c.samples_per_epoch) / e;
      if (row.procs == 1 && row.threads == 1) base = rate;
      std::printf("%-36s %5d %7d %10.3f %10.1f %7.2fx %8.1f %8.1f\n", c.name.c_str(), row.procs, row.threads, e, rate,
                  base > 0 ? rate / base : 0.0, wall_s[wall_s.size() / 2], cpu_s[cpu_s.size() / 2]);
      std::fflush(stdout);
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::printf("epoch s: training plus the per-epoch evaluation, mean over epochs after the first (median of %d run(s));\n"
              "speed-up against 1 process, 1 thread (the default); wall s: the whole command, start-up and data loading included;\n"
              "CPU s: that command's CPU time, all its processes (N processes doing no more work than one: about the same).\n"
              "Measure on a quiet machine: other load on the cores changes every number.\n",
              req.repeats);
  return failures == 0 ? kOk : kFailure;
}

}  // namespace ssrl::app
