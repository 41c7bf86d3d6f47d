"""Results files: the same content gives the same bytes, whatever file name it is written to."""

import torch

from mnist_study import files


def test_the_same_weights_are_the_same_bytes_under_any_name(tmp_path):
    state = {"0.weight": torch.arange(12.0).reshape(3, 4), "0.bias": torch.zeros(3)}
    files.save_torch(state, tmp_path / "weights.pt")
    (tmp_path / "other").mkdir()
    files.save_torch(state, tmp_path / "other" / "renamed.pt")
    assert (tmp_path / "weights.pt").read_bytes() == (tmp_path / "other" / "renamed.pt").read_bytes()
    back = files.load_torch(tmp_path / "weights.pt")
    assert all(torch.equal(back[k], state[k]) for k in state)
    assert not list(tmp_path.glob(".*partial"))  # no temporary file left behind


def test_the_same_arrays_are_the_same_bytes_at_any_time(tmp_path, monkeypatch):
    import time

    import numpy as np

    arrays = {"images": np.arange(24, dtype=np.uint8).reshape(2, 3, 4), "labels": np.array([3, 7])}
    files.save_npz(tmp_path / "a.npz", **arrays)
    # a later clock: zip records stamped with the time would differ
    later = time.time() + 3600
    monkeypatch.setattr(time, "time", lambda: later)
    monkeypatch.setattr(time, "localtime", lambda *a: time.gmtime(later))
    files.save_npz(tmp_path / "b.npz", **arrays)
    files.write_npz(tmp_path / "c.npz", arrays, compress=False)
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    for name in ("a.npz", "c.npz"):
        with np.load(tmp_path / name) as back:
            assert all(np.array_equal(back[k], v) and back[k].dtype == v.dtype
                       for k, v in arrays.items())


def test_the_same_figure_is_the_same_bytes(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mnist_study.report.plots import save_pages

    def figure():
        fig, ax = plt.subplots(figsize=(4, 3))
        ax.plot([1, 2, 3], [3, 1, 2], label="loss")
        ax.set_xlabel("epoch")
        return fig

    # two clocks a day apart (matplotlib dates a PDF by SOURCE_DATE_EPOCH when it is set)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    save_pages([figure()], tmp_path / "a.pdf")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "86400")
    save_pages([figure()], tmp_path / "b.pdf")
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()
