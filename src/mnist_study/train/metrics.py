"""What a network's outputs say: its class probabilities, and its fit to the training set. Every
test metric is computed by the analysis from the stored test outputs
(mnist_study.evaluate.metrics, which tests/test_metrics.py holds to the same definitions)."""

from __future__ import annotations

import torch

from mnist_study.networks import loss_fn
from mnist_study.spec import ModelSpec


def probabilities(outputs: torch.Tensor, spec: ModelSpec) -> torch.Tensor:
    """Class probabilities from the network's outputs: as its loss reads them where it reads
    them as probabilities or logits (ModelSpec.trains_probabilities), else a softmax of its
    scores, which it was never trained to make probabilities of (MSE or NLL on raw scores)."""
    if spec.output_activation == "softmax":
        return outputs
    if spec.output_activation == "log_softmax":
        return outputs.exp()
    # cross_entropy (and the seed's sigmoid-then-cross-entropy model 8) reads outputs as logits
    return torch.softmax(outputs, dim=-1)


def split_metrics(outputs: torch.Tensor, labels: torch.Tensor, loss: str) -> dict[str, float]:
    """One member's accuracy (right answers over images, in double precision, as the analysis
    computes it) and mean loss (`loss`: its spec's) from its outputs (N, 10) on a split."""
    return {"accuracy": (outputs.argmax(-1) == labels).sum().item() / len(labels),
            "loss": loss_fn(outputs, labels, loss).item()}
