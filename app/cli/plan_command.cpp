// plan: predicted peak memory (itemised) and step / epoch time of a `train` command before it runs, the
// configurations that fit a memory budget (--fit), and a calibration probe on this machine (--probe).
#include <torch/torch.h>

#include <cmath>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.h"
#include "data/training/run_plan.h"
#include "ml/device.h"
#include "ml/models/multilabel_model.h"
#include "ml/planning/resource_planner.h"
#include "ml/planning/step_probe.h"
#include "train_flags.h"

namespace mls::cli {

namespace {

std::string duration(double seconds) {
  if (!(seconds > 0)) return "-";
  std::ostringstream o;
  o.setf(std::ios::fixed);
  if (seconds < 1) o << std::setprecision(0) << seconds * 1000 << " ms";
  else if (seconds < 120) o << std::setprecision(seconds < 10 ? 2 : 1) << seconds << " s";
  else if (seconds < 7200) o << std::setprecision(1) << seconds / 60 << " min";
  else o << std::setprecision(1) << seconds / 3600 << " h";
  return o.str();
}

std::string precisionName(const PlanSettings& s) { return s.halfPrecision() ? s.amp_dtype + " mixed" : "fp32"; }

// The effective batch --fit aims at: the user's batch x accumulation, else the recipe's (the official Q2L
// COCO batch of 64 for the ResNet backbones, the resolved default otherwise).
int64_t targetBatch(const TrainRequest& r, bool batch_given) {
  if (batch_given) return static_cast<int64_t>(r.batch) * r.grad_accum;
  if ((r.method == Method::Q2L || r.method == Method::Hybrid) && r.backbone != "tiny" && r.backbone != "resnet18") return 64;
  return static_cast<int64_t>(r.batch) * r.grad_accum;
}

nlohmann::json memoryJson(const MemoryItems& m) {
  return {{"weights", m.weights},       {"gradients", m.gradients},
          {"optimizer_state", m.optimizer_state}, {"ema", m.ema},
          {"label_estimator", m.label_estimator}, {"activations", m.activations},
          {"transient", m.transient},   {"loader", m.loader},
          {"runtime", m.runtime}};
}

nlohmann::json settingsJson(const PlanSettings& s) {
  return {{"device", s.device},
          {"batch", s.batch},
          {"grad_accum", s.grad_accum},
          {"image_size", s.image_size},
          {"precision", s.halfPrecision() ? s.amp_dtype : "fp32"},
          {"checkpoint_backbone", s.checkpoint_backbone},
          {"channels_last", s.channels_last},
          {"ema", s.ema},
          {"train_images", s.train_images}};
}

nlohmann::json planJson(const ResourcePlan& p, int64_t budget) {
  nlohmann::json j = {{"settings", settingsJson(p.settings)},
                      {"memory", memoryJson(p.memory)},
                      {"peak_bytes", p.peak_bytes},
                      {"per_image_bytes", p.per_image_bytes},
                      {"time",
                       {{"forward_gflop", p.time.forward_gflop},
                        {"backward_gflop", p.time.backward_gflop},
                        {"step_seconds", p.time.step_seconds},
                        {"epoch_seconds", p.time.epoch_seconds},
                        {"gflops_per_second", p.time.gflops_per_second}}},
                      {"calibrated", p.calibrated},
                      {"notes", p.notes},
                      {"flags", trainFlagsFor(p.settings)}};
  if (budget > 0) {
    j["budget_bytes"] = budget;
    j["fits"] = p.peak_bytes <= budget;
  }
  return j;
}

void printPlan(const ResourcePlan& p, int64_t budget, const TrainRequest& r) {
  const auto& s = p.settings;
  const auto& m = p.memory;
  const bool cuda = s.onCuda();
  std::cout << "plan: " << methodName(r.method) << " " << r.backbone << " at " << s.image_size << " px, batch " << s.batch << " x "
            << s.grad_accum << " (effective " << s.batch * s.grad_accum << "), " << precisionName(s)
            << (s.checkpoint_backbone ? ", checkpointed backbone" : "") << (s.channels_last ? ", channels-last" : "")
            << (s.ema ? ", EMA" : "") << ", on " << s.device << (p.calibrated ? " (calibrated)" : " (uncalibrated)") << "\n";
  std::cout << "peak memory " << formatBytes(p.peak_bytes);
  if (budget > 0)
    std::cout << " of " << formatBytes(budget) << " (" << std::lround(100.0 * static_cast<double>(p.peak_bytes) / static_cast<double>(budget))
              << " %): " << (p.peak_bytes <= budget ? "fits" : "does NOT fit");
  std::cout << "\n";
  auto row = [](const std::string& name, int64_t bytes, const std::string& note = "") {
    if (bytes == 0 && note.empty()) return;
    std::cout << "  " << std::left << std::setw(28) << name << std::right << std::setw(12) << formatBytes(bytes)
              << (note.empty() ? "" : "  " + note) << "\n";
  };
  row("weights", m.weights);
  row("gradients", m.gradients);
  row("optimizer state (Adam)", m.optimizer_state);
  row("EMA copy", m.ema);
  row("label estimator (ROLE)", m.label_estimator);
  row("activations for backward", m.activations,
      std::to_string(s.batch) + " x " + formatBytes((m.activations) / std::max<int64_t>(1, s.batch)) + " per image");
  row("largest transient", m.transient);
  row(cuda ? "loader buffers (pinned host)" : "loader buffers", m.loader, cuda ? "not on the card" : "");
  row("CUDA context + allocator", m.runtime);
  std::cout << "step time " << duration(p.time.step_seconds) << " (" << std::fixed << std::setprecision(1)
            << p.time.forward_gflop << " GFLOP forward, " << p.time.backward_gflop << " backward, at "
            << std::setprecision(0) << p.time.gflops_per_second << " GFLOP/s)\n";
  if (p.time.epoch_seconds > 0)
    std::cout << "epoch time " << duration(p.time.epoch_seconds) << " (" << s.train_images << " training images, "
              << static_cast<int64_t>(std::ceil(static_cast<double>(s.train_images) / static_cast<double>(s.batch)))
              << " steps; validation not included)\n";
  for (const auto& n : p.notes) std::cout << "note: " << n << "\n";
}

void addPlan(CLI::App& app) {
  auto* cmd = app.add_subcommand("plan",
                                 "Predict a training run's peak memory (itemised) and step/epoch time before it starts; "
                                 "--fit lists the configurations that fit a memory budget");
  const TrainFlags flags = addTrainFlags(cmd);
  auto memory = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto fit = std::make_shared<bool>(false);
  auto probe = std::make_shared<bool>(false);
  auto target = std::make_shared<int64_t>(0);
  auto dataset = std::make_shared<PlanDataset>();
  cmd->add_option("--memory", *memory, "Memory budget, e.g. 12GiB (default: the device's memory)");
  cmd->add_flag("--json", *json, "One JSON object on stdout");
  cmd->add_flag("--fit", *fit, "List the configurations that fit the budget, cheapest time first, and the flags to use");
  cmd->add_option("--target-batch", *target, "Effective batch for --fit (default: the recipe's, 64 for Q2L ResNet-50/101)");
  cmd->add_flag("--probe", *probe, "Calibrate with a few real steps at small batches on this machine's device");
  cmd->add_option("--classes", dataset->num_classes, "Classes when planning without --project")->capture_default_str();
  cmd->add_option("--train-images", dataset->train_images, "Training images per epoch when planning without --project");
  auto* batch_option = cmd->get_option("--batch");
  cmd->callback([flags, memory, json, fit, probe, target, dataset, batch_option] {
    finishTrainFlags(flags);
    TrainRequest r = *flags.request;
    if (!r.resume.empty()) throw std::invalid_argument("plan takes the settings of a new run (--resume is not planned)");
    if (dataset->num_classes < 1) throw std::invalid_argument("--classes must be >= 1 (got " + std::to_string(dataset->num_classes) + ")");
    if (dataset->train_images < 0) throw std::invalid_argument("--train-images must be >= 0");
    r.resolveDefaults();
    r.checkLossChoice();
    const PlanDataset data = planDatasetFor(r, *dataset);
    const PlanSettings settings = planSettingsFor(r, data);
    int64_t budget = memory->empty() ? deviceMemoryBytes(settings.device) : parseMemorySize(*memory);
    if (*fit && budget <= 0)
      throw std::invalid_argument("--fit needs --memory: " + settings.device + " is not on this machine to ask its size");

    ResourcePlanner planner(planningModel(r, data.num_classes));
    Calibration calibration;
    if (*probe) {
      if (settings.onCuda() && !cudaAvailable())
        throw std::invalid_argument("--probe runs on the device planned for; " + settings.device +
                                    " is not available here (plan without --probe, or probe on the training machine)");
      ProbeRequest pr;
      pr.trainer = probeTrainerOptions(r, data.num_classes);
      pr.trainer.device = settings.device;
      pr.image_size = r.image_size;
      pr.num_classes = data.num_classes;
      pr.batches = probeBatches(planner, settings, settings.onCuda() ? 1e6 : 400.0);
      if (!*json) progressLine("probing " + describeDevice(settings.device) + " at batch " + std::to_string(pr.batches[0]) +
                                   " and " + std::to_string(pr.batches[1]) + " ...", true);
      const auto measured = probeSteps([&] { return planningModel(r, data.num_classes); }, pr);
      PlanSettings probed = settings;
      if (probed.label_estimator_elements > 0) probed.label_estimator_elements = 0;  // the probe's own is tiny
      calibration = calibrationFrom(planner, probed, measured, describeDevice(settings.device));
    }
    const Calibration* cal = calibration.valid ? &calibration : nullptr;
    const auto plan = planner.plan(settings, cal);

    nlohmann::json out;
    if (*json) out = planJson(plan, budget);
    else printPlan(plan, budget, r);

    if (*fit) {
      const int64_t goal = *target > 0 ? *target : targetBatch(r, batch_option->count() > 0);
      const auto result = planner.fit(settings, budget, goal, cal);
      if (*json) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& c : result.candidates) list.push_back(planJson(c.plan, budget));
        out["fit"] = {{"budget_bytes", budget},
                      {"target_batch", goal},
                      {"candidates", list},
                      {"largest_batch", result.largest_batch},
                      {"largest_batch_flags", result.largest_batch_flags}};
        if (!result.candidates.empty()) out["fit"]["flags"] = result.candidates.front().flags;
      } else {
        std::cout << "\nfit: effective batch " << goal << " within " << formatBytes(budget) << "\n";
        if (result.candidates.empty()) {
          std::cout << "  nothing reaches it\n";
        } else {
          std::cout << "  " << std::left << std::setw(72) << "flags" << std::right << std::setw(12) << "peak"
                    << std::setw(12) << (settings.train_images > 0 ? "epoch" : "step x accum") << "\n";
          for (const auto& c : result.candidates) {
            const double t = c.plan.time.epoch_seconds > 0 ? c.plan.time.epoch_seconds
                                                           : c.plan.time.step_seconds * static_cast<double>(c.settings.grad_accum);
            std::cout << "  " << std::left << std::setw(72) << c.flags << std::right << std::setw(12)
                      << formatBytes(c.plan.peak_bytes) << std::setw(12) << duration(t) << "\n";
          }
          std::cout << "use: " << result.candidates.front().flags << "\n";
        }
        if (result.largest_batch > 0)
          std::cout << "largest batch that fits: " << result.largest_batch << " (" << result.largest_batch_flags << ")\n";
        else
          std::cout << "not even batch 1 fits in " << formatBytes(budget) << "\n";
      }
      if (result.candidates.empty() && !*json)
        throw std::invalid_argument("no configuration reaches effective batch " + std::to_string(goal) + " within " +
                                    formatBytes(budget));
    }
    if (*json) std::cout << out.dump() << std::endl;
  });
}

}  // namespace

void registerPlanCommand(CLI::App& app) { addPlan(app); }

}  // namespace mls::cli
