#include "progress.hpp"

#include <unistd.h>

#include <cinttypes>
#include <cmath>

namespace ssrl::app {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<long long>(std::llround(seconds));
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, (s / 60) % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
  return buf;
}

std::string separation_text(const SeparationStats& s, int clusters) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "nearest-neighbour angle mean %.1f°, min %.1f°, max %.1f°, SD %.1f°", s.mean, s.min, s.max, s.sd);
  std::string out = buf;
  if (const auto opt = tammes_optimum_deg(clusters)) {
    std::snprintf(buf, sizeof buf, " (optimum min %.0f° for %d points)", *opt, clusters);
    out += buf;
  }
  return out;
}

bool stderr_is_tty() { return isatty(fileno(stderr)) != 0; }

RunProgress::RunProgress(std::string label, int epochs, bool tty, bool quiet)
    : label_(std::move(label)), epochs_(epochs), tty_(tty), quiet_(quiet), every_(std::max(1, epochs / 10)) {}

void RunProgress::on_start(const RunStart& start) {
  t0_ = std::chrono::steady_clock::now();
  if (!quiet_) std::fprintf(stderr, "%s: training on %s, %d epochs\n", label_.c_str(), start.device.c_str(), epochs_);
}

void RunProgress::on_epoch(const EpochRecord& r) {
  if (quiet_) return;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  const double eta = elapsed / r.epoch * (epochs_ - r.epoch);
  char mi[48] = "n/a";
  if (r.mi.cos_dv) std::snprintf(mi, sizeof mi, "%.4f", *r.mi.cos_dv);
  char line[256];
  std::snprintf(line, sizeof line, "epoch %d/%d  loss %.4f  MI(cos-DV) %s  emb-SD %.3f  %s elapsed  ETA %s",
                r.epoch, epochs_, r.loss, mi, r.embedding_std, format_duration(elapsed).c_str(),
                format_duration(eta).c_str());
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s", line);
    std::fflush(stderr);
  } else if (r.epoch % every_ == 0 || r.epoch == epochs_ || r.epoch == 1) {
    std::fprintf(stderr, "%s\n", line);
  }
}

void RunProgress::on_finish(const RunOutcome&) {
  if (tty_ && !quiet_) std::fprintf(stderr, "\n");
}

BatchProgress::BatchProgress(int total_runs, bool tty, bool quiet)
    : total_(total_runs), tty_(tty), quiet_(quiet), t0_(std::chrono::steady_clock::now()) {}

void BatchProgress::started(int slot, const std::string& label, int epochs) {
  std::lock_guard<std::mutex> lock(mu_);
  if (static_cast<int>(slots_.size()) <= slot) slots_.resize(slot + 1);
  slots_[slot] = {label, 0, epochs, true};
  redraw_locked();
}

void BatchProgress::epoch(int slot, int epoch) {
  std::lock_guard<std::mutex> lock(mu_);
  slots_[slot].epoch = epoch;
  epochs_total_done_ += 1;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ > std::chrono::milliseconds(200)) redraw_locked();
}

void BatchProgress::finished(int slot, const std::string& line) {
  std::lock_guard<std::mutex> lock(mu_);
  slots_[slot].active = false;
  ++done_;
  if (!quiet_) {
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
    if (tty_) std::fprintf(stderr, "\r\033[K");
    std::fprintf(stderr, "[%d/%d %s] %s\n", done_, total_, format_duration(elapsed).c_str(), line.c_str());
  }
  redraw_locked();
}

void BatchProgress::redraw_locked() {
  last_draw_ = std::chrono::steady_clock::now();
  if (!tty_ || quiet_) return;
  const double elapsed = std::chrono::duration<double>(last_draw_ - t0_).count();
  std::string line = std::to_string(done_) + "/" + std::to_string(total_) + " runs done";
  double partial = 0;
  for (const auto& s : slots_) {
    if (!s.active) continue;
    line += " | " + s.label + " " + std::to_string(s.epoch) + "/" + std::to_string(s.epochs);
    if (s.epochs > 0) partial += static_cast<double>(s.epoch) / s.epochs;
  }
  const double progress = done_ + partial;
  if (progress > 0.05) line += " | ETA " + format_duration(elapsed / progress * (total_ - progress));
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
}

}  // namespace ssrl::app
