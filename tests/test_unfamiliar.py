"""Unfamiliar images: MNIST-style preprocessing of any file, and graceful failure."""

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from mnist_study.inspection import unfamiliar as u


def disc(h=60, w=90, dark_on_light=True):
    yy, xx = np.mgrid[:h, :w]
    ink = ((yy - h / 2) ** 2 / (h / 3) ** 2 + (xx - w / 3) ** 2 / (w / 5) ** 2) < 1
    return np.where(ink, 0.0, 1.0) if dark_on_light else ink.astype(float)


def check_mnist_like(x):
    assert x.shape == (28, 28) and x.dtype == np.float32
    assert x.min() == 0 and x.max() == pytest.approx(1, abs=1e-6)
    rows, cols = np.nonzero(x > 0)
    assert rows.max() - rows.min() + 1 <= 21 and cols.max() - cols.min() + 1 <= 21  # 20 box (+AA)
    com = np.array(ndimage.center_of_mass(x))
    assert np.abs(com - 13.5).max() <= 1.0
    assert x[0].sum() == x[-1].sum() == x[:, 0].sum() == x[:, -1].sum() == 0


@pytest.mark.parametrize("shape", [(60, 90), (300, 40), (7, 7), (1000, 1000)])
def test_any_size_becomes_a_centred_mnist_input(shape):
    check_mnist_like(u.mnist_like(disc(*shape)))


def test_dark_ink_on_paper_is_inverted_and_matches_bright_ink():
    a, b = u.mnist_like(disc(dark_on_light=True)), u.mnist_like(disc(dark_on_light=False))
    np.testing.assert_allclose(a, b, atol=1e-6)
    assert a[14, 14] > 0.5  # the ink is the bright value


def test_aspect_ratio_is_kept():
    x = u.mnist_like(disc(40, 200))  # 5:1 ellipse-ish blob, wide
    rows, cols = np.nonzero(x > 0.5)
    assert (cols.max() - cols.min()) > 2 * (rows.max() - rows.min())


def save(tmp_path, name, im):
    path = tmp_path / name
    im.save(path)
    return path


@pytest.mark.parametrize("name,make", [
    ("gray.png", lambda a: Image.fromarray((a * 255).astype(np.uint8))),
    ("deep16.png", lambda a: Image.fromarray((a * 65535).astype(np.uint16))),
    ("deep16.tif", lambda a: Image.fromarray((a * 65535).astype(np.uint16))),
    ("rgb.jpg", lambda a: Image.fromarray((np.stack([a] * 3, -1) * 255).astype(np.uint8))),
    ("palette.gif", lambda a: Image.fromarray((a * 255).astype(np.uint8)).convert("P")),
    ("bilevel.png", lambda a: Image.fromarray(a > 0.5)),
    ("rgba.png", lambda a: Image.fromarray(np.dstack([np.zeros_like(a)] * 3 + [1 - a]).astype(np.uint8) * 255,
                                           "RGBA")),
])
def test_file_modes_give_the_same_input(tmp_path, name, make):
    # the RGBA case: black ink, transparent paper -> shown over white like the others
    shape = disc()
    x = u.read_image(save(tmp_path, name, make(shape))).input
    check_mnist_like(x)
    reference = u.mnist_like(shape)
    assert np.abs(x - reference).mean() < 0.03


def test_16_bit_depth_is_not_truncated(tmp_path):
    # all values above 255: an 8-bit conversion would clip them into one flat gray
    a = (disc() * 60000 + 2000).astype(np.uint16)
    x = u.read_image(save(tmp_path, "high.png", Image.fromarray(a))).input
    check_mnist_like(x)


def test_bad_files_are_named_and_left_out(tmp_path):
    save(tmp_path, "good.png", Image.fromarray((disc() * 255).astype(np.uint8)))
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not an image")
    buf = tmp_path / "full.png"
    Image.fromarray((np.random.default_rng(0).random((64, 64)) * 255).astype(np.uint8)).save(buf)
    (tmp_path / "truncated.png").write_bytes(buf.read_bytes()[:200])
    buf.unlink()
    messages = []
    with pytest.warns(UserWarning) as caught:
        images, skipped = u.read_folder(tmp_path, log=messages.append)
    assert [im.name for im in images] == ["good"]
    assert sorted(s["file"].split("/")[-1] for s in skipped) == ["empty.png", "notes.txt", "truncated.png"]
    assert any("empty" in str(w.message) for w in caught)
    assert any("truncated.png" in m for m in messages)


def test_empty_or_missing_folder_is_a_message_not_a_crash(tmp_path):
    messages = []
    assert u.read_folder(tmp_path, log=messages.append) == ([], [])
    assert "holds no usable image" in messages[-1]
    assert u.read_folder(tmp_path / "absent", log=messages.append) == ([], [])
    assert "built-in set only" in messages[-1]


def test_builtin_set_and_saved_bundle_round_trip(tmp_path):
    images = u.builtin_images()
    kinds = {im.source for im in images}
    assert {"drawn", "photo", "noise"} <= kinds and len(images) >= 10
    for im in images:
        assert im.input.shape == (28, 28) and 0 <= im.input.min() and im.input.max() <= 1
        assert im.original.ndim == 3 and im.original.dtype == np.uint8
    path = tmp_path / "images.npz"
    u.save_images(images, path, [{"file": "x.png", "reason": "empty"}])
    back = u.load_images(path)
    assert list(back["names"]) == [im.name for im in images]
    np.testing.assert_array_equal(back["inputs"][0], images[0].input)
    assert list(back["skipped"]) == ["x.png: empty"]


def test_max_softmax_auc():
    assert u.max_softmax_auc(np.array([0.9, 0.95]), np.array([0.2, 0.5]))["auc"] == 1.0
    assert u.max_softmax_auc(np.array([0.5, 0.5]), np.array([0.5]))["auc"] == 0.5
    assert np.isnan(u.max_softmax_auc(np.array([0.5, 0.5]), np.array([]))["auc"])


def test_a_diverged_member_has_no_accuracy_or_auc_on_other_images():
    import torch

    from mnist_study.networks import Network
    from mnist_study.spec import ModelSpec

    spec = ModelSpec(hidden=(8,), seeds=(0, 1))
    ok, diverged = Network(spec).eval(), Network(spec).eval()
    with torch.no_grad():
        for w in diverged.parameters():
            w.fill_(float("nan"))
    rng = np.random.default_rng(0)
    images, digits = rng.random((3, 28, 28), dtype=np.float32), rng.random((40, 28, 28), dtype=np.float32)
    labels = rng.integers(0, 10, 40)
    # the test images answered surely (0.99), which the untrained network never does for noise
    sure = np.full((50, 10), 0.01 / 9)
    sure[:, 0] = 0.99
    test_probs = {0: sure, 1: np.full((50, 10), np.nan)}
    noise = {"gaussian": rng.random((20, 28, 28), dtype=np.float32)}
    probs, rows = u.model_responses({0: ok, 1: diverged}, spec, images, digits, labels, test_probs,
                                    noise)
    answered, nan = rows
    with torch.no_grad():
        expected = (ok(torch.from_numpy(digits)).argmax(1).numpy() == labels).mean()
    assert answered["digits_accuracy"] == pytest.approx(expected)
    assert answered["digits_accuracy_image_half"] > 0
    # the detector's sign: every test image is surer than every noise image -> AUC 1; test
    # answers at the least sure a softmax can be (0.1 everywhere) rank below all noise -> 0
    assert answered["auc_gaussian"] == 1.0
    # beside the AUC, what explains it: each set's mean largest probability and output length
    with torch.no_grad():
        on_noise = ok(torch.from_numpy(noise["gaussian"]).reshape(20, -1))
    assert answered["msp_gaussian"] == pytest.approx(float(on_noise.softmax(1).max(1).values.mean()))
    assert answered["msp_mnist"] == pytest.approx(0.99)
    assert answered["norm_gaussian"] == pytest.approx(float(on_noise.double().norm(dim=1).mean()))
    assert "norm_mnist" not in answered  # no stored test outputs given
    stored = {0: np.tile([3.0, 4.0] + [0.0] * 8, (50, 1)), 1: np.full((50, 10), np.nan)}
    _, (unsure, _) = u.model_responses({0: ok, 1: diverged}, spec, images, digits, labels,
                                       {0: np.full((50, 10), 0.1), 1: test_probs[1]}, noise, stored)
    assert unsure["auc_gaussian"] == 0.0
    assert unsure["norm_mnist"] == pytest.approx(5.0)  # the stored test outputs' length
    # not the ~10 % that an argmax over NaN would give
    assert np.isnan(nan["digits_accuracy"]) and np.isnan(nan["digits_accuracy_image_half"])
    assert np.isnan(nan["auc_gaussian"]) and np.isnan(nan["auc_digits"])
    assert probs.shape == (2, 3, 10) and np.isnan(probs[1]).all()
