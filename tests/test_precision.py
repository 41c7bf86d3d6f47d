"""The precision setting (issue 30): bf16-mixed computes the products in bfloat16 and keeps the
weights, Adam's state, the loss and the softmax in float32; a machine without native bfloat16
trains in fp32 and says so."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from mnist_study.families import FAMILIES
from mnist_study.spec import ModelSpec
from mnist_study.train import engine
from mnist_study.train.engine import Member, chosen_path, how_trained, make_trainer, train

N_TRAIN, N_TEST = 256, 128

# bfloat16 keeps 8 significant bits: a product's inputs are rounded by up to 2^-9 of their
# value, so a product summed in float32 lands within about 2^-8 of float32's. The first step
# starts from the same float32 weights, so its loss may differ by at most that much (a batch's
# mean averages the roundings: measured 1e-4 at most, 2-core AMD EPYC, every family). The
# weights stay float32, but every step's gradient differs by its rounding and training
# amplifies differences (as it does between two thread counts in float32), so later losses
# drift apart: each epoch's mean training and test loss, over 3 epochs of 8 steps, differed
# by at most 1.3 %. 2^-5 (3 %, 8 units in bfloat16's last place) bounds that with room for
# other CPUs' kernels; the step-by-step curves are noisier and not compared. Accuracy is not
# compared either: on small data, few epochs in, many outputs are near-ties.
FIRST_STEP_TOLERANCE = 2 ** -8
EPOCH_TOLERANCE = 2 ** -5


@pytest.fixture(scope="module")
def data() -> dict[str, torch.Tensor]:
    """Images that can be learnt in a few steps: one random pattern per class, half noise."""
    g = torch.Generator().manual_seed(1234)
    patterns = torch.rand(10, 28, 28, generator=g)
    labels = torch.randint(0, 10, (N_TRAIN + N_TEST,), generator=g)
    noise = torch.rand(N_TRAIN + N_TEST, 28, 28, generator=g)
    images = ((0.5 * patterns[labels] + 0.5 * noise) * 255).to(torch.uint8)
    return {"train_images": images[:N_TRAIN], "train_labels": labels[:N_TRAIN],
            "test_images": images[N_TRAIN:], "test_labels": labels[N_TRAIN:]}


def example(name: str, **changes) -> ModelSpec:
    return dataclasses.replace(ModelSpec.from_dict({"family": name, **FAMILIES[name].example}),
                               **changes)


@pytest.fixture
def native(monkeypatch):
    """bfloat16 as if native: the tests run on any CPU (elsewhere torch emulates it)."""
    monkeypatch.setattr(engine, "native_bf16", lambda device: True)


# every family on the path it trains on, and a plain mlp on both paths in bf16-mixed (fp32 on
# the path it trains on); two seeds, then one seed and two learning rates (a scan row's
# members share their batches: the hand-written engine's one wide first product)
@pytest.mark.parametrize("name, path", [(name, "auto") for name in FAMILIES]
                         + [("mlp", "handwritten"), ("mlp", "general")])
@pytest.mark.parametrize("members", [[Member(0, 1e-3), Member(1, 1e-3)],
                                     [Member(0, 1e-3), Member(0, 2e-3)]], ids=["seeds", "lrs"])
def test_bf16_mixed_training_follows_fp32(name, path, members, data, native):
    spec = example(name, batch_size=32, epochs=3)  # 24 steps
    runs = {"fp32": train(spec, members, data, log=lambda _: None),
            "bf16-mixed": train(dataclasses.replace(spec, precision="bf16-mixed"), members, data,
                                log=lambda _: None, path=path)}
    (fp32, _), (bf16, bf16_out) = runs["fp32"], runs["bf16-mixed"]
    for a, b in zip(fp32, bf16):
        la, lb = torch.tensor(a.step_loss), torch.tensor(b.step_loss)
        assert not torch.equal(la, lb), "bf16-mixed computed exactly what fp32 did"
        assert la[-1] < la[0] - 0.05, "the data must be learnt for the curves to mean anything"
        assert abs(lb[0] - la[0]) / la[0] < FIRST_STEP_TOLERANCE, a.member
        for ea, eb in zip(a.epochs, b.epochs, strict=True):
            for key in ("train_loss", "test_loss"):
                gap = abs(eb[key] - ea[key]) / ea[key]
                assert gap < EPOCH_TOLERANCE, f"{a.member} epoch {ea['epoch']} {key}: {gap:.4f}"
        # master weights: what the job saves is float32
        assert {v.dtype for v in b.state_dict.values() if v.is_floating_point()} == {torch.float32}
    assert bf16_out["test"].dtype == bf16_out["train"].dtype == torch.float32


@pytest.mark.parametrize("name", list(FAMILIES))
def test_the_general_path_in_bf16_mixed_keeps_weights_adam_loss_and_outputs_in_float32(name, data, native):
    spec = example(name, batch_size=32, precision="bf16-mixed", output_activation="softmax",
                   loss="mse")  # the softmax too
    trainer = make_trainer(spec, [Member(0, 1e-3)], torch.device("cpu"), 4, "general")
    x = data["train_images"][:32].reshape(32, -1).float() / 255
    y = data["train_labels"][:32].unsqueeze(0)
    for _ in range(2):
        losses, out = trainer.step(x, y)
        assert losses.dtype == out.dtype == torch.float32
    assert torch.allclose(out.sum(-1), torch.ones(1, 32))  # a softmax's outputs
    params = list(trainer.members.parameters())
    assert {p.dtype for p in params} == {p.grad.dtype for p in params} == {torch.float32}
    state = [s for p in params for s in trainer.optimizer.state[p].values()]
    assert state and {s.dtype for s in state if s.dim()} == {torch.float32}


def test_the_handwritten_engine_in_bf16_mixed_keeps_its_buffers_in_float32(data, native):
    spec = ModelSpec(hidden=(16, 8), batch_size=32, precision="bf16-mixed")
    trainer = make_trainer(spec, [Member(0, 1e-3), Member(1, 1e-3)], torch.device("cpu"), 4,
                           "handwritten")
    x = data["train_images"][:32].reshape(32, -1).float() / 255
    y = data["train_labels"][:32].expand(2, -1)
    before = trainer.net.flat.clone()
    losses, out = trainer.step(x, y)
    assert losses.dtype == out.dtype == torch.float32
    assert trainer.net.flat.dtype == trainer.net.flat_grad.dtype == torch.float32
    assert not torch.equal(trainer.net.flat, before)  # Adam stepped the float32 weights
    assert {s.dtype for s in trainer.opt.optimizer.state[trainer.net.flat].values()
            if s.dim()} == {torch.float32}
    assert {b.dtype for b in trainer.net.buffers.values()} == {torch.bfloat16}  # the products'


def test_each_precision_takes_the_handwritten_engine_where_it_supports_the_spec(native):
    # the measured rule (benchmarks/bf16.md): faster in both precisions
    for precision in engine.PRECISIONS:
        assert chosen_path(ModelSpec(hidden=(16,), precision=precision)) == "handwritten"
        assert chosen_path(ModelSpec(hidden=(16,), dropout=0.5, precision=precision)) == "general"


def test_without_native_bf16_a_job_trains_in_fp32_and_says_so(data, monkeypatch):
    # the detection: a CPU without AVX512-BF16 or AMX (and no GPU with bfloat16)
    for check in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"):
        monkeypatch.setattr(torch.cpu, check, lambda: False)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: False)
    spec = ModelSpec(hidden=(16,), batch_size=64, epochs=1)
    asked = dataclasses.replace(spec, precision="bf16-mixed")
    lines = []
    results, _ = train(asked, [Member(0, 1e-3)], data, log=lines.append)
    warnings = [line for line in lines if line.startswith("WARNING")]
    assert len(warnings) == 1 and "no native bfloat16" in warnings[0] and "fp32" in warnings[0]
    how = how_trained(asked)
    assert how["precision"] == "fp32" and how["precision_asked"] == "bf16-mixed"
    reference, _ = train(spec, [Member(0, 1e-3)], data, log=lines.append)
    assert results[0].step_loss == reference[0].step_loss  # fp32, bit for bit
    assert "precision_asked" not in how_trained(spec)


def test_an_unknown_precision_is_refused():
    with pytest.raises(ValueError, match="precision"):
        engine.training_precision(ModelSpec(precision="fp16"))


def test_the_methods_say_which_precision_the_jobs_trained_in():
    from mnist_study.report.document import precision_sentence

    def job(precision, asked=None):
        return {"precision": precision, "precision_asked": asked or precision}

    assert precision_sentence([]) == precision_sentence([job("")]) == ""
    fp32 = precision_sentence([job("fp32"), job("")])
    assert "computed in float32." in fp32 and "bfloat16" not in fp32
    mixed = precision_sentence([job("bf16-mixed"), job("bf16-mixed")])
    assert "in bfloat16" in mixed and "the others" not in mixed
    some = precision_sentence([job("bf16-mixed"), job("fp32"), job("fp32")])
    assert "in \\num{1} of the \\num{3} training jobs" in some and "float32 in the others" in some
    fell_back = precision_sentence([job("fp32", "bf16-mixed"), job("fp32")])
    assert "without native bfloat16, \\num{1} job that asked" in fell_back
    assert "in bfloat16," not in fell_back
    assert all(s.endswith("Evaluation ran in float32.") for s in (fp32, mixed, some, fell_back))
