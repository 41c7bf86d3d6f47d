"""A training job's outcome: recorded failures under --keep-going, propagated ones otherwise."""

from __future__ import annotations

import os
import signal

import pandas as pd
import pytest
from conftest import as_read

from mnist_study import files
from mnist_study.evaluate.tables import model_table
from mnist_study.report.document import model_rows
from mnist_study.spec import resolve_models
from mnist_study.train.outcome import (
    OUTCOME_FILE,
    ModelNotTrained,
    collect_outcomes,
    recorded_outcome,
    trained_model_file,
)


def test_success_writes_trained_outcome(tmp_path):
    with recorded_outcome(tmp_path / "m", record_failures=True, log_path="l.log") as folder:
        (folder / "weights.pt").write_text("w")
    assert files.read_json(tmp_path / "m" / OUTCOME_FILE) == {"status": "trained"}
    assert (tmp_path / "m" / "weights.pt").exists()


def test_failure_is_recorded_with_reason_and_partial_files_removed(tmp_path):
    with recorded_outcome(tmp_path / "m", record_failures=True, log_path="logs/m.log") as folder:
        (folder / "weights.pt").write_text("half")
        raise MemoryError("can't allocate 3 TB")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == [OUTCOME_FILE]
    outcome = files.read_json(tmp_path / "m" / OUTCOME_FILE)
    assert outcome == {"status": "failed", "reason": "MemoryError: can't allocate 3 TB",
                       "log": "logs/m.log"}


def test_without_keep_going_the_failure_propagates_and_nothing_is_trusted(tmp_path):
    with pytest.raises(RuntimeError, match="boom"):
        with recorded_outcome(tmp_path / "m", record_failures=False, log_path="l.log"):
            raise RuntimeError("boom")
    assert not (tmp_path / "m" / OUTCOME_FILE).exists()


def test_sigterm_is_recorded_as_termination(tmp_path):
    before = signal.getsignal(signal.SIGTERM)
    with recorded_outcome(tmp_path / "m", record_failures=True, log_path="l.log"):
        os.kill(os.getpid(), signal.SIGTERM)  # what scancel and a time limit send first
        signal.pause()  # not reached: the handler raises
    outcome = files.read_json(tmp_path / "m" / OUTCOME_FILE)
    assert outcome["status"] == "failed"
    assert outcome["reason"].startswith("Terminated: terminated by SIGTERM")
    assert signal.getsignal(signal.SIGTERM) == before  # the job's own handler is restored


def test_collect_outcomes_names_a_job_that_never_finished(tmp_path):
    with recorded_outcome(tmp_path / "a", record_failures=True, log_path="a.log"):
        pass
    (tmp_path / "b").mkdir()
    with pytest.raises(FileNotFoundError, match="model 'b' did not finish"):
        collect_outcomes({"a": tmp_path / "a", "b": tmp_path / "b"})
    assert collect_outcomes({"a": tmp_path / "a"}).to_dict(orient="records") == [
        {"model": "a", "status": "trained", "reason": "", "log": ""}]


def test_a_job_that_reads_one_model_gets_its_file_or_the_reason_it_has_none(tmp_path):
    good, bad = tmp_path / "results" / "models" / "ok", tmp_path / "results" / "models" / "big"
    for folder, outcome in ((good, {"status": "trained"}),
                            (bad, {"status": "failed", "reason": "MemoryError: 3.4 PB",
                                   "log": "logs/train_model/big.log"})):
        folder.mkdir(parents=True)
        files.write_json(outcome, folder / OUTCOME_FILE)
    assert trained_model_file(good, "weights") == good / "weights.pt"
    with pytest.raises(ModelNotTrained) as err:
        trained_model_file(bad, "weights")
    message = str(err.value)
    assert message.startswith("model 'big' did not train (MemoryError: 3.4 PB")
    assert "logs/train_model/big.log" in message and "inspect.model" in message
    assert "--forcerun" in message and message.endswith("results/models/big")


def test_a_failed_model_keeps_its_table_row_marked_with_the_reason():
    models = resolve_models({"models": {"ok": {"table": 1, "published": {"test": 0.9}},
                                        "big": {"table": 1, "published": {"test": 0.9}}}})
    metrics = {"ok": pd.DataFrame({"seed": [0], "lr": [1e-3], "train_accuracy": [0.95],
                                   "test_accuracy": [0.91], "train_loss": [0.1],
                                   "test_loss": [0.2],
                                   "diverged": [False]})}
    table = model_table(models, metrics,
                        failures={"big": {"reason": "MemoryError: x", "log": "logs/big.log"}})
    big = table.set_index("model").loc["big"]
    assert big["status"] == "failed" and big["failure"] == "MemoryError: x"
    assert pd.isna(big["test_accuracy_mean"]) and pd.isna(big["test_run_low"])
    rows = {r["model"]: r for r in model_rows(table, {"models": {}}, n_test=10000)}
    assert rows["big"]["test"] == "failed" and rows["big"]["failed"]
    assert rows["big"]["log"] == "logs/big.log"
    assert as_read(rows["ok"]["test"]) == "0.910" and not rows["ok"]["failed"]
    with pytest.raises(KeyError, match="neither metrics nor a recorded failure"):
        model_table(models, metrics)
