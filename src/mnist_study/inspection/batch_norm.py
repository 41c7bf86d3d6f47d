"""What batch norm does with images unlike its training images. In evaluation a batch-norm layer
normalizes every channel with the mean and variance it kept from training (its running
statistics, from digits): for images whose channel statistics lie far from those, it no longer
normalizes, and what it passes on is as large as that distance. Measured per layer and set of
images as the mean over channels of how far the set's channel mean lies from the running mean,
in running standard deviations (`shift`), and of the set's channel standard deviation over the
running one (`scale`); for the training distribution both are near 0 and 1."""

from __future__ import annotations

import pandas as pd
import torch
from torch import nn


@torch.no_grad()
def batch_norm_statistics(net: nn.Module, images: torch.Tensor, chunk: int = 2048) -> list[dict]:
    """Per batch-norm layer of `net` (in module order), on `images` (N, 784) in evaluation mode:
    `shift` and `scale` (module docstring) over the channels, from the layer's inputs summed
    over the images (and positions) in chunks. An empty list for a network without one."""
    layers = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not layers:
        return []
    sums = [None] * len(layers)

    def keep(k):
        def hook(module, inputs, out):
            x = inputs[0].double().transpose(0, 1).reshape(module.num_features, -1)  # (C, N*H*W)
            part = torch.stack([x.sum(1), (x * x).sum(1), torch.full_like(x[:, 0], x.shape[1])])
            sums[k] = part if sums[k] is None else sums[k] + part
        return hook

    hooks = [layer.register_forward_hook(keep(k)) for k, layer in enumerate(layers)]
    was_training = net.training
    net.eval()
    try:
        for start in range(0, len(images), chunk):
            net(images[start:start + chunk])
    finally:
        for h in hooks:
            h.remove()
        net.train(was_training)
    out = []
    for layer, (total, squares, count) in zip(layers, sums):
        mean = total / count
        sd = (squares / count - mean ** 2).clamp_min(0).sqrt()
        running_sd = (layer.running_var.double() + layer.eps).sqrt()
        out.append({"shift": float(((mean - layer.running_mean.double()).abs() / running_sd).mean()),
                    "scale": float((sd / running_sd).mean())})
    return out


def batch_norm_table(members: dict[int, nn.Module], sets: dict[str, torch.Tensor]) -> pd.DataFrame:
    """One row per member, batch-norm layer and set of images: seed, layer (0 = the first),
    set, shift, scale."""
    rows = []
    for seed, net in members.items():
        for name, images in sets.items():
            for k, stats in enumerate(batch_norm_statistics(net, images)):
                rows.append({"seed": seed, "layer": k, "set": name, **stats})
    return pd.DataFrame(rows, columns=["seed", "layer", "set", "shift", "scale"])
