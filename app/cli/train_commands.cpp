// Training subcommands: train, eval, predict.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <functional>
#include <iomanip>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>
#include <unordered_map>

#include "commands.h"
#include "csv_matrix.h"
#include "dist_launch.h"
#include "train_flags.h"
#include "data/render/attention_overlay.h"
#include "data/store/project_store.h"
#include "data/training/run_model.h"
#include "data/training/training_session.h"
#include "ml/loss_kind.h"
#include "ml/metrics.h"
#include "ml/training/replica_group.h"
#ifdef MLS_WITH_DISTRIBUTED
#include "ml/distributed/launch_env.h"
#include "ml/distributed/replicas.h"
#endif

namespace mls::cli {

namespace {

// Ctrl-C requests the training run's token directly (a lock-free atomic store); the trainer stops after the
// current batch. Further Ctrl-Cs only request it again.
CancelToken g_interrupt;
extern "C" void onInterrupt(int) {
  g_interrupt.request();
  static const char kNote[] = "\ninterrupted: stopping after this batch\n";
  const ssize_t written = write(STDERR_FILENO, kNote, sizeof kNote - 1);  // async-signal-safe, unlike iostreams
  (void)written;
}

std::string formatEta(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const int s = static_cast<int>(seconds);
  std::ostringstream o;
  if (s >= 3600) o << s / 3600 << "h";
  o << std::setw(s >= 3600 ? 2 : 1) << std::setfill('0') << (s % 3600) / 60 << "m" << std::setw(2) << s % 60 << "s";
  return o.str();
}

double jsonNumber(double v) { return std::isfinite(v) ? std::round(v * 1e4) / 1e4 : -1.0; }

// Prints progress lines on stderr: throttled step lines, one line per epoch.
class ProgressPrinter : public TrainObserver {
 public:
  void onStep(const StepInfo& s) override {
    last_loss_ = s.loss;
    phase_sum_.data += s.phases.data;
    phase_sum_.transfer += s.phases.transfer;
    phase_sum_.forward += s.phases.forward;
    phase_sum_.backward += s.phases.backward;
    phase_sum_.optimizer += s.phases.optimizer;
    ++phase_steps_;
  }
  void onProgress(const ProgressInfo& p) override {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_print_ < std::chrono::milliseconds(500) && p.step != p.steps_per_epoch) return;
    last_print_ = now;
    std::ostringstream o;
    o << "epoch " << p.epoch << "/" << p.epochs << "  step " << p.step << "/" << p.steps_per_epoch << "  loss "
      << std::setprecision(4) << last_loss_ << "  " << std::fixed << std::setprecision(1) << 100.0 * p.fraction
      << "%  ETA " << formatEta(p.eta_seconds);
    progressLine(o.str());
  }
  void onEpoch(const EpochInfo& e) override {
    std::ostringstream o;
    o << std::fixed << std::setprecision(2) << "epoch " << e.epoch << ": train loss " << e.train_loss;
    if (std::isfinite(e.val_map)) o << ", val mAP " << e.val_map;
    if (std::isfinite(e.val_map_ema)) o << " (raw " << e.val_map_raw << ", EMA " << e.val_map_ema << ")";
    o << ", " << e.seconds << " s" << (e.improved ? "  *" : "");
    progressLine(o.str(), true);
    printPhases();
  }
  void onMessage(MessageLevel level, const std::string& text) override {
    progressLine(std::string(level == MessageLevel::Error ? "error: " : level == MessageLevel::Warning ? "warning: " : "") + text,
                 true);
  }

 private:
  // --profile: mean milliseconds per step phase over the epoch (all zero without it: nothing printed).
  void printPhases() {
    const auto& p = phase_sum_;
    const double total = p.data + p.transfer + p.forward + p.backward + p.optimizer;
    if (total > 0 && phase_steps_ > 0) {
      const double ms = 1000.0 / static_cast<double>(phase_steps_);
      std::ostringstream o;
      o << std::fixed << std::setprecision(1) << "  step phases (mean ms): data " << p.data * ms << ", transfer "
        << p.transfer * ms << ", forward+loss " << p.forward * ms << ", backward " << p.backward * ms << ", optimizer "
        << p.optimizer * ms;
      progressLine(o.str(), true);
    }
    phase_sum_ = {};
    phase_steps_ = 0;
  }

  double last_loss_ = 0;
  std::chrono::steady_clock::time_point last_print_{};
  StepInfo::Phases phase_sum_;
  int64_t phase_steps_ = 0;
};

// Ranks > 0 of a data-parallel run: their warnings and errors only (rank 0 reports the run), each line
// prefixed with the rank unless our launcher, which prefixes their lines itself, started them.
class RankPrinter : public TrainObserver {
 public:
  explicit RankPrinter(int rank) : prefix_(std::getenv(kLaunchedByVariable) ? "" : "rank " + std::to_string(rank) + ": ") {}
  void onMessage(MessageLevel level, const std::string& text) override {
    if (level == MessageLevel::Info) return;
    progressLine(prefix_ + (level == MessageLevel::Error ? "error: " : "warning: ") + text, true);
  }

 private:
  std::string prefix_;
};

// A worker of a data-parallel run (started by our launcher, torchrun or srun): its place in the run from the
// environment, connected to the others. Null for a single process.
std::shared_ptr<ReplicaGroup> joinReplicas(const DistributedFlags& d, TrainRequest& r) {
#ifdef MLS_WITH_DISTRIBUTED
  dist::LaunchFlags launch;
  if (d.timeout_option->count() > 0) launch.timeout_seconds = d.timeout_seconds;
  const dist::LaunchConfig config = dist::resolveLaunch(launch);
  if (!config.distributed()) return nullptr;
  // One GPU per local rank, as torchrun's LOCAL_RANK means (an explicit cuda:N stays as asked).
  if (r.device == "cuda" || (r.device == "auto" && torch::cuda::is_available()))
    r.device = "cuda:" + std::to_string(config.local_rank);
  return dist::connectReplicas(config);
#else
  (void)d;
  (void)r;
  const char* world = std::getenv("WORLD_SIZE");
  if ((world && std::atoi(world) > 1) || (std::getenv("SLURM_NTASKS") && std::atoi(std::getenv("SLURM_NTASKS")) > 1))
    throw std::runtime_error("this build has no data-parallel training (built without c10d's Gloo headers), but the "
                             "environment describes several processes (WORLD_SIZE / SLURM_NTASKS)");
  return nullptr;
#endif
}

void addTrain(CLI::App& app, std::vector<std::string> argv) {
  auto* cmd = app.add_subcommand("train", "Train a Query2Label, single-positive (MLSPL) or hybrid model on a project");
  const TrainFlags flags = addTrainFlags(cmd);
  flags.project->required();
  const auto dist_flags = addDistributedFlags(cmd);
  const auto r = flags.request;
  cmd->callback([flags, r, dist_flags, argv] {
    finishTrainFlags(flags);  // before a run is created or resumed
    const DistributedFlags& d = *dist_flags;
    if (d.launcher()) {
#ifdef MLS_WITH_DISTRIBUTED
      // The workers would refuse it too (the session's check, which also covers defaults and resumes), but
      // only after starting up: say it at once.
      const int world = d.nproc_per_node * d.nnodes;
      if (r->batch > 0 && r->resume.empty() && r->batch % world != 0)
        throw std::invalid_argument("--batch " + std::to_string(r->batch) + " is the global batch of " +
                                    std::to_string(world) + " processes and must be a multiple of " + std::to_string(world));
      launchWorkers(d, argv);
      return;
#else
      throw std::runtime_error("this build has no data-parallel training (built without c10d's Gloo headers)");
#endif
    }
    for (const auto* o : {d.node_rank_option, d.master_addr_option, d.master_port_option})
      if (o->count() > 0)
        throw std::invalid_argument(o->get_name() + " is a launcher flag: give it with --nproc-per-node > 1 or --nnodes > 1 "
                                    "(torchrun and srun set MASTER_ADDR / MASTER_PORT for their workers)");
    std::shared_ptr<ReplicaGroup> replicas = joinReplicas(d, *r);
    const int rank = replicas ? replicas->rank() : 0;
    ProgressPrinter printer;
    RankPrinter rank_printer(rank);
    // Ctrl-C: finish the current batch, keep the last checkpoint, mark the run cancelled. A data-parallel
    // worker does the same on SIGTERM (what torchrun, the launcher and SLURM send to stop it).
    std::signal(SIGINT, onInterrupt);
    if (replicas) {
      std::signal(SIGTERM, onInterrupt);
      // A launcher killed outright leaves the workers' stderr pipes without a reader (its SIGTERM to them
      // still arrives): a failed write must not end the rank before it has stopped with the others.
      std::signal(SIGPIPE, SIG_IGN);
    }
    TrainOutcome out;
    try {
      out = TrainingSession(*r, rank == 0 ? static_cast<TrainObserver*>(&printer) : &rank_printer, g_interrupt, replicas)
                .run();
    } catch (const std::exception& e) {
      // Under torchrun or srun every rank's error reaches the same terminal: say whose it is.
      if (rank > 0 && !std::getenv(kLaunchedByVariable))
        throw std::runtime_error("rank " + std::to_string(rank) + ": " + e.what());
      throw;
    }
    if (rank > 0) return;  // rank 0 prints the result
    nlohmann::json j = {{"run", out.run_id},
                        {"epochs", out.epochs},
                        {"best_val_map", jsonNumber(out.best_val_map)},
                        {"final_val_map", jsonNumber(out.final_val_map)},
                        {"seconds", std::round(out.seconds * 10) / 10}};
    if (out.cancelled) j["cancelled"] = true;
    if (out.skipped_images) j["skipped_images"] = out.skipped_images;
    std::cout << j.dump() << std::endl;
  });
}

nlohmann::json metricsJson(const MultiLabelMetrics& m) {
  // "map" stays scikit-learn's; the papers' conventions sit next to it (ml/metrics_conventions.h).
  return {{"map", jsonNumber(m.map)}, {"map_mlspl", jsonNumber(m.map_mlspl)}, {"map_q2l_voc", jsonNumber(m.map_q2l_voc)},
          {"cp", jsonNumber(m.cp)},   {"cr", jsonNumber(m.cr)},
          {"cf1", jsonNumber(m.cf1)}, {"op", jsonNumber(m.op)},   {"or", jsonNumber(m.or_)},
          {"of1", jsonNumber(m.of1)}, {"classes_evaluated", m.classes_evaluated},
          {"classes_skipped", m.classes_skipped}};
}

void printMetrics(const MultiLabelMetrics& m, bool json) {
  if (json) {
    std::cout << metricsJson(m).dump() << std::endl;
    return;
  }
  std::cout << std::fixed << std::setprecision(2) << "mAP " << m.map << " over " << m.classes_evaluated << " classes ("
            << m.classes_skipped << " without positives skipped)\n"
            << "mAP by convention: scikit-learn " << m.map << "  MLSPL " << m.map_mlspl << "  Q2L-VOC " << m.map_q2l_voc
            << "\n"
            << "CP " << m.cp << "  CR " << m.cr << "  CF1 " << m.cf1 << "  OP " << m.op << "  OR " << m.or_ << "  OF1 "
            << m.of1 << "\n"
            << "top-3: CP " << m.cp3 << "  CR " << m.cr3 << "  CF1 " << m.cf13 << "  OP " << m.op3 << "  OR " << m.or3
            << "  OF1 " << m.of13 << std::endl;
}

MultiLabelMetrics evalCsv(const std::string& scores_path, const std::string& labels_path) {
  const auto scores = readCsvMatrix(scores_path);
  const auto labels = readCsvMatrix(labels_path);
  if (scores.classes != labels.classes) throw std::invalid_argument("--scores and --labels have different class columns");
  if (scores.image_ids.size() != labels.image_ids.size())
    throw std::invalid_argument("--scores has " + std::to_string(scores.image_ids.size()) + " rows, --labels " +
                                std::to_string(labels.image_ids.size()));
  const size_t k = scores.classes.size();
  std::unordered_map<std::string, size_t> label_row;
  for (size_t i = 0; i < labels.image_ids.size(); ++i) label_row[labels.image_ids[i]] = i;
  std::vector<float> s;
  std::vector<uint8_t> y;
  for (size_t i = 0; i < scores.image_ids.size(); ++i) {
    auto it = label_row.find(scores.image_ids[i]);
    if (it == label_row.end()) throw std::invalid_argument("image_id '" + scores.image_ids[i] + "' has no labels row");
    for (size_t c = 0; c < k; ++c) {
      s.push_back(static_cast<float>(scores.values[i * k + c]));
      const double v = labels.values[it->second * k + c];
      if (v != 0.0 && v != 1.0) throw std::invalid_argument("labels must be 0 or 1 (image " + scores.image_ids[i] + ")");
      y.push_back(v == 1.0 ? 1 : 0);
    }
  }
  return evaluateMultiLabel(s, y, scores.image_ids.size(), k);
}

void addEval(CLI::App& app) {
  auto* cmd = app.add_subcommand("eval", "Evaluate a run on a split, or score CSV files (mAP, CP/CR/CF1, OP/OR/OF1)");
  struct Args {
    std::string project, run, split = "val", scores, labels, device = "auto";
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  auto* project = cmd->add_option("--project", a->project, "Project file");
  auto* run = cmd->add_option("--run", a->run, "Run id or name");
  cmd->add_option("--split", a->split, alternatives(splitNames()))->check(CLI::IsMember(splitNames()))->capture_default_str();
  auto* scores = cmd->add_option("--scores", a->scores, "CSV image_id,<classes...> with scores");
  auto* labels = cmd->add_option("--labels", a->labels, "CSV image_id,<classes...> with 0/1 labels");
  cmd->add_option("--device", a->device, "auto | cpu | cuda")->capture_default_str();
  cmd->add_flag("--json", a->json, "Print one JSON object");
  project->needs(run);
  run->needs(project);
  scores->needs(labels);
  labels->needs(scores);
  project->excludes(scores);
  cmd->callback([a] {
    if (!a->scores.empty()) {
      printMetrics(evalCsv(a->scores, a->labels), a->json);
      return;
    }
    if (a->project.empty()) throw std::invalid_argument("give --project and --run, or --scores and --labels");
    ProjectStore store(a->project, ProjectStore::Open::ReadOnly);  // eval/predict only read
    RunModel model(store, resolveRunId(store, a->run), a->device);
    printMetrics(model.evaluate(store, parseSplit(a->split)), a->json);
  });
}

void addPredict(CLI::App& app) {
  auto* cmd = app.add_subcommand("predict", "Per-class scores for one image; optionally its attention heat map");
  struct Args {
    std::string project, run, image, attention, label, device = "auto";
    int head = -1;
    double opacity = 0.5;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("--project", a->project, "Project file")->required();
  cmd->add_option("--run", a->run, "Run id or name")->required();
  cmd->add_option("--image", a->image, "Image file")->required();
  auto* att = cmd->add_option("--attention", a->attention, "Write the label's attention overlay to this PNG");
  auto* label = cmd->add_option("--label", a->label, "Class name for --attention");
  cmd->add_option("--head", a->head, "Attention head (default: mean over heads)");
  cmd->add_option("--opacity", a->opacity, "Heat-map opacity 0..1")->capture_default_str();
  cmd->add_option("--device", a->device, "auto | cpu | cuda")->capture_default_str();
  att->needs(label);
  cmd->callback([a] {
    ProjectStore store(a->project, ProjectStore::Open::ReadOnly);  // eval/predict only read
    RunModel model(store, resolveRunId(store, a->run), a->device);
    const auto& cats = model.categories();
    int label_idx = -1;
    if (!a->attention.empty()) {
      for (const auto& c : cats)
        if (c.name == a->label) label_idx = c.idx;
      if (label_idx < 0) throw std::invalid_argument("unknown label '" + a->label + "'");
      if (!model.hasAttention())
        throw std::invalid_argument("this run is an MLSPL classifier (no transformer decoder), so it has no attention maps");
    }
    const auto pred = model.predict(a->image, !a->attention.empty());
    nlohmann::json scores = nlohmann::json::object();
    for (const auto& c : cats) scores[c.name] = std::round(pred.scores[static_cast<size_t>(c.idx)] * 1e6) / 1e6;
    nlohmann::json j = {{"image", a->image}, {"scores", scores}};
    if (!a->attention.empty()) {
      const auto overlay = renderAttentionOverlay(pred.image_rgb, attentionMap(pred.attention, label_idx, a->head), a->opacity);
      cv::Mat bgr;
      cv::cvtColor(overlay, bgr, cv::COLOR_RGB2BGR);
      if (!cv::imwrite(a->attention, bgr)) throw std::invalid_argument("cannot write '" + a->attention + "'");
      j["attention"] = a->attention;
    }
    std::cout << j.dump() << std::endl;
  });
}

}  // namespace

void registerTrainCommands(CLI::App& app, int argc, char** argv) {
  addTrain(app, std::vector<std::string>(argv, argv + argc));
  addEval(app);
  addPredict(app);
}

}  // namespace mls::cli
