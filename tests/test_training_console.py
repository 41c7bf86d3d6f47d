"""While long jobs run, the console shows their progress: each training job's per-epoch line,
prefixed with the job, on the stderr Snakemake shows, while its log file keeps everything."""

import os
import subprocess
import sys

import numpy as np
from conftest import REPO

from mnist_study import files

TRAIN_A_TINY_JOB = """
import sys
from pathlib import Path
from mnist_study.logs import echo_epochs, redirect_to_log
from mnist_study.spec import ModelSpec
from mnist_study.train.engine import Member
from mnist_study.train.job import train_and_save

folder = Path(sys.argv[1])
with redirect_to_log(folder / "job.log"):
    out = {"training": folder / "training.csv", "history_epoch": folder / "epochs.csv"}
    train_and_save(ModelSpec(hidden=(8,), batch_size=32, epochs=2),
                   [Member(0, 1e-3), Member(1, 1e-3)], folder / "data.npz", out,
                   log=echo_epochs("model tiny"))
"""


def test_a_training_job_s_epoch_lines_reach_the_console_and_its_log_keeps_everything(tmp_path):
    rng = np.random.default_rng(0)
    files.save_npz(tmp_path / "data.npz",
                   train_images=rng.integers(0, 256, (128, 28, 28), dtype=np.uint8),
                   train_labels=rng.integers(0, 10, 128),
                   test_images=rng.integers(0, 256, (64, 28, 28), dtype=np.uint8),
                   test_labels=rng.integers(0, 10, 64))
    done = subprocess.run([sys.executable, "-c", TRAIN_A_TINY_JOB, str(tmp_path)],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(REPO / "src")})
    log = (tmp_path / "job.log").read_text()
    assert done.returncode == 0, done.stderr[-3000:] + log[-3000:]
    epochs = [line for line in log.splitlines() if line.startswith("epoch ")]
    assert [line.split(" loss")[0] for line in epochs] == ["epoch 1/2", "epoch 2/2"]
    # on the console: each epoch's line, prefixed with the job, and nothing else of the log
    echoed = [line for line in done.stderr.splitlines() if line.startswith("model tiny: ")]
    assert echoed == [f"model tiny: {line}" for line in epochs]
    assert "members:" not in done.stderr and "[timing]" not in done.stderr
    # the log stays complete: each member's values per epoch, the job's FLOPs and its times
    assert log.count("  members: loss [") == 2
    assert "[timing] flops " in log and "[timing] work " in log
