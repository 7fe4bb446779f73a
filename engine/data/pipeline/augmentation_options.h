// What the loader does to each decoded image, with presets that follow the two papers' official code.
#pragma once
#include <array>

namespace mls {

enum class CutoutFill {
  Random,  // a random RGB colour per hole, as ASL/Q2L's CutoutPIL
  Mean,    // the normalisation mean, i.e. zeros after normalisation
};

struct AugmentationOptions {
  bool horizontal_flip = false;
  double flip_probability = 0.5;  // torchvision RandomHorizontalFlip default

  // Random multiple-of-90° rotation plus vertical flip (the dihedral group). Only for data whose labels do
  // not depend on orientation, like the synthetic demo shapes (drawn at random rotations); never for photos.
  bool dihedral = false;

  // Cutout as the Q2L README command (--cutout --n_holes 1 --cut_fact 0.5), i.e. ASL's CutoutPIL:
  // one square of side int(0.5*S + 0.5) centred uniformly at random, clipped to the image.
  bool cutout = false;
  int cutout_holes = 1;
  double cutout_factor = 0.5;
  CutoutFill cutout_fill = CutoutFill::Random;

  // RandAugment (Cubuk et al. 2020): N ops, each at magnitude M on the 0..10 scale; N=2, M=9 is the
  // paper's ImageNet ResNet-50 setting.
  bool rand_augment = false;
  int rand_augment_ops = 2;
  int rand_augment_magnitude = 9;

  // ImageNet statistics (torchvision), used by both official codebases.
  std::array<float, 3> mean{0.485f, 0.456f, 0.406f};
  std::array<float, 3> std{0.229f, 0.224f, 0.225f};

  bool anyRandom() const { return horizontal_flip || dihedral || cutout || rand_augment; }

  // Evaluation / feature caching: resize + normalise only.
  static AugmentationOptions none() { return {}; }
  // Query2Label training (official code): Resize, Cutout, RandAugment, normalise. No flip.
  static AugmentationOptions query2label() {
    AugmentationOptions o;
    o.cutout = true;
    o.rand_augment = true;
    return o;
  }
  // The synthetic demo (tiny CPU preset): flips and 90° turns. RandAugment's colour ops would turn its red
  // classes into blue ones, so it is left out.
  static AugmentationOptions syntheticShapes() {
    AugmentationOptions o;
    o.horizontal_flip = true;
    o.dihedral = true;
    return o;
  }
  // Single-positive training (Cole et al. official code): Resize, RandomHorizontalFlip, normalise.
  static AugmentationOptions singlePositive() {
    AugmentationOptions o;
    o.horizontal_flip = true;
    return o;
  }
};

}  // namespace mls
