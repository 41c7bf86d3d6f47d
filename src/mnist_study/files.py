"""Reading and writing results files. Writes are atomic (temporary file, then rename), so a
job killed mid-write never leaves a file that a rerun or a reader would trust."""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_csv(df: pd.DataFrame, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False)


def write_json(obj, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


# Columns that hold text a user wrote or that only looks like a number: a model id `nan`,
# `007` or `1e3`, a label `NA`, hidden sizes `300-100`. They come back exactly as written.
TEXT_COLUMNS = frozenset({"model", "label", "hidden", "status", "failure", "failure_log",
                          "reason", "log", "variant", "name", "family", "layers",
                          "architecture", "schedule", "literature_source",
                          "literature_cite"})


def read_table(path: str | Path) -> pd.DataFrame:
    """A CSV that write_csv wrote. The one reader of the workflow's tables: text columns
    (TEXT_COLUMNS) are strings with no missing-value guessing (pandas would read an id `nan`,
    `NA` or `null` as missing, `true` as a bool, `007` as 7); in every other column only an
    empty cell, which is how write_csv writes NaN, is missing."""
    columns = pd.read_csv(path, nrows=0).columns
    text = [c for c in columns if c in TEXT_COLUMNS]
    return pd.read_csv(path, dtype={c: str for c in text}, keep_default_na=False,
                       na_values={c: [""] for c in columns if c not in TEXT_COLUMNS})


def read_json(path: str | Path):
    return json.loads(Path(path).read_text())


# torch is imported where it is used: the workflow imports this package while it parses the
# Snakefile, and a no-op rerun should not pay for loading torch.
def save_torch(obj, path: str | Path) -> None:
    """torch.save, through memory: saved to a file, its zip archive names every record after
    that file, here the atomic write's random temporary name, so the same tensors gave other
    bytes on every run. From a buffer the records are always named `archive/...`."""
    import io

    import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buffer.getvalue())


def load_torch(path: str | Path):
    import torch

    return torch.load(path, map_location="cpu", weights_only=True)


# np.savez stamps each array's zip record with the current time: the same arrays saved twice
# were other bytes. Every record here carries this one date instead (zip's earliest).
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def write_npz(path: str | Path, arrays: dict[str, np.ndarray], compress: bool = True) -> None:
    """Arrays as an .npz that np.load reads, atomically; the same arrays give the same bytes."""
    import zipfile

    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", method, allowZip64=True) as archive:
        for name, array in arrays.items():
            record = zipfile.ZipInfo(f"{name}.npy", date_time=ZIP_DATE)
            record.compress_type = method
            with archive.open(record, "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.asanyarray(array), allow_pickle=False)


def save_npz(path: str | Path, **arrays: np.ndarray) -> None:
    write_npz(path, arrays)
