#!/usr/bin/env python3
"""Export torchvision ResNet weights in a form Multi-Label Studio (LibTorch) can read.

LibTorch cannot unpickle the OrderedDict that torch.save(model.state_dict()) writes, nor pre-1.6 (non-zip)
.pth files, so run this once with PyTorch + torchvision:

  export_torchvision_resnet.py --arch resnet50 --weights resnet50-0676ba61.pth --out resnet50.pt
  export_torchvision_resnet.py --arch resnet101 --pretrained --out r101.pt --torchscript r101.ts
  export_torchvision_resnet.py --arch resnet18 --random --seed 0 --out r18.pt --reference r18_ref.pt

--out         plain dict of every parameter and buffer (torchvision names), for a native backbone.
--torchscript a scripted module with the same names whose forward(images) returns the C5 map
              (B, C, H/32, W/32): usable as backbone "torchscript:PATH" and as a weights file.
--reference   a plain dict {input, features, pooled, logits} computed in eval mode on a fixed random
              input, used by the C++ tests to check that native outputs match PyTorch's.
"""
import argparse
import sys

import torch
from torch import nn
import torchvision

ARCHS = ("resnet18", "resnet34", "resnet50", "resnet101")


class C5Features(nn.Module):
    """torchvision ResNet up to layer4; keeps every submodule (fc too) so the names stay torchvision's."""

    def __init__(self, net):
        super().__init__()
        for name in ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "fc"):
            setattr(self, name, getattr(net, name))

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


def unwrap_checkpoint(obj):
    for key in ("state_dict", "model"):
        if isinstance(obj, dict) and key in obj and isinstance(obj[key], dict):
            obj = obj[key]
    if obj and all(k.startswith("module.") for k in obj):
        obj = {k[len("module."):]: v for k, v in obj.items()}
    return obj


def randomize_batch_norm(net, generator):
    """Random-init BN is the identity; random statistics make a weights test actually check the buffers."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                n = m.num_features
                m.weight.copy_(torch.rand(n, generator=generator) * 0.5 + 0.75)
                m.bias.copy_(torch.randn(n, generator=generator) * 0.1)
                m.running_mean.copy_(torch.randn(n, generator=generator) * 0.1)
                m.running_var.copy_(torch.rand(n, generator=generator) * 0.5 + 0.75)
                m.num_batches_tracked.fill_(7)


def build(args):
    torch.manual_seed(args.seed)
    if args.pretrained:
        try:
            net = getattr(torchvision.models, args.arch)(weights="DEFAULT")
        except TypeError:  # torchvision < 0.13
            net = getattr(torchvision.models, args.arch)(pretrained=True)
        return net
    net = getattr(torchvision.models, args.arch)()
    if args.random:
        randomize_batch_norm(net, torch.Generator().manual_seed(args.seed + 1))
    else:
        state = unwrap_checkpoint(torch.load(args.weights, map_location="cpu"))
        net.load_state_dict(state, strict=True)
    return net


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arch", choices=ARCHS, required=True)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--weights", help="torchvision checkpoint (.pth) to convert")
    src.add_argument("--random", action="store_true", help="random initialisation (for tests)")
    src.add_argument("--pretrained", action="store_true", help="download torchvision's ImageNet weights")
    p.add_argument("--out", help="plain-dict weights file to write")
    p.add_argument("--torchscript", help="TorchScript C5 feature extractor to write")
    p.add_argument("--reference", help="reference input/outputs (plain dict) to write")
    p.add_argument("--ref-size", type=int, default=96, help="reference image size (default 96)")
    p.add_argument("--ref-batch", type=int, default=2, help="reference batch size (default 2)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    if not (args.out or args.torchscript or args.reference):
        p.error("nothing to write: give --out, --torchscript and/or --reference")

    net = build(args).eval()
    if args.out:
        # dict(...) turns the OrderedDict into a plain dict, the form torch::pickle_load reads.
        torch.save({k: v.detach().clone() for k, v in net.state_dict().items()}, args.out)
    features = C5Features(net).eval()
    if args.torchscript:
        torch.jit.save(torch.jit.script(features), args.torchscript)
    if args.reference:
        g = torch.Generator().manual_seed(args.seed + 2)
        x = torch.randn(args.ref_batch, 3, args.ref_size, args.ref_size, generator=g)
        with torch.no_grad():
            c5 = features(x)
            pooled = c5.mean(dim=(2, 3))
            logits = net.fc(pooled)
            full = net(x)
        assert torch.allclose(full, logits, atol=1e-5), "C5 path disagrees with torchvision's forward"
        torch.save({"input": x, "features": c5, "pooled": pooled, "logits": logits}, args.reference)
    return 0


if __name__ == "__main__":
    sys.exit(main())
