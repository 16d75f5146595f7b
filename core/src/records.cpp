#include "ssrl/records.hpp"
#include "ssrl/text.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <stdexcept>

namespace ssrl {

bool valid_utf8(const std::string& text) {
  std::size_t i = 0;
  const std::size_t n = text.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(text[i]);
    int more = 0;
    unsigned min = 0;
    unsigned cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      more = 1, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      more = 2, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      more = 3, cp = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (i + static_cast<std::size_t>(more) >= n) return false;  // cut short
    for (int k = 1; k <= more; ++k) {
      const auto d = static_cast<unsigned char>(text[i + static_cast<std::size_t>(k)]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += static_cast<std::size_t>(more) + 1;
  }
  return true;
}

const char* status_name(RunStatus s) {
  switch (s) {
    case RunStatus::Queued: return "queued";
    case RunStatus::Running: return "running";
    case RunStatus::Finished: return "finished";
    case RunStatus::Failed: return "failed";
    case RunStatus::Interrupted: return "interrupted";
    case RunStatus::Diverged: return "diverged";
  }
  return "unknown";
}

RunStatus status_from_name(const std::string& s) {
  for (auto st : {RunStatus::Queued, RunStatus::Running, RunStatus::Finished, RunStatus::Failed,
                  RunStatus::Interrupted, RunStatus::Diverged})
    if (s == status_name(st)) return st;
  throw std::invalid_argument("unknown run status '" + s + "'");
}

SeparationStats separation_stats(const std::vector<Vec3>& c) {
  SeparationStats out;
  const std::size_t k = c.size();
  if (k < 2) return out;
  std::vector<double> nearest(k, std::numeric_limits<double>::infinity());
  for (std::size_t i = 0; i < k; ++i) {
    for (std::size_t j = 0; j < k; ++j) {
      if (i == j) continue;
      const double dot = c[i].x * c[j].x + c[i].y * c[j].y + c[i].z * c[j].z;
      const double angle = std::acos(std::clamp(dot, -1.0, 1.0)) * 180.0 / M_PI;
      nearest[i] = std::min(nearest[i], angle);
    }
  }
  double sum = 0;
  out.min = nearest[0];
  out.max = nearest[0];
  for (double a : nearest) {
    sum += a;
    out.min = std::min(out.min, a);
    out.max = std::max(out.max, a);
  }
  out.mean = sum / static_cast<double>(k);
  double ss = 0;
  for (double a : nearest) ss += (a - out.mean) * (a - out.mean);
  out.sd = std::sqrt(ss / static_cast<double>(k));
  return out;
}

std::optional<double> tammes_optimum_deg(int k) {
  static const std::map<int, double> known = {
      {2, 180.0},     {3, 120.0},     {4, 109.4712206}, {5, 90.0},      {6, 90.0},      {7, 77.8695421},
      {8, 74.8584922}, {9, 70.5287794}, {10, 66.1468220}, {11, 63.4349488}, {12, 63.4349488}};
  const auto it = known.find(k);
  if (it == known.end()) return std::nullopt;
  return it->second;
}

}  // namespace ssrl
