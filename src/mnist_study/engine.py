"""Training engine: the members of one job (seeds of a spec, learning rates of a scan row)
train side by side as one batched network.

Why: small MLPs are bound by per-step overhead, not arithmetic. Stacking M members' weights
turns M small matmuls into one batched matmul (or, for members that share their batches, one
wide matmul) and M optimizer steps into one call of torch's fused Adam, while each member keeps
its own initialization, learning rate, Adam state and data order, so its result equals
training it alone (tests/test_engine.py). Data stay as tensors on the device; batches are index
slices of a per-member permutation; the step loop never waits for the device.

What it reaches (`python -m mnist_study.bench`, benchmarks/results.md): on a shared 2-core AMD
EPYC (Zen 5) with MKL, 1 thread, CPU time: model 0 alone ~50 %, 5 seeds batched ~60 %,
model 9 ~85 % of the fp32 matmul rate in the FLOPs training needs. What is left at batch 64 is
mostly Adam, a pass over memory that no matmul hides (~18 % of a step).
Not done here (no GPU to test on): capturing the step in a CUDA graph (Adam's fused kernel
supports capturable=True; the batch indices would go into a static tensor).
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
# In place on the fresh output of a matmul (autograd allows it: the matmul's backward does not
# need its output), saving an allocation and a pass over the activations per layer.
ACTIVATIONS_INPLACE = {"relu": torch.relu_, "sigmoid": torch.sigmoid_, "tanh": torch.tanh_}
OUTPUT_ACTIVATIONS = {
    "none": lambda z: z,
    "sigmoid": torch.sigmoid,
    "softmax": lambda z: torch.softmax(z, dim=-1),
    "log_softmax": lambda z: torch.log_softmax(z, dim=-1),
}
ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
FUSED_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


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


def shares_batches(members: list[Member]) -> bool:
    """Members with one seed draw the same permutations, so they can share each batch."""
    return len({m.seed for m in members}) == 1


# A layer with fewer outputs than this (the 10-class output layer, the seed's 1-10 unit hidden
# layers) runs as `NarrowLinear`: BLAS runs (B, H) x (H, 10) at a fifth of its peak, the
# transposed product W x^T at about three quarters (MKL on the 2-core CPU).
NARROW_FAN_OUT = 64


class NarrowLinear(torch.autograd.Function):
    """Stacked linear layer with few outputs: y = x W^T + b for x (M, B, in), W (M, out, in),
    b (M, out), computed as the transposed product, with a backward pass that writes both
    gradients straight into their tensors' layouts (autograd's own would transpose them)."""

    @staticmethod
    def forward(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(b.unsqueeze(-1), w, x.transpose(1, 2)).transpose(1, 2)

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:
        x, w, _ = inputs
        ctx.save_for_backward(x, w)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        x, w = ctx.saved_tensors
        grad_x = torch.bmm(grad, w) if ctx.needs_input_grad[0] else None
        grad_w = torch.bmm(grad.transpose(1, 2), x) if ctx.needs_input_grad[1] else None
        grad_b = grad.sum(1) if ctx.needs_input_grad[2] else None
        return grad_x, grad_w, grad_b


class StackedMLP:
    """M independent MLPs of one architecture; biases (M, fan_out); weights (M, fan_in, fan_out),
    except narrow layers and the first layer of members that share their batches, which are
    stored (M, fan_out, fan_in) as nn.Linear stores them.

    Layouts are chosen so that autograd's backward pass yields every large weight gradient in
    the weight's own layout; otherwise it copies each gradient into a transposed layout, which
    cost more than the matmuls themselves (profiled: 27 ms of a 60 ms step for 5 members of
    model 0). Members sharing a batch (one seed: a scan row) run the first layer as one wide
    (B, 784) x (784, M*H) GEMM instead of M thin ones: 5x faster for small hidden layers.
    """

    def __init__(self, spec: ModelSpec, members: list[Member], device: torch.device,
                 shared_input: bool | None = None):
        self.spec = spec
        self.shared_input = shares_batches(members) if shared_input is None else shared_input
        nets = [init_mlp(spec, m.seed) for m in members]
        n_layers = len(nets[0].layers)
        sizes = (N_INPUTS, *spec.hidden, N_CLASSES)
        self.narrow = [fan_out < NARROW_FAN_OUT for fan_out in sizes[1:]]
        # out_in[i]: layer i stored (M, fan_out, fan_in) as nn.Linear, else (M, fan_in, fan_out)
        self.out_in = [(i == 0 and self.shared_input) or self.narrow[i] for i in range(n_layers)]
        self.weights = [torch.stack([n.layers[i].weight.detach() if self.out_in[i]
                                     else n.layers[i].weight.detach().T for n in nets]).to(device)
                        for i in range(n_layers)]
        self.biases = [torch.stack([n.layers[i].bias.detach() for n in nets]).to(device)
                       for i in range(n_layers)]
        del nets
        for p in self.parameters():
            p.requires_grad_(True)
        self.activation = ACTIVATIONS_INPLACE[spec.activation]
        self.activation_outofplace = ACTIVATIONS[spec.activation]
        self.output_activation = OUTPUT_ACTIVATIONS[spec.output_activation]

    @property
    def n_members(self) -> int:
        return len(self.weights[0])

    def parameters(self) -> list[torch.Tensor]:
        return [*self.weights, *self.biases]

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """x: (M, B, 784), one batch per member, or (B, 784), the same batch for every
        member -> outputs (M, B, 10)."""
        last, m = len(self.weights) - 1, self.n_members
        for i in range(last + 1):
            wide = x.dim() == 2 and i == 0 and self.shared_input
            x = self.layer(i, x)
            if i < last:
                # A custom Function's output is a view that autograd forbids changing in place.
                x = self.activation_outofplace(x) if self.narrow[i] else self.activation(x)
            if wide:  # (B, M*H) -> (M, B, H) after the activation: in place on a view copies
                x = x.view(len(x), m, -1).transpose(0, 1)
        return self.output_activation(x)

    def layer(self, i: int, x: torch.Tensor) -> torch.Tensor:
        w, b, m = self.weights[i], self.biases[i], self.n_members
        if i == 0 and self.shared_input:
            if x.dim() == 3:  # separate batches into shared-input weights: only tests do this
                return torch.baddbmm(b.unsqueeze(1), x, w.transpose(1, 2))
            # (B, 784) x (784, M*H): one wide GEMM, the caller reshapes to (M, B, H)
            return torch.addmm(b.reshape(-1), x, w.reshape(m * w.shape[1], w.shape[2]).t())
        if x.dim() == 2:
            x = x.expand(m, -1, -1)
        if self.narrow[i]:
            return NarrowLinear.apply(x, w, b)
        return torch.baddbmm(b.unsqueeze(1), x, w)

    def member_state_dict(self, m: int) -> dict[str, torch.Tensor]:
        """Member m as an `MLP` state_dict (CPU tensors)."""
        state = {}
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            weight = w[m].detach() if self.out_in[i] else w[m].detach().T
            state[f"layers.{i}.weight"] = weight.contiguous().cpu().clone()
            state[f"layers.{i}.bias"] = b[m].detach().cpu().clone()
        return state


class StackedAdam:
    """torch.optim.Adam itself, one parameter group per member (its own learning rate), over
    per-member tensors that alias the member's slice of the stacked weights.

    Why not a hand-written batched update: torch's fused Adam kernel does the whole update in
    one pass over memory, where a chain of _foreach ops makes ~8 passes and, on CPU, each is a
    separate multi-threaded region (14-72 ms against 3-6 ms per step for 5 members of model 0,
    measured on the 2-core CPU). Using Adam itself also makes the update equal to training the
    member alone by construction.
    """

    def __init__(self, params: list[torch.Tensor], lrs: list[float], weight_decay: float = 0.0):
        self.params = params
        # detach() of a slice is a leaf sharing the stacked storage: what Adam updates in place
        # is the stacked weight the next forward pass reads.
        self.member_params = [[p[m].detach() for p in params] for m in range(len(lrs))]
        groups = [{"params": ps, "lr": lr} for ps, lr in zip(self.member_params, lrs)]
        fused = params[0].device.type in ("cpu", "cuda") and params[0].dtype in FUSED_DTYPES
        self.optimizer = torch.optim.Adam(groups, betas=ADAM_BETAS, eps=ADAM_EPS,
                                          weight_decay=weight_decay, fused=fused)

    @torch.no_grad()
    def step(self) -> None:
        grads = [p.grad for p in self.params]
        for m, ps in enumerate(self.member_params):
            for q, g in zip(ps, grads):
                q.grad = g[m]
        self.optimizer.step()
        for p in self.params:
            p.grad = None
        for ps in self.member_params:
            for q in ps:
                q.grad = None


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


def epoch_order(gens: list[torch.Generator], n: int, shared: bool,
                device: torch.device) -> torch.Tensor:
    """This epoch's sample order: (N,) when shared, else (M, N), one row per member. Every
    generator advances as it would alone (the shared case draws from one of identical ones)."""
    if shared:
        orders = [torch.randperm(n, generator=g) for g in gens]
        return orders[0].to(device)
    return torch.stack([torch.randperm(n, generator=g) for g in gens]).to(device)


def fit_epoch(net: StackedMLP, opt: StackedAdam, spec: ModelSpec, x: torch.Tensor,
              y: torch.Tensor, order: torch.Tensor, step_losses: torch.Tensor | None = None,
              max_steps: int | None = None) -> torch.Tensor:
    """One pass over `order` in batches of spec.batch_size (or its first max_steps batches).
    Writes each step's per-member losses into step_losses (steps, M) when given and returns
    the per-member count of correctly classified training samples, as a device tensor: the
    loop never waits for the device."""
    m, bs = net.n_members, spec.batch_size
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
        out = net(xb)
        losses = loss_fn(out, yb, spec.loss)  # (M,)
        # Members are independent, so the gradient of the sum is each member's own gradient.
        losses.sum().backward()
        opt.step()
        if step_losses is not None:
            step_losses[s] = losses.detach()
        correct += (out.detach().argmax(-1) == yb).sum(-1)
    return correct


@torch.no_grad()
def predict(net: StackedMLP, x: torch.Tensor, chunk: int = 2048) -> torch.Tensor:
    """Outputs for the same inputs x (N, 784) from every member: (M, N, 10)."""
    return torch.cat([net(x[i:i + chunk]) for i in range(0, len(x), chunk)], 1)


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
    gens, shared = member_generators(members), shares_batches(members)
    steps_per_epoch = math.ceil(n / spec.batch_size)
    step_losses = torch.empty(spec.epochs * steps_per_epoch, n_members, device=device)
    results = [TrainResult(m, {}, []) for m in members]
    start = time.perf_counter()
    for epoch in range(spec.epochs):
        epoch_losses = step_losses[epoch * steps_per_epoch:(epoch + 1) * steps_per_epoch]
        order = epoch_order(gens, n, shared, device)
        correct = fit_epoch(net, opt, spec, x_train, y_train, order, epoch_losses)
        test_out = predict(net, x_test)
        test_loss = loss_fn(test_out, y_test.expand(n_members, -1), spec.loss)
        test_acc = (test_out.argmax(-1) == y_test).float().mean(-1)
        train_acc = correct.double() / n
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
