"""One training job: train the members of a spec and write its results files.

Results are tidy tables with one row per member (`seed`, `lr` columns), so a spec with several
seeds stays one job with one set of outputs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import torch

from mnist_study import files
from mnist_study.data import read_dataset, training_split
from mnist_study.jobs import job_flops
from mnist_study.logs import log_training_flops
from mnist_study.spec import ModelSpec
from mnist_study.train.engine import Member, TrainResult, how_trained, train
from mnist_study.train.metrics import probabilities, split_metrics


def train_and_save(spec: ModelSpec, members: list[Member], data_path: str | Path, out: dict,
                   log: Callable[[str], None] = print) -> pd.DataFrame:
    """Train; write out["training"] (`training_record`), out["history_epoch"] and, where asked,
    out["history_step"], out["test_probs"] (every member's test outputs and probabilities, from
    which the analysis computes every test metric: mnist_study.evaluate.metrics; and the
    validation set's, `val_` before each name, where the spec validates),
    out["weights"], out["run"] (`how_trained`). Returns the training record."""
    data = {k: torch.from_numpy(v)
            for k, v in training_split(read_dataset(data_path), spec.validation).items()}
    held_out = (f" ({len(data['val_labels']):,} more held out to validate on)"
                if "val_labels" in data else "")
    log(f"training {spec.architecture()} ({spec.n_parameters():,} parameters), "
        f"{len(members)} member(s), {len(data['train_labels']):,} samples{held_out}, "
        f"batch {spec.batch_size}, "
        f"{spec.epochs} epochs, {torch.get_num_threads()} torch threads")
    log_training_flops(job_flops(spec, len(members), len(data["train_labels"])), log)
    results, outputs = train(spec, members, data, log=log)
    epochs, steps = [], []
    for r in results:
        key = {"seed": r.member.seed, "lr": r.member.lr}
        epochs += [{**key, **e} for e in r.epochs]
        steps.append(pd.DataFrame({**key, "step": np.arange(1, len(r.step_loss) + 1),
                                   "loss": r.step_loss}))
    table = training_record(results, outputs["train"], data["train_labels"], spec.loss)
    files.write_csv(pd.DataFrame(epochs), out["history_epoch"])
    if "history_step" in out:
        files.write_csv(pd.concat(steps), out["history_step"])
    if "test_probs" in out:
        # the validation set's outputs beside the test set's, where the model validates: what
        # is fitted on a model's answers (the calibration temperature) is fitted on those
        held_out = {"": ("test", "test_labels"), "val_": ("validation", "val_labels")}
        arrays = {}
        for prefix, (split, labels) in held_out.items():
            if split in outputs:
                arrays.update({f"{prefix}outputs": outputs[split].numpy(),
                               f"{prefix}probs": probabilities(outputs[split], spec).double().numpy()
                               .astype(np.float32),
                               f"{prefix}labels": data[labels].numpy()})
        files.save_npz(out["test_probs"], **arrays, seeds=np.array([m.seed for m in members]))
    if "weights" in out:
        files.save_torch({"spec": spec.to_dict(),
                       "members": {r.member.seed: r.state_dict for r in results}}, out["weights"])
    if "run" in out:
        files.write_json(how_trained(spec), out["run"])
    files.write_csv(table, out["training"])  # last: its presence means the job finished
    return table


def training_record(results: list[TrainResult], train_outputs: torch.Tensor,
                    train_labels: torch.Tensor, loss: str) -> pd.DataFrame:
    """One row per member, in training order: its final accuracy and loss on the training set
    (what training reached; the test set is the analysis's) and where it diverged."""
    rows = []
    for i, r in enumerate(results):
        fit = split_metrics(train_outputs[i], train_labels, loss)
        if r.diverged_at_step is not None:
            # a diverged network has no accuracy (its argmax over NaN would read as ~10 %)
            fit = {k: float("nan") for k in fit}
        rows.append({"seed": r.member.seed, "lr": r.member.lr, "train_accuracy": fit["accuracy"],
                     "train_loss": fit["loss"], "diverged": r.diverged_at_step is not None,
                     "diverged_at_epoch": r.diverged_at_epoch,
                     "diverged_at_step": r.diverged_at_step})
    return pd.DataFrame(rows)
