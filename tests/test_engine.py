"""The batched engine against the plain way: each member trained alone with nn.Linear layers and
torch.optim.Adam on the same batches must end with the same weights."""

from __future__ import annotations

import math

import pytest
import torch

from mnist_study.train.engine import (MLP, Member, StackedAdam, StackedMLP, batched_product,
                                epoch_order, fit_epoch, init_mlp, loss_fn, member_generators,
                                shares_batches, train)
from mnist_study.spec import N_INPUTS, ModelSpec

N_TRAIN, N_TEST = 256, 64


@pytest.fixture(scope="module")
def data() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(1234)
    return {"train_images": torch.randint(0, 256, (N_TRAIN, 28, 28), dtype=torch.uint8, generator=g),
            "train_labels": torch.randint(0, 10, (N_TRAIN,), generator=g),
            "test_images": torch.randint(0, 256, (N_TEST, 28, 28), dtype=torch.uint8, generator=g),
            "test_labels": torch.randint(0, 10, (N_TEST,), generator=g)}


def train_alone(spec: ModelSpec, member: Member, data: dict[str, torch.Tensor]) -> MLP:
    """The reference: one nn.Module, torch.optim.Adam, the member's own permutation."""
    x = data["train_images"].reshape(N_TRAIN, -1).float() / 255
    y = data["train_labels"]
    net = init_mlp(spec, member.seed)
    opt = torch.optim.Adam(net.parameters(), lr=member.lr, weight_decay=spec.weight_decay)
    gen = torch.Generator().manual_seed(member.seed)
    for _ in range(spec.epochs):
        order = torch.randperm(N_TRAIN, generator=gen)
        for s in range(math.ceil(N_TRAIN / spec.batch_size)):
            idx = order[s * spec.batch_size:(s + 1) * spec.batch_size]
            opt.zero_grad()
            loss_fn(net(x[idx]), y[idx], spec.loss).backward()
            opt.step()
    return net


def assert_members_match(spec: ModelSpec, members: list[Member], data) -> None:
    results, outputs = train(spec, members, data, log=lambda _: None)
    for i, (member, result) in enumerate(zip(members, results)):
        alone = train_alone(spec, member, data)
        ref = alone.state_dict()
        assert ref.keys() == result.state_dict.keys()
        for name, expected in ref.items():
            got = result.state_dict[name]
            rel = (got - expected).norm() / expected.norm()
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
def test_members_equal_training_alone(spec, data):
    # different seeds and learning rates: every member its own data order (batched matmuls)
    assert_members_match(spec, [Member(0, 1e-3), Member(7, 3e-3), Member(11, 1e-2)], data)


def test_members_split_between_threads_equal_training_alone(data, monkeypatch):
    # 3 members on 2 threads: batched_product splits each member's 64 rows in two
    monkeypatch.setattr(torch, "get_num_threads", lambda: 2)
    spec = ModelSpec(hidden=(64, 64), batch_size=48, epochs=2)
    assert_members_match(spec, [Member(0, 1e-3), Member(7, 3e-3), Member(11, 1e-2)], data)


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
def test_scan_row_members_equal_training_alone(hidden, data):
    # one seed, several learning rates: shared batches, the first layer as one wide matmul
    spec = ModelSpec(hidden=hidden, batch_size=48, epochs=2, weight_decay=1e-3)
    members = [Member(3, lr) for lr in (1e-4, 1e-3, 1e-2, 5e-2)]
    assert shares_batches(members)
    assert_members_match(spec, members, data)


def test_shared_and_separate_batches_give_the_same_result(data):
    # the wide-matmul path and the batched-matmul path are the same computation
    spec = ModelSpec(hidden=(16, 8), batch_size=32)
    members = [Member(5, 1e-3), Member(5, 1e-2)]
    x = data["train_images"].reshape(N_TRAIN, -1).float() / 255
    y = data["train_labels"]
    weights = []
    for shared in (True, False):
        net = StackedMLP(spec, members, torch.device("cpu"))
        opt = StackedAdam(net, [m.lr for m in members])
        order = epoch_order(member_generators(members), N_TRAIN, shared, torch.device("cpu"))
        fit_epoch(net, opt, spec, x, y, order)
        weights.append([p.detach().clone() for p in net.parameters()])
    for a, b in zip(*weights):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


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


def test_state_dict_loads_into_mlp(data):
    spec = ModelSpec(hidden=(12, 8), batch_size=64, epochs=1)
    results, outputs = train(spec, [Member(0, 1e-3), Member(1, 1e-3)], data, log=lambda _: None)
    net = MLP(spec)
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
