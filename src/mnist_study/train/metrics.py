"""Metrics of a trained model from its outputs: accuracy and loss per split. ROC curves and
AUCs are computed from the stored test probabilities by mnist_study.evaluate.analysis, in one place."""

from __future__ import annotations

import numpy as np
import torch

from mnist_study.spec import N_CLASSES, ModelSpec
from mnist_study.networks import loss_fn


def probabilities(outputs: torch.Tensor, spec: ModelSpec) -> torch.Tensor:
    """Class probabilities from the network's outputs, as its loss reads them."""
    if spec.output_activation == "softmax":
        return outputs
    if spec.output_activation == "log_softmax":
        return outputs.exp()
    # cross_entropy (and the seed's sigmoid-then-cross-entropy model 8) reads outputs as logits
    return torch.softmax(outputs, dim=-1)


def summarize(outputs: dict[str, torch.Tensor], data: dict[str, torch.Tensor], spec: ModelSpec,
              member: int) -> tuple[dict[str, float], np.ndarray]:
    """Final metrics of one member, and its test-set class probabilities (N, 10)."""
    row = {}
    for split in ("train", "test"):
        out, labels = outputs[split][member], data[f"{split}_labels"]
        row[f"{split}_accuracy"] = (out.argmax(-1) == labels).float().mean().item()
        row[f"{split}_loss"] = loss_fn(out, labels, spec.loss).item()
    probs = probabilities(outputs["test"][member], spec).double().numpy()
    return row, probs.astype(np.float32)
