#!/usr/bin/env python3
"""Loads a file written by `mlstudio-cli export-weights` (authors' names) into PyTorch models declared with
the same module tree as the authors' code, strictly, and compares their logits with the C++ model's.

* q2l:   the tree of build_q2l(args) in SlongLiu/query2labels (lib/models/query2label.py, backbone.py,
         transformer.py, position_encoding.py), re-declared here from its names and shapes only:
         backbone = Joiner(Backbone(body = IntermediateLayerGetter(torchvision ResNet with FrozenBatchNorm2d)),
         PositionEmbeddingSine with a persistent `pe` buffer), input_proj, transformer.encoder/decoder (post-norm,
         nn.MultiheadAttention, no decoder self-attention by default), query_embed, fc (GroupWiseLinear W, b).
* mlspl: ImageClassifier of elijahcole/single-positive-multi-label models.py: feature_extractor =
         Sequential(torchvision ResNet children without fc) with an extra avgpool, linear_classifier.

Usage: check_exported_weights.py --weights W.pth --info W.pth.json [--reference REF.pt]
REF.pt is a dict {"input": (B,3,S,S), "logits": (B,K)} from the C++ model. Prints one JSON line; exits 1 on failure.
"""
import argparse
import json
import math
import sys

import torch
import torchvision
from torch import nn
from torchvision.models._utils import IntermediateLayerGetter
from torchvision.ops import FrozenBatchNorm2d


# ---- Query2Label --------------------------------------------------------------------------------------------

class ResNetBody(nn.Module):
    def __init__(self, arch):
        super().__init__()
        net = getattr(torchvision.models, arch)(weights=None, norm_layer=FrozenBatchNorm2d)
        self.body = IntermediateLayerGetter(net, return_layers={"layer4": "0"})

    def forward(self, x):
        return self.body(x)["0"]


class FixedSineEncoding(nn.Module):
    """Holds the encoding as the persistent buffer `pe` (1, d, H, W), as the authors' PositionEmbeddingSine does."""

    def __init__(self, d, h, w):
        super().__init__()
        self.register_buffer("pe", torch.zeros(1, d, h, w))


def detr_sine(d, h, w, temperature=10000.0, scale=2 * math.pi):
    """DETR's normalised 2-D sine encoding (y half, then x half; sin/cos interleaved), for checking `pe`."""
    n = d // 2
    ys = torch.arange(1, h + 1, dtype=torch.float32) / (h + 1e-6) * scale
    xs = torch.arange(1, w + 1, dtype=torch.float32) / (w + 1e-6) * scale
    freq = temperature ** (2 * torch.div(torch.arange(n), 2, rounding_mode="floor") / n)

    def encode(p):  # (L,) -> (L, n)
        a = p[:, None] / freq
        out = torch.empty_like(a)
        out[:, 0::2] = a[:, 0::2].sin()
        out[:, 1::2] = a[:, 1::2].cos()
        return out

    ey = encode(ys)[:, None, :].expand(h, w, n)
    ex = encode(xs)[None, :, :].expand(h, w, n)
    return torch.cat([ey, ex], dim=2).permute(2, 0, 1).unsqueeze(0)


class EncoderLayer(nn.Module):
    def __init__(self, d, heads, ff, dropout):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(d, heads, dropout=dropout)
        self.linear1, self.dropout, self.linear2 = nn.Linear(d, ff), nn.Dropout(dropout), nn.Linear(ff, d)
        self.norm1, self.norm2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.dropout1, self.dropout2 = nn.Dropout(dropout), nn.Dropout(dropout)

    def forward(self, src, pos):  # post-norm; position on queries and keys only
        qk = src + pos
        src = self.norm1(src + self.dropout1(self.self_attn(qk, qk, src)[0]))
        return self.norm2(src + self.dropout2(self.linear2(self.dropout(torch.relu(self.linear1(src))))))


class DecoderLayer(nn.Module):
    def __init__(self, d, heads, ff, dropout, self_attention):
        super().__init__()
        if self_attention:
            self.self_attn = nn.MultiheadAttention(d, heads, dropout=dropout)
            self.norm1, self.dropout1 = nn.LayerNorm(d), nn.Dropout(dropout)
        self.multihead_attn = nn.MultiheadAttention(d, heads, dropout=dropout)
        self.linear1, self.dropout, self.linear2 = nn.Linear(d, ff), nn.Dropout(dropout), nn.Linear(ff, d)
        self.norm2, self.norm3 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.dropout2, self.dropout3 = nn.Dropout(dropout), nn.Dropout(dropout)

    def forward(self, tgt, memory, pos, query_pos):
        if hasattr(self, "self_attn"):
            qk = tgt + query_pos
            tgt = self.norm1(tgt + self.dropout1(self.self_attn(qk, qk, tgt)[0]))
        tgt = self.norm2(tgt + self.dropout2(self.multihead_attn(tgt + query_pos, memory + pos, memory)[0]))
        return self.norm3(tgt + self.dropout3(self.linear2(self.dropout(torch.relu(self.linear1(tgt))))))


class LayerStack(nn.Module):
    def __init__(self, layers, norm=None):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.norm = norm


class Transformer(nn.Module):
    def __init__(self, a):
        super().__init__()
        d, h, ff, p = a["hidden_dim"], a["nheads"], a["dim_feedforward"], a["dropout"]
        self.encoder = LayerStack([EncoderLayer(d, h, ff, p) for _ in range(a["enc_layers"])])
        keep = a.get("keep_other_self_attn_dec", False)
        self.decoder = LayerStack([DecoderLayer(d, h, ff, p, keep) for _ in range(a["dec_layers"])], nn.LayerNorm(d))

    def forward(self, src, pos, query_pos):  # sequence-first (L, B, d), like the authors' nn.MultiheadAttention use
        memory = src
        for layer in self.encoder.layers:
            memory = layer(memory, pos)
        tgt = torch.zeros_like(query_pos)
        for layer in self.decoder.layers:
            tgt = layer(tgt, memory, pos, query_pos)
        return self.decoder.norm(tgt)


class GroupWiseLinear(nn.Module):
    def __init__(self, k, d):
        super().__init__()
        self.W = nn.Parameter(torch.zeros(1, k, d))
        self.b = nn.Parameter(torch.zeros(1, k))

    def forward(self, x):  # (B, K, d) -> (B, K)
        return (self.W * x).sum(-1) + self.b


class Query2LabelTree(nn.Module):
    def __init__(self, a):
        super().__init__()
        d, k, cells = a["hidden_dim"], a["num_class"], a["img_size"] // 32
        body = ResNetBody(a["backbone"])
        channels = 512 if a["backbone"] in ("resnet18", "resnet34") else 2048
        self.backbone = nn.Sequential(body, FixedSineEncoding(d, cells, cells))
        self.transformer = Transformer(a)
        self.input_proj = nn.Conv2d(channels, d, 1) if a["keep_input_proj"] else nn.Identity()
        self.query_embed = nn.Embedding(k, d)
        self.fc = GroupWiseLinear(k, d)

    def forward(self, x):
        src = self.input_proj(self.backbone[0](x))
        b = src.shape[0]
        tokens = src.flatten(2).permute(2, 0, 1)
        pos = self.backbone[1].pe.repeat(b, 1, 1, 1).flatten(2).permute(2, 0, 1)
        query_pos = self.query_embed.weight.unsqueeze(1).repeat(1, b, 1)
        return self.fc(self.transformer(tokens, pos, query_pos).transpose(0, 1))


# ---- MLSPL --------------------------------------------------------------------------------------------------

class ImageClassifierTree(nn.Module):
    def __init__(self, a):
        super().__init__()
        net = getattr(torchvision.models, a["feature_extractor_arch"])(weights=None)
        self.feature_extractor = nn.Sequential(*list(net.children())[:-1])
        self.feature_extractor.avgpool = nn.AdaptiveAvgPool2d(1)  # models.py adds it (no tensors)
        self.linear_classifier = nn.Linear(a["feat_dim"], a["num_classes"])

    def forward(self, x):
        return self.linear_classifier(self.feature_extractor(x).flatten(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True)
    ap.add_argument("--info", required=True)
    ap.add_argument("--reference")
    args = ap.parse_args()

    info = json.load(open(args.info))
    a = info["authors_arguments"]
    model = Query2LabelTree(a) if info["module"] == "Qeruy2Label" else ImageClassifierTree(a)
    state = torch.load(args.weights)
    if type(state) is not dict:
        sys.exit("torch.load returned %s, expected a dict" % type(state).__name__)
    model.load_state_dict(state, strict=True)  # raises on any missing / unexpected key or shape mismatch
    model.eval()

    report = {"module": info["module"], "keys": len(state), "strict": True}
    if info["module"] == "Qeruy2Label":
        pe = state["backbone.1.pe"]
        report["pe_max_abs_diff"] = (pe - detr_sine(pe.shape[1], pe.shape[2], pe.shape[3])).abs().max().item()
    if args.reference:
        ref = torch.load(args.reference)
        with torch.no_grad():
            logits = model(ref["input"])
        report["logits_max_abs_diff"] = (logits - ref["logits"]).abs().max().item()
    print(json.dumps(report))
    ok = report.get("pe_max_abs_diff", 0.0) < 1e-5 and report.get("logits_max_abs_diff", 0.0) < 1e-4
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
