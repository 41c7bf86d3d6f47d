"""Training: the members of one job (the seeds of a spec, the learning rates of a scan row)
train side by side in one process, each from its own seed and on its own batches, so that its
result equals training it alone with `nn.Module` + `torch.optim.Adam` (tests/test_engine.py).

One loop (`train`) drives one of two trainers, each a `step` of every member:
- `AutogradMembers`, the general path: any family; each member is its family's `Network`
  (mnist_study.networks), autograd differentiates it, and one fused Adam steps every member's
  parameters in one call. Members take turns within a step: for CNNs on a 2-core CPU that
  was as fast as any batching (grouped convolutions broke even, `vmap` ran at 0.57x);
- `HandwrittenMLP` (mnist_study.train.handwritten), for the plain MLPs it can write out: their
  forward and backward over stacked flat buffers, kept because it measured faster for the seed
  study's MLPs (benchmarks/general-path.md).
A spec's `precision` bf16-mixed computes the products in bfloat16 where the device has native
bfloat16 (else it trains in fp32): the general path runs its forward under torch.autocast (CPU
or CUDA alike), the hand-written engine casts its weights for the step's products itself.
Data stay as tensors on the device; batches are index slices of each member's permutation.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Protocol

import numpy as np
import torch
from torch import nn

from mnist_study.networks import in_chunks, init_network, loss_fn, optimizer_step
from mnist_study.spec import ModelSpec
from mnist_study.train import handwritten

ADAM_BETAS, ADAM_EPS = handwritten.ADAM_BETAS, handwritten.ADAM_EPS
PATHS = ("auto", "general", "handwritten")  # auto: handwritten where it supports the spec
PRECISIONS = ("fp32", "bf16-mixed")


@dataclass(frozen=True)
class Member:
    """One model of a job: what differs between members."""
    seed: int
    lr: float


class Trainer(Protocol):
    n_members: int

    def step(self, xb: torch.Tensor, yb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One optimizer step of every member on its batch: xb (M, B, 784), or (B, 784) for
        all; yb (M, B). Returns the members' losses (M,) and outputs (M, B, 10), detached."""

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Every member's outputs in evaluation mode for the same x (N, 784): (M, N, 10)."""

    def member_state_dict(self, m: int) -> dict[str, torch.Tensor]:
        """Member m as a `Network` state_dict, CPU tensors."""


class AutogradMembers:
    """The general path: members of any family, each its own `Network`, through autograd and
    one torch.optim.Adam (a parameter group per member: its own learning rate; with schedule
    one_cycle, OneCycleLR takes each group up to its own)."""

    def __init__(self, spec: ModelSpec, members: list[Member], device: torch.device,
                 total_steps: int, precision: str = "fp32"):
        self.spec, self.n_members = spec, len(members)
        # bf16-mixed: the forward under autocast (its products and their backward in bfloat16;
        # the parameters, their gradients and Adam's state stay float32, and the network's
        # logits are float32, so the output activation and the loss are too)
        self.autocast = torch.autocast(device.type, torch.bfloat16,
                                       enabled=precision == "bf16-mixed")
        self.members = nn.ModuleList(init_network(spec, m.seed) for m in members).to(device)
        groups = [{"params": list(net.parameters()), "lr": m.lr}
                  for net, m in zip(self.members, members)]
        self.optimizer = torch.optim.Adam(groups, betas=ADAM_BETAS, eps=ADAM_EPS,
                                          weight_decay=spec.weight_decay,
                                          fused=handwritten.can_fuse(device))
        self.schedule = None
        if spec.schedule == "one_cycle":
            self.schedule = torch.optim.lr_scheduler.OneCycleLR(
                self.optimizer, max_lr=[m.lr for m in members], total_steps=total_steps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:  # one batch for every member
            return torch.stack([net(x) for net in self.members])
        return torch.stack([net(xm) for net, xm in zip(self.members, x)])

    def step(self, xb: torch.Tensor, yb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        self.members.train()
        with self.autocast:
            out = self.forward(xb)
        losses = loss_fn(out, yb, self.spec.loss)
        self.optimizer.zero_grad(set_to_none=True)
        # Members are independent, so the gradient of the sum is each member's own gradient.
        losses.sum().backward()
        optimizer_step(self.optimizer)
        if self.schedule is not None:
            self.schedule.step()
        return losses.detach(), out.detach()

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        # in float32 at any training precision: the outputs the job stores are those of the
        # weights it saves, as every analysis that loads them computes them
        # (benchmarks/bf16.md: what bfloat16 evaluation would save)
        self.members.eval()  # no dropout; batch norm's running statistics
        return in_chunks(self.forward, x, dim=1)

    def member_state_dict(self, m: int) -> dict[str, torch.Tensor]:
        return {k: v.detach().cpu().clone() for k, v in self.members[m].state_dict().items()}


def native_bf16(device: torch.device) -> bool:
    """Whether the device computes bfloat16 products in hardware: a CPU with AVX512-BF16 or AMX
    (torch's CPU capability says only "AVX512"), a GPU that supports bfloat16 without
    emulation. Elsewhere bfloat16 products are emulated through float32, slower than float32
    itself and less exact."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported(including_emulation=False)
    return any(getattr(torch.cpu, check, lambda: False)()
               for check in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"))


def training_precision(spec: ModelSpec) -> str:
    """The precision the spec trains in on this machine: its own, except bf16-mixed on a
    device without native bfloat16, which trains in fp32 (make_trainer says so in the log,
    how_trained records both)."""
    if spec.precision not in PRECISIONS:
        raise ValueError(f"unknown precision {spec.precision!r}; one of {PRECISIONS}")
    if spec.precision == "bf16-mixed" and not native_bf16(resolve_device(spec.device)):
        return "fp32"
    return spec.precision


def chosen_path(spec: ModelSpec, path: str = "auto") -> str:
    """The trainer that trains the spec: "handwritten" or "general" (auto: the hand-written
    engine where it supports the spec, in either precision: in bf16-mixed too it measured
    faster at every shape of the default study it trains, benchmarks/bf16.md)."""
    if path not in PATHS:
        raise ValueError(f"unknown training path {path!r}; one of {PATHS}")
    if path == "handwritten" and not handwritten.supports(spec):
        raise ValueError("the hand-written engine trains plain MLPs only (no dropout, a "
                         "constant learning rate)")
    if path == "auto":
        return "handwritten" if handwritten.supports(spec) else "general"
    return path


def make_trainer(spec: ModelSpec, members: list[Member], device: torch.device,
                 total_steps: int, path: str = "auto",
                 log: Callable[[str], None] = print) -> Trainer:
    precision = training_precision(spec)
    if precision != spec.precision:
        log(f"WARNING: precision {spec.precision} asked for, but {device} has no native "
            f"bfloat16 (products would be emulated, slower than fp32): training in {precision}")
    if chosen_path(spec, path) == "handwritten":
        return handwritten.HandwrittenMLP(spec, members, device, precision)
    return AutogradMembers(spec, members, device, total_steps, precision)


def how_trained(spec: ModelSpec, path: str = "auto") -> dict:
    """What decides a job's numbers beyond its spec and seeds: the device, the instruction set
    torch's CPU kernels were chosen for, torch's thread count, the trainer and the precision
    it trained in (`precision_asked` where the machine made it another). With another
    count, or on a CPU given other kernels, a step's sums run in another order, and training
    amplifies the last bit: a rerun there does not reproduce the numbers bit for bit (the same
    machine and count does)."""
    device = resolve_device(spec.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    precision = training_precision(spec)
    asked = {} if precision == spec.precision else {"precision_asked": spec.precision}
    return {"device": name, "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "torch_threads": torch.get_num_threads(), "trainer": chosen_path(spec, path),
            "precision": precision, **asked}


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device: cuda was asked for but torch sees no CUDA device; "
                           "set device: auto or cpu in config.yaml.")
    return torch.device(name)


def as_inputs(images: torch.Tensor, device: torch.device) -> torch.Tensor:
    """uint8 (N, 28, 28) -> float32 (N, 784) in [0, 1], on the device."""
    return images.to(device).reshape(len(images), -1).float().div_(255)


@dataclass
class TrainResult:
    member: Member
    state_dict: dict[str, torch.Tensor]
    step_loss: list[float]  # per optimizer step
    epochs: list[dict] = field(default_factory=list)  # per-epoch summary rows
    diverged_at_step: int | None = None  # first step whose loss was not finite
    diverged_at_epoch: int | None = None  # the epoch of that step


def shares_batches(members: list[Member]) -> bool:
    """Members with one seed draw the same permutations, so they can share each batch."""
    return len({m.seed for m in members}) == 1


def member_generators(members: list[Member]) -> list[torch.Generator]:
    # Data order depends only on the member's seed, through its own generator, so a member
    # sees the same batches whether it trains alone or beside others.
    return [torch.Generator().manual_seed(m.seed) for m in members]


def epoch_order(gens: list[torch.Generator], n: int, shared: bool,
                device: torch.device) -> torch.Tensor:
    """This epoch's sample order: (N,) when shared, else (M, N), one row per member. Every
    generator advances as it would alone (the shared case draws from one of identical ones)."""
    if shared:
        orders = [torch.randperm(n, generator=g) for g in gens]
        return orders[0].to(device)
    return torch.stack([torch.randperm(n, generator=g) for g in gens]).to(device)


def fit_epoch(trainer: Trainer, spec: ModelSpec, x: torch.Tensor, y: torch.Tensor,
              order: torch.Tensor, step_losses: torch.Tensor | None = None,
              max_steps: int | None = None) -> torch.Tensor:
    """One pass over `order` in batches of spec.batch_size (or its first max_steps batches).
    Writes each step's per-member losses into step_losses (steps, M) when given and returns
    the per-member count of correctly classified training samples, as a device tensor: the
    loop never waits for the device."""
    bs, m = spec.batch_size, trainer.n_members
    n_steps = math.ceil(order.shape[-1] / bs)
    if max_steps is not None:
        n_steps = min(n_steps, max_steps)
    correct = torch.zeros(m, dtype=torch.long, device=x.device)
    for s in range(n_steps):
        idx = order[..., s * bs:(s + 1) * bs]
        if order.dim() == 1:
            xb, yb = x.index_select(0, idx), y.index_select(0, idx).expand(m, -1)
        else:
            xb = x.index_select(0, idx.reshape(-1)).view(m, -1, x.shape[1])
            yb = y.index_select(0, idx.reshape(-1)).view(m, -1)
        losses, out = trainer.step(xb, yb)
        if step_losses is not None:
            step_losses[s] = losses
        correct += (out.argmax(-1) == yb).sum(-1)
    return correct


def train(spec: ModelSpec, members: list[Member], data: dict[str, torch.Tensor],
          log: Callable[[str], None] = print, path: str = "auto",
          ) -> tuple[list[TrainResult], dict[str, torch.Tensor]]:
    """Train all members; return per-member results and the final outputs on each split
    ({"train": (M, N, 10), "test": ..., and "validation" where `data` holds val_images and
    val_labels (data.training_split)}, on the CPU). Each epoch's row holds the loss and accuracy
    on every split. `path` forces a trainer (tests and benchmarks); auto takes the hand-written
    engine where it supports the spec."""
    device = resolve_device(spec.device)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = spec.allow_tf32
        torch.backends.cudnn.allow_tf32 = spec.allow_tf32
    x_train, y_train = as_inputs(data["train_images"], device), data["train_labels"].to(device)
    # the splits read after every epoch: the test set, and the validation set where there is one
    held = {"test": (as_inputs(data["test_images"], device), data["test_labels"].to(device))}
    if "val_images" in data:
        held["val"] = (as_inputs(data["val_images"], device), data["val_labels"].to(device))
    n, n_members = len(x_train), len(members)
    steps_per_epoch = math.ceil(n / spec.batch_size)
    trainer = make_trainer(spec, members, device, spec.epochs * steps_per_epoch, path, log)
    gens, shared = member_generators(members), shares_batches(members)
    torch.manual_seed(members[0].seed)  # dropout masks: reproducible from the job's first seed
    step_losses = torch.empty(spec.epochs * steps_per_epoch, n_members, device=device)
    results = [TrainResult(m, {}, []) for m in members]
    start = time.perf_counter()
    for epoch in range(spec.epochs):
        epoch_losses = step_losses[epoch * steps_per_epoch:(epoch + 1) * steps_per_epoch]
        order = epoch_order(gens, n, shared, device)
        correct = fit_epoch(trainer, spec, x_train, y_train, order, epoch_losses)
        train_acc = correct.double() / n
        # a member that diverged has no accuracy: its argmax over NaN would read as ~10 %
        train_acc[~torch.isfinite(epoch_losses).all(0)] = float("nan")
        rows = [{"epoch": epoch + 1, "train_loss": epoch_losses[:, i].mean().item(),
                 "train_accuracy": train_acc[i].item()} for i in range(n_members)]
        held_out = {}
        for split, (x, y) in held.items():
            held_out[split] = trainer.predict(x)
            loss, acc = split_reading(held_out[split], y, spec.loss)
            for i, row in enumerate(rows):
                row.update({f"{split}_loss": loss[i].item(), f"{split}_accuracy": acc[i].item()})
        for r, row in zip(results, rows):
            r.epochs.append(row)
        elapsed = time.perf_counter() - start
        rate = (epoch + 1) * n * n_members / elapsed
        eta = elapsed / (epoch + 1) * (spec.epochs - epoch - 1)
        # One short line a person watching reads (the console shows it: logs.echo_epochs), the
        # members' own values on the next; the means leave out diverged members (NaN, inf).
        splits = ("train", *held)
        member_loss = epoch_losses.mean(0)
        mean_loss = member_loss[member_loss.isfinite()].double().mean().item()
        accuracies = {split: [row[f"{split}_accuracy"] for row in rows] for split in splits}
        means = " ".join(f"{split} acc {np.nanmean(values):.4f}" if np.isfinite(values).any()
                         else f"{split} acc nan" for split, values in accuracies.items())
        log(f"epoch {epoch + 1}/{spec.epochs} loss {mean_loss:.4f} {means}"
            f"{f' (mean of {n_members})' if n_members > 1 else ''} "
            f"{rate:,.0f} samples/s ETA {f'{eta / 60:.0f} min' if eta >= 120 else f'{eta:.0f} s'}")
        if n_members > 1:
            log(f"  members: loss {member_loss.tolist()} "
                + " ".join(f"{split} acc {[round(a, 4) for a in values]}"
                           for split, values in accuracies.items()))
        done_steps = (epoch + 1) * steps_per_epoch
        if not torch.isfinite(step_losses[:done_steps]).all(0).any():
            # every member has diverged: what remains would only compute NaN
            log(f"every member diverged by epoch {epoch + 1}: training stops here")
            break
    step_losses = step_losses[:done_steps].cpu()  # the steps that ran
    for i, r in enumerate(results):
        r.state_dict = trainer.member_state_dict(i)
        r.step_loss = step_losses[:, i].tolist()
        bad = (~torch.isfinite(step_losses[:, i])).nonzero()
        if len(bad):
            r.diverged_at_step = int(bad[0]) + 1
            r.diverged_at_epoch = int(bad[0]) // steps_per_epoch + 1
            log(f"WARNING: member seed={r.member.seed} lr={r.member.lr} diverged (non-finite loss "
                f"from step {r.diverged_at_step}, epoch {r.diverged_at_epoch}); its loss curve up "
                f"to there is kept, and it is marked as diverged.")
    # the last epoch's held-out outputs are the final ones: no step has run since
    outputs = {"train": trainer.predict(x_train).cpu(), "test": held_out["test"].cpu()}
    if "val" in held_out:
        outputs["validation"] = held_out["val"].cpu()
    return results, outputs


def split_reading(outputs: torch.Tensor, labels: torch.Tensor, loss: str
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """Every member's loss and accuracy (M,) on a held-out split from its outputs (M, N, 10);
    a member whose outputs are not finite (it diverged) has no accuracy: its argmax over NaN
    would read as about 10 %."""
    losses = loss_fn(outputs, labels.expand(len(outputs), -1), loss)
    accuracy = (outputs.argmax(-1) == labels).float().mean(-1)
    accuracy[~torch.isfinite(outputs).all(-1).all(-1)] = float("nan")
    return losses, accuracy
