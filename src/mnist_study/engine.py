"""Training engine: the members of one job (seeds of a spec, learning rates of a scan row)
train side by side as one batched network.

Why: small MLPs are bound by per-step overhead, not arithmetic. Stacking M members' weights
into (M, fan_in, fan_out) tensors turns M small matmuls into one `baddbmm` and M optimizer
steps into a few fused tensor ops, while each member keeps its own initialization, learning
rate, Adam state and data order, so its result equals training it alone (tests/test_engine.py).
Data stay as tensors on the device; batches are index slices of a per-member permutation.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from .spec import N_CLASSES, N_INPUTS, ModelSpec

ACTIVATIONS = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}
OUTPUT_ACTIVATIONS = {
    "none": lambda z: z,
    "sigmoid": torch.sigmoid,
    "softmax": lambda z: torch.softmax(z, dim=-1),
    "log_softmax": lambda z: torch.log_softmax(z, dim=-1),
}
ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8


@dataclass(frozen=True)
class Member:
    """One model of a batched job: what differs between members."""
    seed: int
    lr: float


class MLP(nn.Module):
    """The plain, unbatched network: what weights files hold and what analysis code loads."""

    def __init__(self, spec: ModelSpec):
        super().__init__()
        sizes = (N_INPUTS, *spec.hidden, N_CLASSES)
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.activation = ACTIVATIONS[spec.activation]
        self.output_activation = OUTPUT_ACTIVATIONS[spec.output_activation]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(1)
        for layer in self.layers[:-1]:
            x = self.activation(layer(x))
        return self.output_activation(self.layers[-1](x))


def init_mlp(spec: ModelSpec, seed: int) -> MLP:
    """torch's default initialization under the member's own seed."""
    torch.manual_seed(seed)
    return MLP(spec)


def loss_fn(outputs: torch.Tensor, labels: torch.Tensor, kind: str) -> torch.Tensor:
    """Mean loss over the last-but-one axis; works on (B, C) and stacked (M, B, C) outputs."""
    flat, target = outputs.reshape(-1, N_CLASSES), labels.reshape(-1)
    if kind == "cross_entropy":
        per_sample = F.cross_entropy(flat, target, reduction="none")
    elif kind == "nll":
        per_sample = F.nll_loss(flat, target, reduction="none")
    elif kind == "mse":
        per_sample = (flat - F.one_hot(target, N_CLASSES).to(flat.dtype)).pow(2).mean(-1)
    else:
        raise ValueError(f"unknown loss {kind!r}")
    return per_sample.reshape(labels.shape).mean(-1)


class StackedMLP:
    """M independent MLPs of one architecture; weights (M, fan_in, fan_out), biases (M, 1, fan_out)."""

    def __init__(self, spec: ModelSpec, members: list[Member], device: torch.device):
        self.spec = spec
        nets = [init_mlp(spec, m.seed) for m in members]
        self.weights = [torch.stack([n.layers[i].weight.detach().T for n in nets]).contiguous().to(device)
                        for i in range(len(nets[0].layers))]
        self.biases = [torch.stack([n.layers[i].bias.detach()[None] for n in nets]).to(device)
                       for i in range(len(nets[0].layers))]
        for p in self.parameters():
            p.requires_grad_(True)
        self.activation = ACTIVATIONS[spec.activation]
        self.output_activation = OUTPUT_ACTIVATIONS[spec.output_activation]

    def parameters(self) -> list[torch.Tensor]:
        return [*self.weights, *self.biases]

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """x: (M, B, 784) -> outputs (M, B, 10)."""
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            x = torch.baddbmm(b, x, w)
            if i < last:
                x = self.activation(x)
        return self.output_activation(x)

    def member_state_dict(self, m: int) -> dict[str, torch.Tensor]:
        """Member m as an `MLP` state_dict (CPU tensors)."""
        state = {}
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            state[f"layers.{i}.weight"] = w[m].detach().T.contiguous().cpu()
            state[f"layers.{i}.bias"] = b[m, 0].detach().clone().cpu()
        return state


class StackedAdam:
    """torch.optim.Adam's update (same operation order), with a learning rate per member."""

    def __init__(self, params: list[torch.Tensor], lrs: list[float], weight_decay: float = 0.0):
        self.params = params
        self.lr = torch.tensor(lrs, dtype=params[0].dtype, device=params[0].device).view(-1, 1, 1)
        self.weight_decay = weight_decay
        self.exp_avg = [torch.zeros_like(p) for p in params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in params]
        self.step_count = 0

    @torch.no_grad()
    def step(self) -> None:
        self.step_count += 1
        beta1, beta2 = ADAM_BETAS
        bias1 = 1 - beta1 ** self.step_count
        bias2_sqrt = math.sqrt(1 - beta2 ** self.step_count)
        grads = [p.grad for p in self.params]
        if self.weight_decay:
            grads = torch._foreach_add(grads, self.params, alpha=self.weight_decay)
        torch._foreach_lerp_(self.exp_avg, grads, 1 - beta1)
        torch._foreach_mul_(self.exp_avg_sq, beta2)
        torch._foreach_addcmul_(self.exp_avg_sq, grads, grads, 1 - beta2)
        denom = torch._foreach_sqrt(self.exp_avg_sq)
        torch._foreach_div_(denom, bias2_sqrt)
        torch._foreach_add_(denom, ADAM_EPS)
        step_size = self.lr / bias1
        for p, m, d in zip(self.params, self.exp_avg, denom):
            p.addcdiv_(m * step_size, d, value=-1.0)
            p.grad = None


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


def member_generators(members: list[Member]) -> list[torch.Generator]:
    # Data order depends only on the member's seed, through its own generator, so a member
    # sees the same batches whether it trains alone or beside others.
    return [torch.Generator().manual_seed(m.seed) for m in members]


@torch.no_grad()
def predict(net: StackedMLP, x: torch.Tensor, chunk: int = 2048) -> torch.Tensor:
    """Outputs for the same inputs x (N, 784) from every member: (M, N, 10)."""
    m = len(net.weights[0])
    return torch.cat([net(x[i:i + chunk].expand(m, -1, -1)) for i in range(0, len(x), chunk)], 1)


def train(spec: ModelSpec, members: list[Member], data: dict[str, torch.Tensor],
          log: Callable[[str], None] = print) -> tuple[list[TrainResult], dict[str, torch.Tensor]]:
    """Train all members; return per-member results and the final outputs on both splits
    ({"train": (M, N, 10), "test": (M, N, 10)}, on the CPU)."""
    device = resolve_device(spec.device)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = spec.allow_tf32
    x_train, y_train = as_inputs(data["train_images"], device), data["train_labels"].to(device)
    x_test, y_test = as_inputs(data["test_images"], device), data["test_labels"].to(device)
    n, n_members = len(x_train), len(members)
    net = StackedMLP(spec, members, device)
    opt = StackedAdam(net.parameters(), [m.lr for m in members], spec.weight_decay)
    gens = member_generators(members)
    steps_per_epoch = math.ceil(n / spec.batch_size)
    step_losses = torch.empty(spec.epochs * steps_per_epoch, n_members, device=device)
    results = [TrainResult(m, {}, []) for m in members]
    start = time.perf_counter()
    for epoch in range(spec.epochs):
        order = torch.stack([torch.randperm(n, generator=g) for g in gens]).to(device)
        correct = torch.zeros(n_members, device=device)
        for s in range(steps_per_epoch):
            idx = order[:, s * spec.batch_size:(s + 1) * spec.batch_size]  # (M, B)
            xb, yb = x_train[idx], y_train[idx]
            out = net(xb)
            losses = loss_fn(out, yb, spec.loss)  # (M,)
            # Members are independent, so the gradient of the sum is each member's own gradient.
            losses.sum().backward()
            opt.step()
            step_losses[epoch * steps_per_epoch + s] = losses.detach()
            correct += (out.detach().argmax(-1) == yb).sum(-1)
        epoch_losses = step_losses[epoch * steps_per_epoch:(epoch + 1) * steps_per_epoch]
        test_out = predict(net, x_test)
        test_loss = loss_fn(test_out, y_test.expand(n_members, -1), spec.loss)
        test_acc = (test_out.argmax(-1) == y_test).float().mean(-1)
        train_acc = correct / n
        for i, r in enumerate(results):
            r.epochs.append({"epoch": epoch + 1, "train_loss": epoch_losses[:, i].mean().item(),
                             "train_accuracy": train_acc[i].item(),
                             "test_loss": test_loss[i].item(), "test_accuracy": test_acc[i].item()})
        elapsed = time.perf_counter() - start
        rate = (epoch + 1) * n * n_members / elapsed
        eta = elapsed / (epoch + 1) * (spec.epochs - epoch - 1)
        log(f"epoch {epoch + 1}/{spec.epochs} loss {epoch_losses.mean(0).tolist()} "
            f"train acc {[round(a, 4) for a in train_acc.tolist()]} test acc "
            f"{[round(a, 4) for a in test_acc.tolist()]} {rate:,.0f} samples/s ETA {eta:.0f} s")
    step_losses = step_losses.cpu()
    for i, r in enumerate(results):
        r.state_dict = net.member_state_dict(i)
        r.step_loss = step_losses[:, i].tolist()
        bad = (~torch.isfinite(step_losses[:, i])).nonzero()
        if len(bad):
            r.diverged_at_step = int(bad[0]) + 1
            log(f"WARNING: member seed={r.member.seed} lr={r.member.lr} diverged (non-finite loss "
                f"from step {r.diverged_at_step}); its results are kept and marked as diverged.")
    outputs = {"train": predict(net, x_train).cpu(), "test": predict(net, x_test).cpu()}
    return results, outputs
