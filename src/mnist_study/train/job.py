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
from mnist_study.data import read_dataset
from mnist_study.spec import ModelSpec
from mnist_study.train.engine import Member, how_trained, train
from mnist_study.train.metrics import summarize


def train_and_save(spec: ModelSpec, members: list[Member], data_path: str | Path, out: dict,
                   log: Callable[[str], None] = print) -> pd.DataFrame:
    """Train; write out["metrics"], out["history_epoch"] and, where asked, out["history_step"],
    out["weights"], out["test_probs"], out["run"] (`how_trained`). Returns the metrics table."""
    data = read_dataset(data_path, as_torch=True)
    log(f"training {spec.architecture()} ({spec.n_parameters():,} parameters), "
        f"{len(members)} member(s), {len(data['train_labels']):,} samples, batch {spec.batch_size}, "
        f"{spec.epochs} epochs, {torch.get_num_threads()} torch threads")
    results, outputs = train(spec, members, data, log=log)
    rows, epochs, steps, probs = [], [], [], []
    for i, r in enumerate(results):
        key = {"seed": r.member.seed, "lr": r.member.lr}
        metrics, p = summarize(outputs, data, spec, i)
        if r.diverged_at_step is not None:
            # a diverged network has no accuracy (its argmax over NaN would read as ~10 %)
            metrics = {k: float("nan") for k in metrics}
        rows.append({**key, **metrics, "diverged": r.diverged_at_step is not None,
                     "diverged_at_epoch": r.diverged_at_epoch,
                     "diverged_at_step": r.diverged_at_step})
        epochs += [{**key, **e} for e in r.epochs]
        steps.append(pd.DataFrame({**key, "step": np.arange(1, len(r.step_loss) + 1),
                                   "loss": r.step_loss}))
        probs.append(p)
    table = pd.DataFrame(rows)
    files.write_csv(pd.DataFrame(epochs), out["history_epoch"])
    if "history_step" in out:
        files.write_csv(pd.concat(steps), out["history_step"])
    if "test_probs" in out:
        files.save_npz(out["test_probs"], probs=np.stack(probs), labels=data["test_labels"].numpy(),
                    seeds=np.array([m.seed for m in members]))
    if "weights" in out:
        files.save_torch({"spec": spec.to_dict(),
                       "members": {r.member.seed: r.state_dict for r in results}}, out["weights"])
    if "run" in out:
        files.write_json(how_trained(spec), out["run"])
    files.write_csv(table, out["metrics"])  # last: its presence means the job finished
    return table
