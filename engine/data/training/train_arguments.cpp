#include "data/training/train_arguments.h"

#include <cstdio>
#include <cstdlib>

namespace mls {

namespace {

// The shortest %g form that parses back to the same double (CLI11 reads numbers with strtod semantics).
std::string exactNumber(double v) {
  char buf[40];
  for (int precision = 6; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

}  // namespace

std::vector<std::string> trainArguments(const TrainRequest& r) {
  std::vector<std::string> a;
  auto add = [&a](const char* flag, const std::string& value) {
    // A value that starts with '-' (a run named "-x") would read as a flag of its own: --flag=value then.
    if (!value.empty() && value[0] == '-') {
      a.push_back(std::string(flag) + "=" + value);
      return;
    }
    a.emplace_back(flag);
    a.push_back(value);
  };
  if (!r.project.empty()) add("--project", r.project);
  add("--method", methodName(r.method));
  add("--loss", r.loss);
  add("--labels", r.labels);
  add("--backbone", r.backbone);
  if (!r.weights.empty()) add("--weights", r.weights);
  if (r.image_size != 0) add("--image-size", std::to_string(r.image_size));
  if (r.batch != 0) add("--batch", std::to_string(r.batch));
  if (r.epochs != 0) add("--epochs", std::to_string(r.epochs));
  if (r.lr != 0) add("--lr", exactNumber(r.lr));
  add("--device", r.device);
  // --amp-dtype implies --amp in the CLI: written only with --amp.
  if (r.amp) {
    a.emplace_back("--amp");
    add("--amp-dtype", r.amp_dtype);
  }
  if (r.checkpoint_backbone) a.emplace_back("--checkpoint-backbone");
  if (r.channels_last) a.emplace_back("--channels-last");
  if (r.profile) a.emplace_back("--profile");
  if (r.ema >= 0) add("--ema", exactNumber(r.ema));
  if (r.linear_init != 0) add("--linear-init", std::to_string(r.linear_init));
  if (r.expected_positives != 0) add("--expected-positives", exactNumber(r.expected_positives));
  add("--seed", std::to_string(r.seed));
  if (!r.run_name.empty()) add("--run-name", r.run_name);
  if (!r.resume.empty()) add("--resume", r.resume);
  if (r.grad_accum != 1) add("--grad-accum", std::to_string(r.grad_accum));
  if (r.early_stop >= 0) add("--early-stop", std::to_string(r.early_stop));
  if (r.workers >= 0) add("--workers", std::to_string(r.workers));
  return a;
}

std::string shellCommand(const std::vector<std::string>& args) {
  std::string out;
  for (const auto& arg : args) {
    if (!out.empty()) out += ' ';
    const bool plain = !arg.empty() && arg.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                             "0123456789-_./:=+,@%") == std::string::npos;
    if (plain) {
      out += arg;
      continue;
    }
    out += '\'';
    for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    out += '\'';
  }
  return out;
}

}  // namespace mls
