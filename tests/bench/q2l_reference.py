#!/usr/bin/env python3
"""PyTorch reference for bench_ml_train_step: the official Query2Label training step.

The model, loss and step follow the official code (SlongLiu/query2labels, main_mlc.py and lib/models),
written here from its description so that only PyTorch (and torchvision when present) is needed:
  * backbone: torchvision ResNet (FrozenBatchNorm2d and only layer2..4 trained in the paper setup), or for
    the tiny preset the same small CNN as engine/ml/models/tiny_cnn.cpp;
  * DETR sine position table (temperature 10000, normalised, scale 2*pi) precomputed as a buffer;
  * transformer on nn.MultiheadAttention, sequence-first, post-norm, no self-attention in the decoder;
  * GroupWiseLinear head; AsymmetricLossOptimized as the COCO command sets it (gamma_neg 2, gamma_pos 0,
    clip 0, eps 1e-5, --dtgfl, -sum/(B*K)*1000); AdamW (betas 0.9/0.999, wd 1e-2) + OneCycleLR (pct 0.2);
    the timm-style ModelEma (decay 0.9997) over the whole state dict; torch.cuda.amp autocast + GradScaler;
    cudnn.benchmark = True; loss.item() every step as the training loop logs it.
  The official run wraps the model in DistributedDataParallel; with one GPU that only adds gradient
  bucket copies, so it is left out (the reference is, if anything, slightly faster than the original).
--method mlspl runs the MLSPL baseline instead (elijahcole/single-positive-multi-label): ResNet features,
global average pooling, a linear layer, the AN loss, Adam with a fixed learning rate, no EMA.

Same flags as bench_ml_train_step; prints one result line and one JSON line per combination, including
the parameter counts, which must equal the C++ model's.
Run with a Python that has torch (Debian: /usr/bin/python3; the GPU machine: python3).
"""
import argparse
import contextlib
import copy
import json
import math
import os
import statistics
import sys
import time
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

try:
    import torchvision
except ImportError:  # the GPU machine may have torch alone; the local ResNet has the same layers and names
    torchvision = None


# ---- backbones ---------------------------------------------------------------------------------------

class FrozenBatchNorm2d(nn.Module):
    """BatchNorm with fixed statistics and affine terms (all buffers), eps inside the rsqrt as in Q2L."""

    def __init__(self, channels, eps=1e-5):
        super().__init__()
        self.eps = eps
        for name, init in (("weight", torch.ones), ("bias", torch.zeros),
                           ("running_mean", torch.zeros), ("running_var", torch.ones)):
            self.register_buffer(name, init(channels))

    def forward(self, x):
        scale = self.weight * (self.running_var + self.eps).rsqrt()
        shift = self.bias - self.running_mean * scale
        return x * scale.view(1, -1, 1, 1) + shift.view(1, -1, 1, 1)


class _Block(nn.Module):
    """torchvision's BasicBlock (expansion 1) or Bottleneck (expansion 4), same attribute names."""

    def __init__(self, bottleneck, inplanes, planes, stride, norm):
        super().__init__()
        self.bottleneck = bottleneck
        out = planes * (4 if bottleneck else 1)
        if bottleneck:
            self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
            self.bn1 = norm(planes)
            self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
            self.bn2 = norm(planes)
            self.conv3 = nn.Conv2d(planes, out, 1, bias=False)
            self.bn3 = norm(out)
        else:
            self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
            self.bn1 = norm(planes)
            self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = norm(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or inplanes != out:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, out, 1, stride, bias=False), norm(out))

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        if self.bottleneck:
            y = self.relu(self.bn2(self.conv2(y)))
            y = self.bn3(self.conv3(y))
        else:
            y = self.bn2(self.conv2(y))
        return self.relu(y + (x if self.downsample is None else self.downsample(x)))


_RESNET_BLOCKS = {"resnet18": (False, [2, 2, 2, 2]), "resnet34": (False, [3, 4, 6, 3]),
                  "resnet50": (True, [3, 4, 6, 3]), "resnet101": (True, [3, 4, 23, 3])}


def _local_resnet_body(name, norm):
    bottleneck, blocks = _RESNET_BLOCKS[name]
    layers = OrderedDict(conv1=nn.Conv2d(3, 64, 7, 2, 3, bias=False), bn1=norm(64), relu=nn.ReLU(inplace=True),
                         maxpool=nn.MaxPool2d(3, 2, 1))
    inplanes = 64
    for i, (planes, n) in enumerate(zip((64, 128, 256, 512), blocks)):
        seq = []
        for j in range(n):
            seq.append(_Block(bottleneck, inplanes, planes, (1 if i == 0 else 2) if j == 0 else 1, norm))
            inplanes = planes * (4 if bottleneck else 1)
        layers["layer%d" % (i + 1)] = nn.Sequential(*seq)
    body = nn.Sequential(layers)
    for m in body.modules():  # torchvision's initialisation
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
    return body, inplanes


def resnet_body(name, frozen_bn):
    """ResNet up to layer4 (C5, stride 32), like Q2L's IntermediateLayerGetter(return_layers={'layer4'})."""
    norm = FrozenBatchNorm2d if frozen_bn else nn.BatchNorm2d
    if torchvision is None:
        return _local_resnet_body(name, norm)
    net = getattr(torchvision.models, name)(weights=None, norm_layer=norm)  # random init: no download
    keep = ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4"]
    return nn.Sequential(OrderedDict((k, getattr(net, k)) for k in keep)), 512 * (4 if name in ("resnet50", "resnet101") else 1)


class TinyCnn(nn.Module):
    """Mirror of engine/ml/models/tiny_cnn.cpp: conv3x3-BN-ReLU stages 32,64,96,128,128, a second conv in
    the middle stages, stride 2 except the last stage (total stride 16)."""

    def __init__(self, widths=(32, 64, 96, 128, 128), double_conv=True):
        super().__init__()
        mods, cin, n = [], 3, len(widths)
        self.stride = 1

        def cbr(i, o, s):
            mods.extend([nn.Conv2d(i, o, 3, s, 1, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True)])

        for i, w in enumerate(widths):
            last = i + 1 == n
            s = 1 if (last and n > 1) else 2
            cbr(cin, w, s)
            if double_conv and i > 0 and not last:
                cbr(w, w, 1)
            self.stride *= s
            cin = w
        self.features = nn.Sequential(*mods)
        self.out_channels = cin
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        return self.features(x)


def make_backbone(name, frozen_bn, freeze_stem):
    """Returns (module, channels, stride)."""
    if name == "tiny":
        net = TinyCnn()
        return net, net.out_channels, net.stride
    if name not in _RESNET_BLOCKS:
        raise SystemExit("unknown backbone " + name)
    body, channels = resnet_body(name, frozen_bn)
    if freeze_stem:  # Q2L BackboneBase: only parameters named layer2/3/4 are trained
        for pname, p in body.named_parameters():
            if not any(k in pname for k in ("layer2", "layer3", "layer4")):
                p.requires_grad_(False)
    return body, channels, 32


# ---- Query2Label --------------------------------------------------------------------------------------

def sine_table(h, w, d, temperature=10000.0, scale=2 * math.pi):
    """(1,d,h,w) DETR sine encoding: d/2 features per axis (y first), cumsum positions normalised to scale."""
    n = d // 2
    ones = torch.ones(1, h, w)
    y = ones.cumsum(1)
    x = ones.cumsum(2)
    y = y / (y[:, -1:, :] + 1e-6) * scale
    x = x / (x[:, :, -1:] + 1e-6) * scale
    freq = temperature ** (2 * (torch.arange(n, dtype=torch.float32) // 2) / n)
    px, py = x[..., None] / freq, y[..., None] / freq
    px = torch.stack((px[..., 0::2].sin(), px[..., 1::2].cos()), dim=4).flatten(3)
    py = torch.stack((py[..., 0::2].sin(), py[..., 1::2].cos()), dim=4).flatten(3)
    return torch.cat((py, px), dim=3).permute(0, 3, 1, 2)


class PositionTable(nn.Module):
    def __init__(self, h, w, d):
        super().__init__()
        self.register_buffer("pe", sine_table(h, w, d))

    def forward(self, x):
        return self.pe.repeat(x.size(0), 1, 1, 1).to(x.dtype)


class EncoderLayer(nn.Module):
    def __init__(self, d, heads, ffn, dropout):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(d, heads, dropout=dropout)
        self.linear1, self.linear2 = nn.Linear(d, ffn), nn.Linear(ffn, d)
        self.dropout, self.dropout1, self.dropout2 = nn.Dropout(dropout), nn.Dropout(dropout), nn.Dropout(dropout)
        self.norm1, self.norm2 = nn.LayerNorm(d), nn.LayerNorm(d)

    def forward(self, src, pos):  # post-norm; position on queries and keys only
        qk = src + pos
        src = self.norm1(src + self.dropout1(self.self_attn(qk, qk, value=src)[0]))
        return self.norm2(src + self.dropout2(self.linear2(self.dropout(F.relu(self.linear1(src))))))


class DecoderLayer(nn.Module):
    """Q2L decoder layer: the label queries' self-attention (and its norm1/dropout1) removed."""

    def __init__(self, d, heads, ffn, dropout):
        super().__init__()
        self.multihead_attn = nn.MultiheadAttention(d, heads, dropout=dropout)
        self.linear1, self.linear2 = nn.Linear(d, ffn), nn.Linear(ffn, d)
        self.dropout, self.dropout2, self.dropout3 = nn.Dropout(dropout), nn.Dropout(dropout), nn.Dropout(dropout)
        self.norm2, self.norm3 = nn.LayerNorm(d), nn.LayerNorm(d)

    def forward(self, tgt, memory, pos, query_pos):
        att = self.multihead_attn(query=tgt + query_pos, key=memory + pos, value=memory)[0]
        tgt = self.norm2(tgt + self.dropout2(att))
        return self.norm3(tgt + self.dropout3(self.linear2(self.dropout(F.relu(self.linear1(tgt))))))


class Transformer(nn.Module):
    def __init__(self, d, heads, enc, dec, ffn, dropout):
        super().__init__()
        self.encoder = nn.Module()
        self.encoder.layers = nn.ModuleList(EncoderLayer(d, heads, ffn, dropout) for _ in range(enc))
        self.decoder = nn.Module()
        self.decoder.layers = nn.ModuleList(DecoderLayer(d, heads, ffn, dropout) for _ in range(dec))
        self.decoder.norm = nn.LayerNorm(d)
        for p in self.parameters():  # DETR _reset_parameters
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)

    def forward(self, src, query_embed, pos):
        b = src.shape[0]
        src = src.flatten(2).permute(2, 0, 1)  # (HW,B,d)
        pos = pos.flatten(2).permute(2, 0, 1)
        query_pos = query_embed.unsqueeze(1).repeat(1, b, 1)  # (K,B,d)
        memory = src
        for layer in self.encoder.layers:
            memory = layer(memory, pos)
        tgt = torch.zeros_like(query_pos)
        for layer in self.decoder.layers:
            tgt = layer(tgt, memory, pos, query_pos)
        return self.decoder.norm(tgt).transpose(0, 1)  # (B,K,d)


class GroupWiseLinear(nn.Module):
    def __init__(self, classes, d):
        super().__init__()
        bound = 1.0 / math.sqrt(d)
        self.W = nn.Parameter(torch.empty(1, classes, d).uniform_(-bound, bound))
        self.b = nn.Parameter(torch.empty(1, classes).uniform_(-bound, bound))

    def forward(self, x):
        return (self.W * x).sum(-1) + self.b


# hidden, heads, encoder layers, decoder layers, feed-forward, dropout: Q2LConfig::paperR101_448 / smallCpu
Q2L_CONFIGS = {"paper": (2048, 4, 1, 2, 8192, 0.1), "small": (128, 4, 1, 2, 256, 0.1)}


class Query2Label(nn.Module):
    def __init__(self, backbone, channels, stride, image_size, classes, config):
        super().__init__()
        d, heads, enc, dec, ffn, dropout = config
        side = -(-image_size // stride)
        self.backbone = backbone
        self.position = PositionTable(side, side, d)
        # main_mlc.py drops the projection (identity) unless --keep_input_proj; needed when C != d.
        self.input_proj = nn.Conv2d(channels, d, 1) if channels != d else nn.Identity()
        self.transformer = Transformer(d, heads, enc, dec, ffn, dropout)
        self.query_embed = nn.Embedding(classes, d)
        self.fc = GroupWiseLinear(classes, d)

    def forward(self, images):
        src = self.backbone(images)
        pos = self.position(src)
        return self.fc(self.transformer(self.input_proj(src), self.query_embed.weight, pos))


class MlsplClassifier(nn.Module):
    def __init__(self, backbone, channels, classes):
        super().__init__()
        self.backbone = backbone
        self.fc = nn.Linear(channels, classes)

    def forward(self, images):
        return self.fc(self.backbone(images).mean((2, 3)))


# ---- losses, EMA ---------------------------------------------------------------------------------------

def asl_q2l(logits, targets, gamma_neg=2.0, gamma_pos=0.0, clip=0.0, eps=1e-5):
    """AsymmetricLossOptimized with --dtgfl: focusing weight without grad, -sum / (B*K) * 1000."""
    p = torch.sigmoid(logits)
    q = 1.0 - p
    if clip > 0:
        q = (q + clip).clamp(max=1)
    anti = 1 - targets
    loss = targets * torch.log(p.clamp(min=eps)) + anti * torch.log(q.clamp(min=eps))
    if gamma_neg > 0 or gamma_pos > 0:
        with torch.no_grad():
            w = torch.pow(1 - p * targets - q * anti, gamma_pos * targets + gamma_neg * anti)
        loss = loss * w
    return -loss.sum() / logits.size(0) / targets.size(1) * 1000


def an_loss(logits, targets, eps=1e-5):
    """MLSPL "assume negative": -log p at the observed positive, -log(1-p) elsewhere, mean over B*K."""
    p = torch.sigmoid(logits)
    return (targets * -torch.log(p + eps) + (1 - targets) * -torch.log(1 - p + eps)).mean()


class ModelEma:
    """Weight EMA over the whole state dict (parameters and buffers), as main_mlc.py's ModelEma."""

    def __init__(self, model, decay):
        self.module = copy.deepcopy(model).eval()
        self.decay = decay

    @torch.no_grad()
    def update(self, model):
        for e, m in zip(self.module.state_dict().values(), model.state_dict().values()):
            e.copy_(self.decay * e + (1.0 - self.decay) * m)


# ---- benchmark ------------------------------------------------------------------------------------------

def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--small", dest="preset", action="store_const", const="small")
    ap.add_argument("--paper", dest="preset", action="store_const", const="paper")
    ap.add_argument("--method", choices=["q2l", "mlspl"], default="q2l")
    ap.add_argument("--backbone")
    ap.add_argument("--image-size", type=int)
    ap.add_argument("--batch")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--amp", default="off")
    ap.add_argument("--channels-last", nargs="?", const="on", default="off", choices=["on", "off", "both"])
    ap.add_argument("--classes", type=int, default=80)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1200)
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    a.preset = a.preset or "small"
    paper = a.preset == "paper"
    a.backbone = a.backbone or ("resnet101" if paper else "tiny")
    a.image_size = a.image_size or (448 if paper else 64)
    a.batches = [int(b) for b in (a.batch or ("16" if paper else "32")).split(",") if b]
    a.amps = [x for x in a.amp.split(",") if x]
    for x in a.amps:
        if x not in ("off", "fp16", "bf16"):
            ap.error("--amp must be off, fp16 or bf16")
    a.layouts = {"on": [True], "off": [False], "both": [False, True]}[a.channels_last]
    a.warmup = max(a.warmup, 1)  # the first step creates the optimizer state; never timed
    return a


def build_model(a):
    paper_q2l = a.preset == "paper" and a.method == "q2l"
    backbone, channels, stride = make_backbone(a.backbone, frozen_bn=paper_q2l, freeze_stem=paper_q2l)
    if a.method == "q2l":
        return Query2Label(backbone, channels, stride, a.image_size, a.classes, Q2L_CONFIGS[a.preset])
    return MlsplClassifier(backbone, channels, a.classes)


def load_average():
    """1-minute load average, -1 where unknown: context for CPU numbers taken on a shared machine."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return -1.0


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def make_scaler(enabled):
    if hasattr(torch, "amp") and hasattr(torch.amp, "GradScaler"):  # torch >= 2.3; the cuda one is deprecated
        return torch.amp.GradScaler("cuda", enabled=enabled)
    return torch.cuda.amp.GradScaler(enabled=enabled)


def run_one(a, batch, amp, channels_last, device):
    torch.manual_seed(a.seed)
    model = build_model(a)
    params = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    model = model.to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    torch.manual_seed(a.seed + 1)
    images = torch.randn(batch, 3, a.image_size, a.image_size)
    if a.method == "q2l":
        targets = (torch.rand(batch, a.classes) < 2.9 / a.classes).float()
    else:
        targets = torch.zeros(batch, a.classes).scatter_(1, torch.randint(a.classes, (batch, 1)), 1.0)
    images, targets = images.to(device), targets.to(device)
    if channels_last:
        images = images.contiguous(memory_format=torch.channels_last)

    total = a.warmup + a.steps
    trainable_params = [p for p in model.parameters() if p.requires_grad]
    if a.method == "q2l":
        ema = ModelEma(model, 0.9997)
        optimizer = torch.optim.AdamW(trainable_params, 1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2)
        # At least 10 steps: PyTorch's OneCycleLR divides by zero when pct_start * total_steps == 1 (the
        # engine's schedule treats that phase as done); the lr values do not change the step's cost.
        scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-4, total_steps=max(total, 10),
                                                        pct_start=0.2)
        criterion = asl_q2l
    else:
        ema, scheduler = None, None
        optimizer = torch.optim.Adam(trainable_params, 1e-5)
        criterion = an_loss
    scaler = make_scaler(amp == "fp16")
    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(amp)

    model.train()
    stamps = []
    loss_value = 0.0
    for step in range(1, total + 1):
        ctx = torch.autocast(device_type=device.type, dtype=dtype) if dtype else contextlib.nullcontext()
        with ctx:
            loss = criterion(model(images), targets)
        loss_value = loss.item()
        optimizer.zero_grad()
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        if scheduler is not None:
            scheduler.step()
        if ema is not None:
            ema.update(model)
        if a.verbose:
            print("  step %d loss %.5f" % (step, loss_value), file=sys.stderr)
        if step == a.warmup or step == total:
            sync(device)
        if step >= a.warmup:  # loss.item() waits for the device every step, so per-step times are real
            stamps.append(time.perf_counter())
    r = dict(params=params, trainable_params=trainable, seconds=stamps[-1] - stamps[0], final_loss=loss_value)
    durations = sorted(b - a_ for a_, b in zip(stamps, stamps[1:]))
    median = statistics.median(durations)
    r["images_per_s"] = a.steps * batch / r["seconds"]
    r["ms_per_step"] = 1000.0 * r["seconds"] / a.steps
    r["median_ms_per_step"] = 1000.0 * median
    r["best_ms_per_step"] = 1000.0 * durations[0]
    r["median_images_per_s"] = batch / median
    if device.type == "cuda":
        r["peak_allocated_mib"] = torch.cuda.max_memory_allocated(device) / 2 ** 20
        r["peak_reserved_mib"] = torch.cuda.max_memory_reserved(device) / 2 ** 20
    return r


def main():
    a = parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise SystemExit("q2l_reference.py: CUDA requested but not available")
        torch.backends.cudnn.benchmark = True  # main_mlc.py
    tv = torchvision.__version__ if torchvision is not None else "local"
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print("PyTorch %s (torchvision %s) on %s, %d threads; %s %s (%s preset), %d px, %d timed steps after %d warm-up; "
          "load average %.2f" % (torch.__version__, tv, name, torch.get_num_threads(), a.method, a.backbone, a.preset,
                                 a.image_size, a.steps, a.warmup, load_average()))
    failures = 0
    for batch in a.batches:
        for amp in a.amps:
            for cl in a.layouts:
                if amp != "off" and device.type != "cuda":
                    print("skip: AMP %s needs CUDA" % amp)
                    continue
                rec = OrderedDict(bench="train_step", impl="python", torch=torch.__version__, torchvision=tv,
                                  device=str(device), device_name=name, threads=torch.get_num_threads(),
                                  method=a.method, backbone=a.backbone, preset=a.preset, image_size=a.image_size,
                                  batch=batch, classes=a.classes, amp=amp, channels_last=cl, steps=a.steps,
                                  warmup=a.warmup, load_avg=load_average())
                head = "batch %d amp %s %s: " % (batch, amp, "channels-last" if cl else "contiguous")
                try:
                    r = run_one(a, batch, amp, cl, device)
                    rec.update(r)
                    mem = ""
                    if "peak_allocated_mib" in r:
                        mem = ", peak %.1f MiB allocated / %.1f MiB reserved" % (r["peak_allocated_mib"],
                                                                                 r["peak_reserved_mib"])
                    print(head + "%.1f img/s (%.1f ms/step; median step %.1f ms = %.1f img/s)%s, params %d "
                          "(%d trainable), last loss %.4f"
                          % (r["images_per_s"], r["ms_per_step"], r["median_ms_per_step"], r["median_images_per_s"],
                             mem, r["params"], r["trainable_params"], r["final_loss"]))
                except RuntimeError as e:  # e.g. CUDA out of memory: report and go on
                    failures += 1
                    rec["error"] = str(e).split("\n")[0]
                    print(head + "FAILED: " + rec["error"])
                if device.type == "cuda":
                    torch.cuda.empty_cache()
                print(json.dumps(rec), flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
