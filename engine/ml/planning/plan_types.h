// What the resource planner predicts for one training configuration: peak memory, itemised, and step /
// epoch time. Plain C++ (no LibTorch headers) so the CLI and the GUI can include it cheaply.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace mls {

// One training configuration as the planner sees it (the trainer's memory- and time-relevant settings).
struct PlanSettings {
  std::string device = "cpu";   // "cpu" | "cuda" | "cuda:N" (planning for CUDA needs no GPU)
  int64_t batch = 16;
  int64_t grad_accum = 1;
  int64_t image_size = 448;
  bool amp = false;             // mixed precision (CUDA only: the trainer runs float32 on the CPU)
  std::string amp_dtype = "fp16";
  bool checkpoint_backbone = false;
  bool channels_last = false;
  bool ema = false;             // EMA copy of the weights
  std::string optimizer = "adamw";  // adam | adamw
  double weight_decay = 1e-2;
  int64_t train_images = 0;     // one epoch's samples (0: no epoch time)
  int64_t label_estimator_elements = 0;  // ROLE: the estimator's N x K logits train with the model
  int loader_prefetch = 4;      // batches the image loader keeps ready (ImageBatchSource's default)

  bool onCuda() const { return device.rfind("cuda", 0) == 0; }
  // Mixed precision really happens only on CUDA.
  bool halfPrecision() const { return amp && onCuda(); }
};

// Peak memory of a training step, itemised (bytes).
struct MemoryItems {
  int64_t weights = 0;          // parameters + buffers
  int64_t gradients = 0;        // of the trainable parameters
  int64_t optimizer_state = 0;  // Adam: exp_avg + exp_avg_sq
  int64_t ema = 0;              // averaged copy of parameters and float buffers
  int64_t label_estimator = 0;  // ROLE: logits, gradient and Adam state
  int64_t activations = 0;      // kept for backward at the end of the forward pass (batch included)
  int64_t transient = 0;        // largest short-lived allocation on top (backward buffers, recomputed
                                // checkpoint segment, optimizer temporaries, cuDNN workspace)
  int64_t loader = 0;           // prefetched batches (pinned host memory with CUDA: not on the card)
  int64_t runtime = 0;          // CUDA context and allocator slack (outside what tensors use)
  // What must fit in the device's memory (the loader's buffers count only on the CPU).
  int64_t devicePeak(bool on_cuda) const;
};

struct TimeEstimate {
  double forward_gflop = 0;     // per step (one batch)
  double backward_gflop = 0;    // includes the recomputation of checkpointed segments
  double step_seconds = 0;      // one batch: forward + backward (+ the optimizer every grad_accum batches)
  double epoch_seconds = 0;     // 0 when the number of training images is unknown
  double gflops_per_second = 0; // throughput assumed (calibrated or the default for the device)
  // Parts of step_seconds (uncalibrated: the model's terms; calibrated: compute holds the probe's measured
  // throughput, overhead its fixed per-step time).
  double compute_seconds = 0;   // FLOPs / throughput
  double elementwise_seconds = 0;  // element-wise kernels' memory traffic / bandwidth
  double overhead_seconds = 0;  // per-kernel cost
  double optimizer_seconds = 0; // optimizer (+ EMA) update, per batch (divided by grad_accum)
};

// From one short probe on the real device (step_probe.h): how the prediction was corrected.
struct Calibration {
  bool valid = false;
  std::string device;           // where it was measured
  double activation_scale = 1;  // measured / predicted per-image memory (activations + transient)
  int64_t fixed_offset = 0;     // measured - predicted batch-independent memory (bytes, may be negative)
  double gflops_per_second = 0; // measured throughput on this configuration's layers
  double fixed_seconds = 0;     // measured per-step cost that does not grow with the batch
  std::string summary;          // one line for the output
};

struct ResourcePlan {
  PlanSettings settings;
  MemoryItems memory;
  int64_t peak_bytes = 0;       // memory.devicePeak()
  int64_t per_image_bytes = 0;  // what one more image in the batch adds (activations + transient)
  TimeEstimate time;
  bool calibrated = false;
  std::vector<std::string> notes;  // assumptions and uncalibrated parts, for the output
};

// One configuration that reaches an effective batch (batch x grad_accum) within a memory budget.
struct FitCandidate {
  PlanSettings settings;
  ResourcePlan plan;
  std::string flags;            // the train flags that select it ("--batch 16 --grad-accum 4 --amp ...")
};

struct FitResult {
  int64_t budget_bytes = 0;
  int64_t target_batch = 0;
  std::vector<FitCandidate> candidates;  // the ones that fit, cheapest epoch (then step) time first
  int64_t largest_batch = 0;             // the largest batch that fits with the best option set
  std::string largest_batch_flags;
};

std::string formatBytes(int64_t bytes);  // "1.25 GiB", "340 MiB"
// "12GiB", "12 GB", "800MiB", "12" (GiB) -> bytes. Throws std::invalid_argument with the rule.
int64_t parseMemorySize(const std::string& text);

}  // namespace mls
