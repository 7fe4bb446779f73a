// The demo subcommand: the synthetic demo dataset and a ready project. It draws images with OpenCV, so it runs in
// mlstudio-cli-torch (mlstudio-cli itself loads neither OpenCV nor LibTorch).
#include <iostream>
#include <memory>

#include "commands.h"
#include "demo_generator.h"

namespace mls::cli {

void registerDemoCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("demo", "Generate the synthetic demo dataset and a ready project DIR/demo.mlsproj");
  auto opt = std::make_shared<DemoOptions>();
  auto out = std::make_shared<std::string>();
  cmd->add_option("--out", *out, "Output folder")->required();
  cmd->add_option("--train", opt->train, "Training images")->capture_default_str();
  cmd->add_option("--val", opt->val, "Validation images")->capture_default_str();
  cmd->add_option("--size", opt->size, "Image side in pixels")->capture_default_str();
  cmd->add_option("--seed", opt->seed, "Random seed")->capture_default_str();
  cmd->callback([opt, out] {
    const auto ds = createDemoProject(*out, *opt, [](int done, int total) {
      progressLine("demo: " + std::to_string(done) + " / " + std::to_string(total) + " images", done == total);
    });
    std::cout << "demo project: " << ds.project << std::endl;
  });
}

}  // namespace mls::cli
