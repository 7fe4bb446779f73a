// The `train` flags, shared by `train` and `plan`.
#include "train_flags.h"

#include "commands.h"
#include "ml/loss_kind.h"

namespace mls::cli {

TrainFlags addTrainFlags(CLI::App* cmd) {
  TrainFlags f;
  f.request = std::make_shared<TrainRequest>();
  auto r = f.request;
  f.method = std::make_shared<std::string>(methodName(r->method));
  f.project = cmd->add_option("--project", r->project, "Project file");
  cmd->add_option("--method", *f.method, alternatives(methodNames()))->check(CLI::IsMember(methodNames()))->capture_default_str();
  cmd->add_option("--loss", r->loss, alternatives(lossNames()))->check(CLI::IsMember(lossNames()))->capture_default_str();
  cmd->add_option("--labels", r->labels, "full | single")->check(CLI::IsMember({"full", "single"}))->capture_default_str();
  cmd->add_option("--backbone", r->backbone, "tiny | resnet18 | resnet50 | resnet101 | torchscript:PATH")->capture_default_str();
  cmd->add_option("--weights", r->weights, "Backbone (torchvision names) or whole-model weights file");
  auto* image_size = cmd->add_option("--image-size", r->image_size, "Input side (default: 64 tiny, 448 otherwise)");
  auto* batch = cmd->add_option("--batch", r->batch, "Batch size");
  auto* epochs = cmd->add_option("--epochs", r->epochs, "Epochs");
  auto* lr = cmd->add_option("--lr", r->lr, "Learning rate (peak for OneCycle)");
  cmd->add_option("--device", r->device, "auto | cpu | cuda | cuda:N")->capture_default_str();
  cmd->add_flag("--amp", r->amp, "Mixed precision (CUDA)");
  f.amp_dtype = cmd->add_option("--amp-dtype", r->amp_dtype, "fp16 (with loss scaling) | bf16; implies --amp")
                        ->check(CLI::IsMember({"fp16", "bf16"}))
                        ->capture_default_str();
  cmd->add_flag("--checkpoint-backbone", r->checkpoint_backbone,
                "Recompute backbone activations in backward (less GPU memory, ~1/3 more compute)");
  cmd->add_flag("--channels-last", r->channels_last, "NHWC convolutions (faster with mixed precision on tensor cores)");
  cmd->add_flag("--profile", r->profile, "Print mean step-phase times per epoch (synchronises the device)");
  auto* ema = cmd->add_option("--ema", r->ema, "EMA decay (0 = off)");
  cmd->add_option("--linear-init", r->linear_init, "MLSPL LinearInit: epochs of a linear head on frozen features");
  auto* expected = cmd->add_option("--expected-positives", r->expected_positives, "k for EPR/ROLE (default: from the labels, else 2.9)");
  cmd->add_option("--seed", r->seed, "Random seed")->capture_default_str();
  cmd->add_option("--run-name", r->run_name, "Name of the run");
  cmd->add_option("--resume", r->resume, "Continue run (id or name) from its last checkpoint");
  cmd->add_option("--grad-accum", r->grad_accum, "Optimizer step every N batches")->capture_default_str();
  cmd->add_option("--early-stop", r->early_stop, "Stop once more than N epochs pass without val improvement (Q2L's rule; 0 = off)");
  cmd->add_option("--workers", r->workers, "Image decoding threads (default: 2 on the CPU, up to 8 with CUDA)");
  // An explicit 0 (`--epochs 0`) is an error, not the default that 0 stands for inside TrainRequest.
  f.explicit_values = {
      {image_size, [r] { return r->image_size; }}, {batch, [r] { return r->batch; }},
      {epochs, [r] { return r->epochs; }},         {lr, [r] { return r->lr; }},
      {ema, [r] { return r->ema; }},               {expected, [r] { return r->expected_positives; }}};
  return f;
}

void finishTrainFlags(const TrainFlags& flags) {
  auto& r = *flags.request;
  r.method = parseMethod(*flags.method);
  if (flags.amp_dtype->count() > 0) r.amp = true;
  for (const auto& [option, value] : flags.explicit_values)
    if (option->count() > 0) checkTrainSetting(option->get_name(), value());
  r.validate();
}

}  // namespace mls::cli
