"""Metrics of a trained model from its outputs; ROC AUC through scikit-learn."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import label_binarize

from .engine import loss_fn
from .spec import N_CLASSES, ModelSpec


def probabilities(outputs: torch.Tensor, spec: ModelSpec) -> torch.Tensor:
    """Class probabilities from the network's outputs, as its loss reads them."""
    if spec.output_activation == "softmax":
        return outputs
    if spec.output_activation == "log_softmax":
        return outputs.exp()
    # cross_entropy (and the seed's sigmoid-then-cross-entropy model 8) reads outputs as logits
    return torch.softmax(outputs, dim=-1)


def roc_aucs(labels: np.ndarray, probs: np.ndarray) -> dict[str, float]:
    """One-vs-rest AUC per digit, plus micro and macro averages; NaN where undefined
    (a diverged model's non-finite probabilities, or a class absent from the labels)."""
    onehot = label_binarize(labels, classes=range(N_CLASSES))
    out = {}
    finite = np.isfinite(probs).all()
    for c in range(N_CLASSES):
        ok = finite and 0 < onehot[:, c].sum() < len(labels)
        out[f"auc_{c}"] = float(roc_auc_score(onehot[:, c], probs[:, c])) if ok else float("nan")
    out["auc_micro"] = float(roc_auc_score(onehot, probs, average="micro")) if finite else float("nan")
    per_class = [out[f"auc_{c}"] for c in range(N_CLASSES)]
    out["auc_macro"] = float(np.mean(per_class))  # NaN if any class is undefined
    return out


def summarize(outputs: dict[str, torch.Tensor], data: dict[str, torch.Tensor], spec: ModelSpec,
              member: int) -> tuple[dict[str, float], np.ndarray]:
    """Final metrics of one member, and its test-set class probabilities (N, 10)."""
    row = {}
    for split in ("train", "test"):
        out, labels = outputs[split][member], data[f"{split}_labels"]
        row[f"{split}_accuracy"] = (out.argmax(-1) == labels).float().mean().item()
        row[f"{split}_loss"] = loss_fn(out, labels, spec.loss).item()
    probs = probabilities(outputs["test"][member], spec).double().numpy()
    row.update(roc_aucs(data["test_labels"].numpy(), probs))
    return row, probs.astype(np.float32)
