"""Test metrics come from the files a training job stores, computed by the analysis: the same
numbers training's own record gives for the same outputs, a diverged member without any, and
a loss defined as networks.loss_fn defines it for every loss a study can name."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from conftest import REPO

from mnist_study import files
from mnist_study.evaluate.metrics import COLUMNS, by_model, mean_loss, member_metrics
from mnist_study.networks import loss_fn
from mnist_study.spec import ModelSpec
from mnist_study.train.engine import Member
from mnist_study.train.job import train_and_save

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


def schema_losses() -> list[str]:
    model = yaml.safe_load(SCHEMA.read_text())["$defs"]["model_spec"]["properties"]
    return model["loss"]["enum"]


@pytest.mark.parametrize("kind", schema_losses())
@pytest.mark.parametrize("scale", [1.0, 1e4])  # ordinary logits, and saturated ones
def test_the_analysis_loss_is_the_loss_training_minimizes(kind, scale):
    rng = np.random.default_rng(0)
    outputs = rng.normal(size=(500, 10)) * scale
    if kind == "nll":  # read as log-probabilities, as a log_softmax output gives them
        outputs = torch.log_softmax(torch.from_numpy(outputs), -1).numpy()
    labels = rng.integers(0, 10, 500)
    expected = loss_fn(torch.from_numpy(outputs), torch.from_numpy(labels), kind).item()
    assert mean_loss(outputs, labels, kind) == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_an_unknown_loss_is_refused():
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        mean_loss(np.zeros((2, 10)), np.zeros(2, dtype=int), "hinge")


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict:
    """A job's files for two members with one seed (a scan row's shape): lr 1e-3 trains, lr
    1e36 overflows after one step (as in tests/test_engine.py)."""
    folder = tmp_path_factory.mktemp("job")
    g = torch.Generator().manual_seed(7)
    files.save_npz(folder / "data.npz",
                   train_images=torch.randint(0, 256, (256, 28, 28), dtype=torch.uint8,
                                              generator=g).numpy(),
                   train_labels=torch.randint(0, 10, (256,), generator=g).numpy(),
                   test_images=torch.randint(0, 256, (96, 28, 28), dtype=torch.uint8,
                                             generator=g).numpy(),
                   test_labels=torch.randint(0, 10, (96,), generator=g).numpy())
    out = {"training": folder / "training.csv", "history_epoch": folder / "epochs.csv",
           "test_probs": folder / "test_probs.npz"}
    spec = ModelSpec(hidden=(16,), batch_size=32, epochs=2, loss="cross_entropy")
    train_and_save(spec, [Member(0, 1e-3), Member(0, 1e36)], folder / "data.npz", out,
                   log=lambda _: None)
    return {k: files.read_table(v) for k, v in out.items() if v.suffix == ".csv"} | {
        "test": dict(np.load(out["test_probs"])), "loss": spec.loss}


def test_the_test_metrics_are_what_training_measured_on_the_same_outputs(trained):
    table = member_metrics(trained["training"], trained["test"], trained["loss"])
    assert list(table.columns) == COLUMNS and list(table["lr"]) == [1e-3, 1e36]
    # the last epoch's test outputs are the final ones: the engine's own per-epoch record of
    # them (torch, single precision) is what the analysis computes from the stored outputs
    last = trained["history_epoch"].query("epoch == 2").iloc[0]
    ok = table.iloc[0]
    assert ok["test_accuracy"] == pytest.approx(last["test_accuracy"], rel=1e-6)
    assert 0 < ok["test_accuracy"] <= 1
    assert ok["test_loss"] == pytest.approx(last["test_loss"], rel=1e-5)
    assert ok["train_accuracy"] == trained["training"].iloc[0]["train_accuracy"]


def test_a_diverged_member_has_no_test_metrics(trained):
    gone = member_metrics(trained["training"], trained["test"], trained["loss"]).iloc[1]
    assert gone["diverged"] and gone["diverged_at_step"] == 2
    assert math.isnan(gone["test_accuracy"]) and math.isnan(gone["test_loss"])


def test_outputs_of_another_run_of_the_job_are_refused(trained):
    other = {**trained["test"], "seeds": np.array([0, 1])}
    with pytest.raises(ValueError, match="different runs of the training job"):
        member_metrics(trained["training"], other, trained["loss"])


def test_by_model_keeps_every_model_and_its_members_in_order():
    table = pd.DataFrame({"model": ["b", "b", "nan", "a"], "seed": [1, 0, 0, 0]})
    split = by_model(table)
    assert list(split) == ["b", "nan", "a"]
    assert list(split["b"]["seed"]) == [1, 0] and "model" not in split["b"]
