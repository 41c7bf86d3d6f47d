"""The training path against the plain way, for every family: each member trained alone as one
nn.Module with torch.optim.Adam on the same batches must end with the same weights."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from mnist_study.families import FAMILIES, N_INPUTS
from mnist_study.families.cnn import ConvBlock
from mnist_study.networks import Network, init_network, loss_fn
from mnist_study.spec import ModelSpec
from mnist_study.train.engine import (
    Member,
    epoch_order,
    fit_epoch,
    make_trainer,
    member_generators,
    shares_batches,
    train,
)
from mnist_study.train.handwritten import batched_product

N_TRAIN, N_TEST = 256, 64


@pytest.fixture(scope="module")
def data() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(1234)
    return {"train_images": torch.randint(0, 256, (N_TRAIN, 28, 28), dtype=torch.uint8, generator=g),
            "train_labels": torch.randint(0, 10, (N_TRAIN,), generator=g),
            "test_images": torch.randint(0, 256, (N_TEST, 28, 28), dtype=torch.uint8, generator=g),
            "test_labels": torch.randint(0, 10, (N_TEST,), generator=g)}


def train_alone(spec: ModelSpec, member: Member, data: dict[str, torch.Tensor]) -> Network:
    """The reference: one nn.Module, torch.optim.Adam (and OneCycleLR where the spec says so),
    the member's own permutation."""
    n = len(data["train_labels"])
    x = data["train_images"].reshape(n, -1).float() / 255
    y = data["train_labels"]
    net = init_network(spec, member.seed)
    opt = torch.optim.Adam(net.parameters(), lr=member.lr, weight_decay=spec.weight_decay, fused=True)
    steps = math.ceil(n / spec.batch_size)
    schedule = (torch.optim.lr_scheduler.OneCycleLR(opt, member.lr, total_steps=spec.epochs * steps)
                if spec.schedule == "one_cycle" else None)
    gen = torch.Generator().manual_seed(member.seed)
    for _ in range(spec.epochs):
        order = torch.randperm(n, generator=gen)
        for s in range(steps):
            idx = order[s * spec.batch_size:(s + 1) * spec.batch_size]
            opt.zero_grad()
            loss_fn(net(x[idx]), y[idx], spec.loss).backward()
            opt.step()
            if schedule is not None:
                schedule.step()
    return net.eval()


MLP_PATHS = ["handwritten", "general"]  # an mlp the hand-written engine supports: both ways


def assert_members_match(spec: ModelSpec, members: list[Member], data, path="auto") -> None:
    results, outputs = train(spec, members, data, log=lambda _: None, path=path)
    for i, (member, result) in enumerate(zip(members, results)):
        alone = train_alone(spec, member, data)
        ref = alone.state_dict()
        assert ref.keys() == result.state_dict.keys()
        for name, expected in ref.items():
            got = result.state_dict[name]
            if not expected.is_floating_point():  # batch norm's count of batches
                assert torch.equal(got, expected), f"member {i} ({member}) {name}"
                continue
            rel = (got - expected).norm() / expected.norm().clamp_min(1e-12)
            assert rel < 1e-5, f"member {i} ({member}) {name}: relative difference {rel:.2e}"
        with torch.no_grad():
            x_test = data["test_images"].reshape(N_TEST, -1).float() / 255
            torch.testing.assert_close(outputs["test"][i], alone(x_test), rtol=1e-4, atol=1e-5)


# batch 48 does not divide 256: the last, shorter batch of each epoch is covered too
@pytest.mark.parametrize("spec", [
    ModelSpec(hidden=(32,), batch_size=48, epochs=2),
    ModelSpec(hidden=(32,), batch_size=48, epochs=2, weight_decay=1e-2),
    ModelSpec(hidden=(24, 16, 12), batch_size=32, epochs=2, output_activation="sigmoid"),
    ModelSpec(hidden=(20,), batch_size=64, epochs=2, activation="tanh", loss="mse"),
    # the seed's failed losses, as its author most likely wrote them and done right
    ModelSpec(hidden=(20,), batch_size=64, epochs=2, loss="nll"),  # nll on raw scores
    ModelSpec(hidden=(20,), batch_size=64, epochs=2, output_activation="softmax", loss="mse"),
    ModelSpec(hidden=(20, 10), batch_size=64, epochs=2, activation="sigmoid",
              output_activation="log_softmax", loss="nll"),
], ids=["one-hidden", "weight-decay", "sigmoid-3-hidden", "tanh-mse", "raw-score-nll",
        "softmax-mse", "sigmoid-nll"])
@pytest.mark.parametrize("path", MLP_PATHS)
def test_members_equal_training_alone(spec, path, data):
    # different seeds and learning rates: every member its own data order (batched matmuls)
    assert_members_match(spec, [Member(0, 1e-3), Member(7, 3e-3), Member(11, 1e-2)], data, path)


SMALL_CONV = (ConvBlock(channels=4, kernel=5, pool=2), ConvBlock(channels=6, kernel=3, pool=2))


@pytest.mark.parametrize("spec", [
    ModelSpec(family="cnn", conv=SMALL_CONV, hidden=(16,), batch_size=48, epochs=2),
    # batch norm (running statistics in the state), padding, no dense hidden layer, a schedule
    ModelSpec(family="cnn", hidden=(), batch_size=64, epochs=2, schedule="one_cycle",
              conv=(ConvBlock(channels=4, kernel=5, padding=2, pool=2, batch_norm=True),
                    ConvBlock(channels=8, kernel=3, padding=1, pool=2, batch_norm=True))),
    ModelSpec(family="cnn", conv=SMALL_CONV, hidden=(12,), batch_size=64, epochs=2,
              activation="tanh", output_activation="log_softmax", loss="nll"),
    ModelSpec(hidden=(24, 12), batch_size=48, epochs=2, schedule="one_cycle"),
    ModelSpec(hidden=(24, 12), batch_size=48, epochs=2, output_activation="softmax", loss="mse"),
], ids=["cnn", "cnn-batch-norm-one-cycle", "cnn-tanh-nll", "mlp-one-cycle", "mlp-softmax-mse"])
def test_every_family_equals_training_alone(spec, data):
    assert_members_match(spec, [Member(0, 1e-3), Member(7, 3e-3), Member(11, 1e-2)], data)
    # 200 steps with one learning rate (a spec's seeds): the equivalence, within 1e-5
    long = dataclasses.replace(spec, epochs=50, batch_size=64)  # 4 steps an epoch
    assert_members_match(long, [Member(3, 2e-3), Member(4, 2e-3)], data)


@pytest.mark.parametrize("name", list(FAMILIES))
def test_each_registered_family_trains_its_members_as_each_would_alone(name, data):
    # every family the registry finds, a family added later included, through its example spec
    spec = dataclasses.replace(ModelSpec.from_dict({"family": name, **FAMILIES[name].example}),
                               batch_size=48, epochs=2)
    assert_members_match(spec, [Member(0, 1e-3), Member(7, 3e-3)], data)


@pytest.mark.parametrize("batch_norm", [False, True])
def test_relu_after_the_pooling_gives_the_textbook_order_bit_for_bit(batch_norm, data):
    # conv_block pools before a ReLU (faster): the output and every gradient must be those of
    # conv -> [batch norm] -> ReLU -> pool, exactly, ties and all-negative windows included
    conv = (ConvBlock(channels=4, kernel=3, padding=1, pool=2, batch_norm=batch_norm),
            ConvBlock(channels=6, kernel=3, pool=2, batch_norm=batch_norm))
    spec = ModelSpec(family="cnn", conv=conv, hidden=(8,), batch_size=32)
    net, textbook = init_network(spec, 0), init_network(spec, 0)
    for block in textbook.features:
        kinds = [type(layer) for layer in block]
        i, j = kinds.index(torch.nn.MaxPool2d), kinds.index(torch.nn.ReLU)
        assert i == j - 1, "the pooling comes just before the ReLU"
        block[i], block[j] = block[j], block[i]
    x = data["train_images"][:32].reshape(32, -1).float() / 255
    x[:4] = 0  # whole windows of equal values: ties
    outputs = []
    for model in (net, textbook):
        out = model(x)
        out.square().sum().backward()
        outputs.append((out, {n: p.grad for n, p in model.named_parameters()}))
    (out, grads), (ref_out, ref_grads) = outputs
    assert torch.equal(out, ref_out)
    assert grads.keys() == ref_grads.keys()
    for name in grads:
        assert torch.equal(grads[name], ref_grads[name]), name


def test_a_job_records_the_device_threads_and_trainer_it_trained_with(data, tmp_path,
                                                                      monkeypatch):
    from mnist_study import files
    from mnist_study.train.job import train_and_save

    monkeypatch.setattr(torch, "get_num_threads", lambda: 3)  # as a job's threads: would set it
    np_data = {k: v.numpy() for k, v in data.items()}
    files.save_npz(tmp_path / "data.npz", **np_data)
    for spec, trainer in [(ModelSpec(hidden=(8,), batch_size=64), "handwritten"),
                          (ModelSpec(hidden=(8,), batch_size=64, dropout=0.5), "general"),
                          (ModelSpec(family="cnn", conv=SMALL_CONV, hidden=(), batch_size=64),
                           "general")]:
        out = {"training": tmp_path / "training.csv", "history_epoch": tmp_path / "epochs.csv",
               "run": tmp_path / "run.json"}
        train_and_save(dataclasses.replace(spec, epochs=1), [Member(0, 1e-3)],
                       tmp_path / "data.npz", out, log=lambda _: None)
        device = torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"
        assert files.read_json(out["run"]) == {
            "device": device, "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "torch_threads": 3, "trainer": trainer, "precision": "fp32"}


def test_dropout_is_on_in_training_and_off_in_evaluation(data):
    spec = ModelSpec(hidden=(64,), dropout=0.5, batch_size=64, epochs=1)
    results, outputs = train(spec, [Member(0, 1e-3)], data, log=lambda _: None)
    net = Network(spec)
    net.load_state_dict(results[0].state_dict)
    x = data["test_images"].reshape(N_TEST, -1).float() / 255
    with torch.no_grad():
        torch.testing.assert_close(net.eval()(x), outputs["test"][0], rtol=1e-5, atol=1e-6)
        net.train()
        assert not torch.allclose(net(x), net(x))  # masks differ from call to call


def test_members_split_between_threads_equal_training_alone(data, monkeypatch):
    # 3 members on 2 threads: batched_product splits each member's 64 rows in two
    monkeypatch.setattr(torch, "get_num_threads", lambda: 2)
    spec = ModelSpec(hidden=(64, 64), batch_size=48, epochs=2)
    assert_members_match(spec, [Member(0, 1e-3), Member(7, 3e-3), Member(11, 1e-2)], data,
                         "handwritten")


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_batched_product_is_the_batched_matmul(threads, monkeypatch):
    monkeypatch.setattr(torch, "get_num_threads", lambda: threads)
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(5, 128, 30, generator=g), torch.randn(5, 30, 7, generator=g)
    bias = torch.randn(5, 128, 1, generator=g)
    torch.testing.assert_close(batched_product(a, b), torch.bmm(a, b))
    out = torch.empty(5, 128, 7)
    result = batched_product(a, b.transpose(1, 2).contiguous().transpose(1, 2), bias, out=out)
    torch.testing.assert_close(out, torch.baddbmm(bias, a, b))
    assert result.data_ptr() == out.data_ptr()


@pytest.mark.parametrize("hidden", [(32,), (24, 16)])
@pytest.mark.parametrize("path", MLP_PATHS)
def test_scan_row_members_equal_training_alone(hidden, path, data):
    # one seed, several learning rates: shared batches, the first layer as one wide matmul
    spec = ModelSpec(hidden=hidden, batch_size=48, epochs=2, weight_decay=1e-3)
    members = [Member(3, lr) for lr in (1e-4, 1e-3, 1e-2, 5e-2)]
    assert shares_batches(members)
    assert_members_match(spec, members, data, path)


@pytest.mark.parametrize("path", MLP_PATHS)
def test_shared_and_separate_batches_give_the_same_result(path, data):
    # the wide-matmul path and the batched-matmul path are the same computation
    spec = ModelSpec(hidden=(16, 8), batch_size=32)
    members = [Member(5, 1e-3), Member(5, 1e-2)]
    n = len(data["train_labels"])
    x = data["train_images"].reshape(n, -1).float() / 255
    y = data["train_labels"]
    weights = []
    for shared in (True, False):
        trainer = make_trainer(spec, members, torch.device("cpu"), total_steps=8, path=path)
        order = epoch_order(member_generators(members), N_TRAIN, shared, torch.device("cpu"))
        fit_epoch(trainer, spec, x, y, order)
        weights.append([trainer.member_state_dict(m) for m in range(len(members))])
    for a, b in zip(*weights):
        for name in a:
            torch.testing.assert_close(a[name], b[name], rtol=1e-5, atol=1e-6)


def test_same_spec_and_seed_twice_gives_identical_metrics(data):
    spec = ModelSpec(hidden=(16,), batch_size=32, epochs=2)
    members = [Member(0, 1e-3), Member(1, 1e-3)]
    first, _ = train(spec, members, data, log=lambda _: None)
    second, _ = train(spec, members, data, log=lambda _: None)
    for a, b in zip(first, second):
        assert a.epochs == b.epochs
        assert a.step_loss == b.step_loss
        for name in a.state_dict:
            assert torch.equal(a.state_dict[name], b.state_dict[name])


def test_data_order_of_a_member_does_not_depend_on_the_others():
    n = 100
    alone = epoch_order(member_generators([Member(4, 1e-3)]), n, False, torch.device("cpu"))
    beside = epoch_order(member_generators([Member(9, 1e-3), Member(4, 1e-2), Member(2, 1e-3)]),
                         n, False, torch.device("cpu"))
    assert torch.equal(beside[1], alone[0])
    assert not torch.equal(beside[0], beside[1])
    # and in the shared case, the one order is the one each member would draw alone
    shared = epoch_order(member_generators([Member(4, 1e-3), Member(4, 1e-1)]), n, True,
                         torch.device("cpu"))
    assert torch.equal(shared, alone[0])


def test_member_result_does_not_depend_on_the_others(data):
    spec = ModelSpec(hidden=(16,), batch_size=32, epochs=1)
    alone, _ = train(spec, [Member(4, 2e-3)], data, log=lambda _: None)
    beside, _ = train(spec, [Member(9, 1e-2), Member(4, 2e-3)], data, log=lambda _: None)
    for name, w in alone[0].state_dict.items():
        torch.testing.assert_close(beside[1].state_dict[name], w, rtol=1e-5, atol=1e-7)
    assert beside[1].epochs[0]["train_accuracy"] == pytest.approx(alone[0].epochs[0]["train_accuracy"])


def test_state_dict_loads_into_network(data):
    spec = ModelSpec(hidden=(12, 8), batch_size=64, epochs=1)
    results, outputs = train(spec, [Member(0, 1e-3), Member(1, 1e-3)], data, log=lambda _: None)
    net = Network(spec).eval()
    net.load_state_dict(results[1].state_dict)
    x_test = data["test_images"].reshape(N_TEST, N_INPUTS).float() / 255
    with torch.no_grad():
        torch.testing.assert_close(net(x_test), outputs["test"][1], rtol=1e-5, atol=1e-6)


def test_divergence_is_recorded_and_stays_in_its_member(data):
    # lr 1e36 overflows the logits after one step: NaN loss from step 2 on
    spec = ModelSpec(hidden=(16,), batch_size=32, epochs=1)
    results, _ = train(spec, [Member(0, 1e-3), Member(0, 1e36)], data, log=lambda _: None)
    assert results[1].diverged_at_step == 2
    assert results[0].diverged_at_step is None
    assert all(math.isfinite(v) for v in results[0].step_loss)
    # the epoch history gives the diverged member no accuracy (not the ~10 % of an argmax over NaN)
    epoch_ok, epoch_nan = results[0].epochs[0], results[1].epochs[0]
    assert 0 < epoch_ok["train_accuracy"] <= 1 and 0 < epoch_ok["test_accuracy"] <= 1
    assert math.isnan(epoch_nan["train_accuracy"]) and math.isnan(epoch_nan["test_accuracy"])


def test_a_validating_job_trains_on_the_rest_and_reads_the_held_out_images_each_epoch(
        data, tmp_path):
    """validation: true trains exactly as training alone on the images not held out, records
    each epoch's validation loss and accuracy, and stores the final validation outputs beside
    the test set's."""
    import numpy as np

    from mnist_study import files
    from mnist_study.data import validation_index
    from mnist_study.train.job import train_and_save

    held = validation_index(N_TRAIN, 56, seed=0)
    np_data = {k: v.numpy() for k, v in data.items()}
    files.save_npz(tmp_path / "data.npz", **np_data, validation_index=held)
    spec = ModelSpec(hidden=(16,), batch_size=50, epochs=2, validation=True, seeds=(0, 1))
    out = {"training": tmp_path / "training.csv", "history_epoch": tmp_path / "epochs.csv",
           "test_probs": tmp_path / "probs.npz"}
    train_and_save(spec, [Member(0, 1e-3), Member(1, 1e-3)], tmp_path / "data.npz", out,
                   log=lambda _: None)
    keep = np.setdiff1d(np.arange(N_TRAIN), held)
    rest = {**data, "train_images": data["train_images"][keep], "train_labels": data["train_labels"][keep]}
    x_val = data["train_images"][held].reshape(len(held), -1).float() / 255
    stored = np.load(out["test_probs"])
    epochs = files.read_table(out["history_epoch"])
    for i, member in enumerate([Member(0, 1e-3), Member(1, 1e-3)]):
        # the reference trains on the 200 images left, as the job should have
        alone = train_alone(spec, member, rest)
        with torch.no_grad():
            expected = alone(x_val).numpy()
        np.testing.assert_allclose(stored["val_outputs"][i], expected, rtol=1e-4, atol=1e-5)
        last = epochs[(epochs.seed == member.seed) & (epochs.epoch == 2)].iloc[0]
        val_labels = data["train_labels"][held].numpy()
        assert last.val_accuracy == pytest.approx((expected.argmax(1) == val_labels).mean())
    assert np.array_equal(stored["val_labels"], data["train_labels"][held].numpy())
    assert {"val_loss", "val_accuracy", "test_loss", "test_accuracy"} <= set(epochs.columns)

