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


def test_validation_images_are_a_fixed_draw_of_their_own_seed():
    from mnist_study.data import validation_index

    held = validation_index(1000, 100, seed=0)
    assert len(held) == len(set(held.tolist())) == 100 and held.min() >= 0 and held.max() < 1000
    assert np.array_equal(held, validation_index(1000, 100, seed=0))  # the seed fixes it
    assert not np.array_equal(held, validation_index(1000, 100, seed=1))
    assert len(validation_index(1000, 0, seed=0)) == 0


@pytest.mark.parametrize("n_validation", [1000, 1001, -1])
def test_a_validation_set_that_leaves_nothing_to_train_on_is_refused_by_its_key(n_validation):
    from mnist_study.data import validation_index

    with pytest.raises(DataError, match=r"mnist\.validation_images"):
        validation_index(1000, n_validation, seed=0)


def test_a_validating_model_never_trains_or_tests_on_its_validation_images():
    from mnist_study.data import training_split, validation_index

    rng = np.random.default_rng(0)
    # every image distinct (its index written into its pixels), so identity can be checked
    train = np.arange(500, dtype=np.int64)
    data = {"train_images": train, "train_labels": rng.integers(0, 10, 500),
            "test_images": np.arange(500, 600), "test_labels": rng.integers(0, 10, 100),
            "validation_index": validation_index(500, 50, seed=3)}
    split = training_split(data, validation=True)
    assert len(split["val_images"]) == 50 and len(split["train_images"]) == 450
    assert not set(split["val_images"].tolist()) & set(split["train_images"].tolist())
    assert not set(split["val_images"].tolist()) & set(data["test_images"].tolist())
    assert sorted([*split["val_images"].tolist(), *split["train_images"].tolist()]) == train.tolist()
    assert np.array_equal(split["val_labels"], data["train_labels"][data["validation_index"]])
    assert np.array_equal(split["test_images"], data["test_images"])
    # the seed's protocol: every training image, no validation set
    whole = training_split(data, validation=False)
    assert np.array_equal(whole["train_images"], train) and "val_images" not in whole
    assert "validation_index" not in whole


def test_a_model_that_validates_on_no_images_is_refused_by_its_key():
    from mnist_study.data import training_split

    data = {"train_images": np.zeros((10, 2)), "train_labels": np.zeros(10, int),
            "validation_index": np.array([], dtype=np.int64)}
    with pytest.raises(DataError, match=r"mnist\.validation_images is 0"):
        training_split(data, validation=True)
    assert len(training_split(data, validation=False)["train_images"]) == 10
