"""MNIST provisioning: pinned checksums, clear errors, nothing half-written."""

import shutil

import numpy as np
import pytest

from mnist_study.data import (
    LABEL_COUNTS,
    RAW_FILES,
    DataError,
    load_arrays,
    provision_raw,
    read_dataset,
    save_dataset,
)

NAMES = list(RAW_FILES)


def copy_raw(src, dst):
    dst.mkdir(parents=True)
    for name in NAMES:
        shutil.copyfile(src / name, dst / name)
    return dst


def test_existing_copy_is_verified_and_installed(mnist_raw_dir, tmp_path):
    root = tmp_path / "root"
    provision_raw(root / "MNIST" / "raw", existing_copy=str(mnist_raw_dir), log=lambda m: None)
    data = load_arrays(root, train_samples=100)
    assert data["train_images"].shape == (100, 28, 28) and data["train_images"].dtype == np.uint8
    assert data["test_images"].shape == (10000, 28, 28)
    assert np.bincount(data["test_labels"]).tolist() == LABEL_COUNTS["test"]
    # the same pixels torchvision's own reader gives
    from torchvision.datasets import MNIST
    reference = MNIST(root, train=False, download=False)
    assert np.array_equal(data["test_images"], reference.data.numpy())
    assert np.array_equal(data["test_labels"], reference.targets.numpy())
    saved = tmp_path / "mnist.npz"
    save_dataset(data, saved)
    back = read_dataset(saved)
    assert all(np.array_equal(back[k], v) and back[k].dtype == v.dtype for k, v in data.items())


@pytest.mark.parametrize("damage", ["truncate", "alter", "remove"])
def test_bad_file_stops_with_its_name_and_writes_nothing(mnist_raw_dir, tmp_path, damage):
    copy = copy_raw(mnist_raw_dir, tmp_path / "copy")
    victim = copy / "t10k-labels-idx1-ubyte"
    if damage == "truncate":
        victim.write_bytes(victim.read_bytes()[:5000])
    elif damage == "alter":
        blob = bytearray(victim.read_bytes())
        blob[100] ^= 0xFF  # one label changed: same size, different digest
        victim.write_bytes(bytes(blob))
    else:
        victim.unlink()
    dest = tmp_path / "dest" / "MNIST" / "raw"
    with pytest.raises(DataError) as err:
        provision_raw(dest, existing_copy=str(copy), log=lambda m: None)
    assert "t10k-labels" in str(err.value)
    if damage == "remove":
        assert "Point it at a folder" in str(err.value)
    else:  # the user's own copy: never "delete it", but replace it or stop naming it
        assert "It is the copy mnist.existing_copy names" in str(err.value)
        assert "Delete it" not in str(err.value)
    # every file is checked before any is installed: no partial set a rerun would trust
    assert not dest.exists() or not any(dest.iterdir())


def test_loading_rechecks_files(mnist_raw_dir, tmp_path):
    root = tmp_path / "root"
    copy_raw(mnist_raw_dir, root / "MNIST" / "raw")
    with open(root / "MNIST" / "raw" / "train-images-idx3-ubyte", "r+b") as f:
        f.seek(1000)
        f.write(b"\x01\x02\x03")
    with pytest.raises(DataError, match="train-images-idx3-ubyte.*SHA-256"):
        load_arrays(root)
