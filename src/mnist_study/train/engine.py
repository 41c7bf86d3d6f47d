"""Training engine: the members of one job (seeds of a spec, learning rates of a scan row)
train side by side as one batched network.

Why: small MLPs are bound by per-step overhead, not arithmetic. Stacking M members' weights
turns M small matmuls into one batched matmul (or, for members that share their batches, one
wide matmul) and M optimizer steps into one call of torch's fused Adam, while each member keeps
its own initialization, learning rate, Adam state and data order, so its result equals
training it alone (tests/test_engine.py). Data stay as tensors on the device; batches are index
slices of a per-member permutation; the step loop never waits for the device.

What it reaches: benchmarks/results.md (`make bench`); what limits it, as measured:
benchmarks/engine-notes.md.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from mnist_study.spec import N_CLASSES, N_INPUTS, ModelSpec

ACTIVATIONS = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}
# In place on a layer's output: the backward pass needs only the activation's output.
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


# In-place backward of a hidden activation from its output h: autograd's own formulas.
ACTIVATION_BACKWARD = {
    "relu": lambda g, h: torch.ops.aten.threshold_backward.grad_input(g, h, 0, grad_input=g),
    "sigmoid": lambda g, h: torch.ops.aten.sigmoid_backward.grad_input(g, h, grad_input=g),
    "tanh": lambda g, h: torch.ops.aten.tanh_backward.grad_input(g, h, grad_input=g),
}
# Products with fewer rows per member than this are not split between threads (below).
MIN_SPLIT_ROWS = 64


def batched_product(a: torch.Tensor, b: torch.Tensor, bias: torch.Tensor | None = None,
                    out: torch.Tensor | None = None) -> torch.Tensor:
    """bias + a @ b for stacked a (M, R, K) and b (M, K, N): (M, R, N), into out if given.

    On CPU, MKL's batched product appears to give each thread whole members: 5 members on 2
    threads, one thread computes 3 while the other waits after 2. The two products of model
    0's first layer (batch 64) ran at 0.64 of the roof for 5 members, at 0.81 for 4 or 6.
    Splitting each member's rows into k parts, so that the M*k parts divide evenly between the
    threads, brought 5 members to 0.75 (2-core CPU). It costs a copy of b per extra part,
    small beside the product."""
    m, r = a.shape[:2]
    k = 1
    if a.device.type == "cpu" and m > 1 and r >= MIN_SPLIT_ROWS:
        threads = torch.get_num_threads()
        k = threads // math.gcd(m, threads)
        k = k if r % k == 0 else 1
    if k > 1:
        a = a.reshape(m * k, r // k, a.shape[2])
        b = b.unsqueeze(1).expand(m, k, *b.shape[1:]).reshape(m * k, *b.shape[1:])
        bias = None if bias is None else bias.reshape(m * k, r // k, -1)
        out = None if out is None else out.view(m * k, r // k, -1)
    result = torch.bmm(a, b, out=out) if bias is None else torch.baddbmm(bias, a, b, out=out)
    return result.view(m, r, -1)


class StackedMLP:
    """M independent MLPs of one architecture, forward and backward pass written out.

    Layouts, chosen for speed (measured on the project's 2-core CPU with MKL):
    - All parameters live in one flat buffer, layer by layer ([W_0, ..., W_L, b_0, ..., b_L],
      each stacked over members), their gradients in a second buffer of the same layout that
      every backward pass overwrites. Members that share a learning rate (the seeds of a spec)
      then take their Adam step as one pass over one tensor, and no step allocates a gradient
      (autograd allocates and frees each one every step: a fresh 245 MB gradient for model 10
      costs its page faults every step).
    - Weights are (M, fan_out, fan_in), as nn.Linear stores them, and activations are
      feature-major, (M, features, batch): every product is W x^T-shaped, which MKL runs
      faster than x W^T at these shapes (forward and weight gradient of model 0: 0.74 of the
      roof against 0.60-0.65; model 10: 0.99 against 0.90-0.97; 5 members of model 0: equal).
      For members that share their batch (one seed: a scan row), the first layer is then one
      wide (M*H, 784) x (784, B) product instead of M thin ones, without any copy.
    - Training steps write the large activations and input gradients into buffers kept from
      step to step, for the same reason as the gradients.
    Autograd is used only from the logits on (output activation and loss: `fit_epoch`).
    """

    def __init__(self, spec: ModelSpec, members: list[Member], device: torch.device):
        self.spec = spec
        nets = [init_mlp(spec, m.seed) for m in members]
        m, sizes = len(members), (N_INPUTS, *spec.hidden, N_CLASSES)
        w_shapes = [(fan_out, fan_in) for fan_in, fan_out in zip(sizes[:-1], sizes[1:])]
        shapes = w_shapes + [(fan_out,) for fan_out, _ in w_shapes]
        self.flat = torch.empty(m * sum(math.prod(s) for s in shapes), device=device)
        self.flat_grad = torch.empty_like(self.flat)
        params, grads, offset = [], [], 0
        for shape in shapes:
            size = m * math.prod(shape)
            params.append(self.flat[offset:offset + size].view(m, *shape))
            grads.append(self.flat_grad[offset:offset + size].view(m, *shape))
            offset += size
        n_layers = len(w_shapes)
        self.weights, self.biases = params[:n_layers], params[n_layers:]
        self.weight_grads, self.bias_grads = grads[:n_layers], grads[n_layers:]
        with torch.no_grad():
            for i in range(n_layers):
                self.weights[i].copy_(torch.stack([n.layers[i].weight for n in nets]))
                self.biases[i].copy_(torch.stack([n.layers[i].bias for n in nets]))
        self.activation = spec.activation
        self.output_activation = OUTPUT_ACTIVATIONS[spec.output_activation]
        self.saved: list[torch.Tensor] = []  # each layer's input, for backward()
        self.buffers: dict[str, torch.Tensor] = {}

    @property
    def n_members(self) -> int:
        return len(self.weights[0])

    def parameters(self) -> list[torch.Tensor]:
        return [*self.weights, *self.biases]

    def buffer(self, name: str, shape: tuple[int, ...]) -> torch.Tensor:
        """A tensor of this shape kept for the next step (the last batch of an epoch is smaller:
        the front of the same buffer)."""
        size = math.prod(shape)
        buf = self.buffers.get(name)
        if buf is None or len(buf) < size:
            buf = self.buffers[name] = torch.empty(size, device=self.flat.device)
        return buf[:size].view(shape)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Outputs (M, B, 10) for x: (M, B, 784), one batch per member, or (B, 784), the same
        batch for every member."""
        return self.output_activation(self.forward(x))

    def forward(self, x: torch.Tensor, keep: bool = False) -> torch.Tensor:
        """Logits (M, B, 10) (a view of (M, 10, B)). With keep (a training step), each layer's
        input is kept for backward() and outputs go into buffers kept from step to step."""
        m, batch, last = self.n_members, x.shape[-2], len(self.weights) - 1
        self.saved = []
        a = x
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            if keep:
                self.saved.append(a)
            out = self.buffer(f"out{i}", (m, w.shape[1], batch)) if keep else None
            if a.dim() == 2:  # the first layer, one batch for every member: one wide product
                wide = None if out is None else out.view(-1, batch)
                a = torch.addmm(b.reshape(-1, 1), w.reshape(-1, w.shape[2]), a.t(), out=wide)
                a = a.view(m, -1, batch)
            else:  # (M, 784, B) for the images as they are stored, else (M, fan_in, B)
                a = batched_product(w, a.transpose(1, 2) if i == 0 else a, b.unsqueeze(-1), out)
            if i < last:
                ACTIVATIONS_INPLACE[self.activation](a)
        return a.transpose(1, 2)

    @torch.no_grad()
    def backward(self, grad: torch.Tensor) -> None:
        """From the gradient of the loss w.r.t. forward(keep=True)'s logits (M, B, 10), write
        every parameter's gradient into flat_grad (overwriting it)."""
        g = grad.transpose(1, 2)  # (M, 10, B), feature-major as everything else
        for i in reversed(range(len(self.weights))):
            a = self.saved[i]
            torch.sum(g, -1, out=self.bias_grads[i])
            if i == 0:  # the images: batch-major, and nothing needs their gradient
                if a.dim() == 2:  # the wide product's gradient, one product
                    torch.mm(g.reshape(-1, g.shape[-1]), a,
                             out=self.weight_grads[0].view(-1, a.shape[1]))
                else:
                    batched_product(g, a, out=self.weight_grads[0])
                break
            batched_product(g, a.transpose(1, 2), out=self.weight_grads[i])
            # the gradient of the layer's input W^T g, then back through the activation
            g = torch.bmm(self.weights[i].transpose(1, 2), g,
                          out=self.buffer(f"grad{i}", a.shape))
            ACTIVATION_BACKWARD[self.activation](g, a)
        self.saved = []

    def member_state_dict(self, m: int) -> dict[str, torch.Tensor]:
        """Member m as an `MLP` state_dict (CPU tensors)."""
        state = {}
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            state[f"layers.{i}.weight"] = w[m].cpu().clone()
            state[f"layers.{i}.bias"] = b[m].cpu().clone()
        return state


class StackedAdam:
    """torch.optim.Adam itself over the network's flat parameter buffer, whose gradients are
    the buffer that the network's backward pass overwrites.

    Members that share a learning rate (the seeds of a spec) are one tensor, so their step is
    one call of torch's fused Adam: one pass over memory and one parallel region (5 members of
    model 0: 0.7 ms, against 1.8 ms for 20 tensors in 5 groups; with OMP_WAIT_POLICY=PASSIVE
    each parallel region wakes the sleeping thread, tens of microseconds here). Members with
    their own learning rates (a scan row) are one parameter group each, over views of their
    slice of every layer. Why not a hand-written batched update: a chain of _foreach ops makes
    ~8 passes over memory, each a separate parallel region; and Adam itself makes the update
    equal to training the member alone by construction (it is elementwise, so one tensor for
    several members is the same update).
    """

    def __init__(self, net: StackedMLP, lrs: list[float], weight_decay: float = 0.0):
        if len(set(lrs)) == 1:
            groups = [{"params": [net.flat], "lr": lrs[0]}]
            net.flat.grad = net.flat_grad
        else:
            groups = []
            for m, lr in enumerate(lrs):
                params = [p[m] for p in net.parameters()]
                for p, g in zip(params, [*net.weight_grads, *net.bias_grads]):
                    p.grad = g[m]
                groups.append({"params": params, "lr": lr})
        fused = net.flat.device.type in ("cpu", "cuda") and net.flat.dtype in FUSED_DTYPES
        self.optimizer = torch.optim.Adam(groups, betas=ADAM_BETAS, eps=ADAM_EPS,
                                          weight_decay=weight_decay, fused=fused)

    def step(self) -> None:
        self.optimizer.step()


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
        # autograd from the logits on (any output activation and loss); the layers' backward
        # pass is the network's own
        logits = net.forward(xb, keep=True).detach().requires_grad_()
        out = net.output_activation(logits)
        losses = loss_fn(out, yb, spec.loss)  # (M,)
        # Members are independent, so the gradient of the sum is each member's own gradient.
        losses.sum().backward()
        net.backward(logits.grad)
        opt.step()
        if step_losses is not None:
            step_losses[s] = losses.detach()
        correct += (out.detach().argmax(-1) == yb).sum(-1)
    return correct


@torch.no_grad()
def in_chunks(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, chunk: int = 2048,
              dim: int = 0) -> torch.Tensor:
    """fn of x, computed a chunk of rows at a time (bounded memory for the largest networks)
    and joined along `dim` of fn's output."""
    return torch.cat([fn(x[i:i + chunk]) for i in range(0, len(x), chunk)], dim)


def predict(net: StackedMLP, x: torch.Tensor) -> torch.Tensor:
    """Outputs for the same inputs x (N, 784) from every member: (M, N, 10)."""
    return in_chunks(net, x, dim=1)


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
    opt = StackedAdam(net, [m.lr for m in members], spec.weight_decay)
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
        done_steps = (epoch + 1) * steps_per_epoch
        if not torch.isfinite(step_losses[:done_steps]).all(0).any():
            # every member has diverged: what remains would only compute NaN
            log(f"every member diverged by epoch {epoch + 1}: training stops here")
            break
    step_losses = step_losses[:done_steps].cpu()  # the steps that ran
    for i, r in enumerate(results):
        r.state_dict = net.member_state_dict(i)
        r.step_loss = step_losses[:, i].tolist()
        bad = (~torch.isfinite(step_losses[:, i])).nonzero()
        if len(bad):
            r.diverged_at_step = int(bad[0]) + 1
            r.diverged_at_epoch = int(bad[0]) // steps_per_epoch + 1
            log(f"WARNING: member seed={r.member.seed} lr={r.member.lr} diverged (non-finite loss "
                f"from step {r.diverged_at_step}, epoch {r.diverged_at_epoch}); its loss curve up "
                f"to there is kept, and it is marked as diverged.")
    outputs = {"train": predict(net, x_train).cpu(), "test": predict(net, x_test).cpu()}
    return results, outputs
