"""A training job's folder: the files it holds, and what became of the job (trained, or
failed and why).

A training job writes its files (MODEL_FILES) into one folder, `outcome.json` last. Normally a
failure propagates: the job fails, Snakemake removes the folder, and a rerun redoes the job.
Under `snakemake --keep-going` the workflow asks the job instead to *record* a failure it can
see (an exception such as running out of memory, or the SIGTERM that scancel and a SLURM
time limit send before killing), so that the other models' results still make a report that
marks the missing model and says why. A job killed without warning (SIGKILL, node loss)
cannot record anything; it stays a failed job that a rerun redoes.
"""

from __future__ import annotations

import os
import signal
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import pandas as pd

from mnist_study import files

# The files of one trained model, in its folder results/models/<id>/.
# No test metric among them: the analysis computes those from test_probs (evaluate.metrics).
MODEL_FILES = {"weights": "weights.pt", "history_epoch": "history_epoch.csv",
               "history_step": "history_step.csv", "test_probs": "test_probs.npz",
               "run": "run.json", "training": "training.csv"}
OUTCOME_FILE = "outcome.json"
# Set (to "1") by the workflow when it runs with --keep-going; read by the training jobs,
# which may run on other hosts (SLURM exports the submitting environment to them).
RECORD_FAILURES_ENV = "MNIST_STUDY_RECORD_FAILURES"


class Terminated(Exception):
    """The job was sent SIGTERM: scancel, a scheduler time limit, or a shutdown."""


def _raise_terminated(signum, frame):
    raise Terminated(f"terminated by {signal.Signals(signum).name} "
                     "(scancel, a scheduler time limit or a shutdown)")


def model_files(folder: str | Path) -> dict[str, Path]:
    return {key: Path(folder) / name for key, name in MODEL_FILES.items()}


def record_failures_requested() -> bool:
    return os.environ.get(RECORD_FAILURES_ENV) == "1"


@contextmanager
def recorded_outcome(folder: str | Path, record_failures: bool, log_path: str | Path,
                     log: Callable[[str], None] = print) -> Iterator[Path]:
    """Run a training job's body; write `folder/outcome.json` saying how it ended.

    On success the outcome says "trained". On an exception (or SIGTERM) with
    `record_failures`, the folder's partial files are removed, the outcome says "failed" with
    the reason and the log to read, and the exception is swallowed so the workflow goes on.
    Without `record_failures` the exception propagates and no outcome is written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield folder
    except Exception as error:
        if not record_failures:
            raise
        traceback.print_exc()  # into the job's log: the full story behind the one-line reason
        for partial in folder.iterdir():
            partial.unlink()  # a failed job's files are not results
        reason = f"{type(error).__name__}: {error}"
        log(f"FAILED, recorded for the report (--keep-going): {reason}")
        files.write_json({"status": "failed", "reason": reason, "log": str(log_path)},
                      folder / OUTCOME_FILE)
    else:
        files.write_json({"status": "trained"}, folder / OUTCOME_FILE)
    finally:
        signal.signal(signal.SIGTERM, previous)


class ModelNotTrained(RuntimeError):
    """A job that reads one model was given a model whose training failed."""


def trained_model_file(folder: str | Path, name: str) -> Path:
    """The file `name` (a key of MODEL_FILES) of the model trained into `folder`. A job that
    reads one model takes its folder, so that it reruns when that model retrains and never
    when another does; a model whose training failed (recorded under --keep-going) is refused
    with its reason and what to do."""
    folder = Path(folder)
    outcome = files.read_json(folder / OUTCOME_FILE)
    if outcome["status"] != "trained":
        raise ModelNotTrained(
            f"model {folder.name!r} did not train ({outcome.get('reason', 'no reason recorded')}; "
            f"log: {outcome.get('log', '')}), but this job needs it: choose another model in the "
            f"config (inspect.model), or fix the failure and rerun with "
            f"--forcerun {folder.as_posix()}")
    return folder / MODEL_FILES[name]


def collect_outcomes(folders: dict[str, str | Path]) -> pd.DataFrame:
    """Model id -> training folder, to one row per model: model, status, reason, log."""
    rows = []
    for model, folder in folders.items():
        path = Path(folder) / OUTCOME_FILE
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: the training job of model {model!r} did "
                                    "not finish; rerun the workflow to redo it")
        outcome = files.read_json(path)
        rows.append({"model": model, "status": outcome["status"],
                     "reason": outcome.get("reason", ""), "log": outcome.get("log", "")})
    return pd.DataFrame(rows, columns=["model", "status", "reason", "log"])
