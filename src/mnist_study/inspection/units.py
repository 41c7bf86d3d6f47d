"""Dead hidden units: a ReLU unit that no training image activates outputs zero for every
image and receives no gradient, so training cannot revive it, and the network has one unit
fewer than its spec says. Counted on the training images, per dense hidden layer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from mnist_study.networks import Network


@torch.no_grad()
def dead_units(net: Network, images: torch.Tensor, chunk: int = 4096) -> list[int]:
    """Per dense hidden layer of a ReLU network: how many units output zero on every image.
    (The convolution blocks' own activations are other modules and are not counted.)"""
    if not isinstance(net.activation, torch.nn.ReLU):
        raise ValueError("dead units are counted for ReLU networks: a sigmoid or tanh unit "
                         "always has a gradient")
    outputs: list[torch.Tensor] = []
    hook = net.activation.register_forward_hook(lambda module, inputs, out: outputs.append(out))
    active: list[torch.Tensor] | None = None
    try:
        for start in range(0, len(images), chunk):
            outputs.clear()
            net(images[start:start + chunk])
            ever = [(out > 0).any(0) for out in outputs]  # one per dense hidden layer, in order
            active = ever if active is None else [a | e for a, e in zip(active, ever)]
    finally:
        hook.remove()
    return [int((~a).sum()) for a in active or []]


def dead_unit_table(members: dict[int, Network], hidden: tuple[int, ...], images: torch.Tensor,
                    diverged: set[int]) -> pd.DataFrame:
    """One row per member: its seed, the hidden units of the spec and how many of them are dead
    (all layers together, and per layer as `dead_<k>`). A diverged member has none counted."""
    rows = []
    for seed, net in members.items():
        per_layer = ([np.nan] * len(hidden) if seed in diverged
                     else dead_units(net, images))
        rows.append({"seed": seed, "units": sum(hidden),
                     "dead": np.nan if seed in diverged else sum(per_layer),
                     **{f"dead_{k}": d for k, d in enumerate(per_layer)}})
    return pd.DataFrame(rows)
