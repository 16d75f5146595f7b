#pragma once
// Plain structs that carry training results across layers (core -> storage,
// ui, viz). No torch here.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace ssrl {

// Free text the user types (run names, tags) is capped: the database keeps
// it, every table prints it.
inline constexpr std::size_t kMaxRunNameLength = 200;
inline constexpr std::size_t kMaxTagLength = 200;

struct Vec3 {
  double x = 0, y = 0, z = 0;
};

// Lower-bound MI estimates; empty where undefined (SimSiam's first epoch).
struct MiEstimates {
  std::optional<double> cos_dv;
  std::optional<double> infonce;
  std::optional<double> jsd;
};

struct EncoderCentres {
  std::string encoder;        // "f", "g"
  std::vector<Vec3> centres;  // one unit vector per cluster
};

// Collapse indicators of one encoder at both levels, on the validation
// subset: the projection (L2-normalised embedding, as embedding_std and
// effective_rank) and the backbone features (the linear probe's input; the
// SD is taken of their L2 normalisation, the rank of the raw features).
struct EncoderCollapse {
  std::string encoder;  // "f", "g"
  double proj_std = 0, proj_rank = 0;
  double feat_std = 0, feat_rank = 0;
  std::optional<double> out_scale_norm;  // L2 norm of an affine output BN's scale vector
};

struct EpochRecord {
  int epoch = 0;  // 1-based
  double loss = 0;
  std::optional<double> loss_e;  // SDMI: E-phase (f) mean loss
  std::optional<double> loss_m;  // SDMI: M-phase (g) mean loss
  MiEstimates mi;
  double embedding_std = 0;   // mean per-dimension SD of L2-normalised embeddings
  double effective_rank = 0;  // RankMe
  double lr = 0;
  double seconds = 0;  // wall time of this epoch, evaluation included
  std::vector<EncoderCentres> centres;      // Gaussian experiment
  std::optional<double> knn_top1_k20;       // image data: kNN monitor on the validation subset
  std::optional<double> knn_top1_k200;
  std::vector<EncoderCollapse> collapse;    // per encoder, both levels
};

// Nearest-neighbour angles between cluster centres, in degrees.
struct SeparationStats {
  double mean = 0, min = 0, max = 0, sd = 0;  // sd: population SD over the centres
};

struct EncoderFinal {
  std::string encoder;
  SeparationStats separation;
  std::vector<Vec3> centres;
};

enum class RunStatus { Queued, Running, Finished, Failed, Interrupted, Diverged };
const char* status_name(RunStatus s);
RunStatus status_from_name(const std::string& s);  // throws std::invalid_argument

struct RunStart {
  std::string device;  // "cpu", "cuda:0"
  std::vector<std::string> encoders;
  int epochs = 0;
  int first_epoch = 1;  // > 1 when resuming
};

// Linear-probe accuracy of one encoder's frozen backbone features.
struct ProbeResult {
  std::string encoder;
  double top1 = 0;       // fraction in [0, 1] on the test split
  int epochs = 0;
  std::int64_t train_size = 0, test_size = 0;
  bool standardised = true;  // per-feature standardisation before the probe
};

struct RunOutcome {
  RunStatus status = RunStatus::Finished;
  std::string message;
  int epochs_done = 0;
  std::vector<EncoderFinal> finals;  // Gaussian experiment
  std::vector<ProbeResult> probes;   // image data
  std::string checkpoint;            // the last checkpoint written, if any
};

// The best achievable minimum angle (degrees) between k points on the unit
// sphere in R^3 (the Tammes problem), known for k = 2..12; empty otherwise.
// Five points: 90° (a triangular bipyramid), the reference of docs/science.md §5.
std::optional<double> tammes_optimum_deg(int k);

// For each centre, the angle (degrees) to its nearest other centre; then
// mean, min, max and population SD of those angles.
SeparationStats separation_stats(const std::vector<Vec3>& unit_centres);

}  // namespace ssrl
