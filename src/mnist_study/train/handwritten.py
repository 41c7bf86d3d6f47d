"""The hand-written training engine for plain MLPs: forward and backward written out over
flat buffers, the members' layers stacked. Kept beside the general autograd path
(`AutogradMembers` in mnist_study.train.engine) for the specs it supports (`supports`: dense
layers, no dropout, a constant learning rate) because it measured faster on the seed study's
commonest shape, several seeds of a small MLP (model 0 with 5 seeds: the general path took
1.18x its time per step, model 5: 1.81x; equal for the large models 9 and 10; results.md and
benchmarks/general-path.md). Members equal training them alone with `nn.Module` +
`torch.optim.Adam` (tests/test_engine.py).
"""

from __future__ import annotations

import math

import torch

from mnist_study import families
from mnist_study.families import N_CLASSES, N_INPUTS
from mnist_study.networks import OUTPUT_ACTIVATIONS, in_chunks, init_network, loss_fn, optimizer_step
from mnist_study.spec import ModelSpec

# In place on a layer's output: the backward pass needs only the activation's output.
ACTIVATIONS_INPLACE = {"relu": torch.relu_, "sigmoid": torch.sigmoid_, "tanh": torch.tanh_}
FUSED_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8


def supports(spec: ModelSpec) -> bool:
    return families.get(spec.family).dense_only and spec.dropout == 0 and spec.schedule == "constant"


def can_fuse(device: torch.device, dtype: torch.dtype = torch.float32) -> bool:
    """Whether torch's fused Adam (one pass over each tensor) runs here."""
    return device.type in ("cpu", "cuda") and dtype in FUSED_DTYPES


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

    bf16-mixed (`low`): a training step casts the weights and the batch to bfloat16 and runs
    every product, activation and input gradient in bfloat16; the logits go to the loss in
    float32, the weight gradients are cast into the float32 gradient buffer and the bias
    gradients summed in float32, so Adam steps float32 weights as in fp32 (the same split as
    torch.autocast on the general path). Evaluation (`__call__`) stays float32.
    """

    def __init__(self, spec: ModelSpec, members: list, device: torch.device,
                 precision: str = "fp32"):
        self.spec = spec
        self.low = torch.bfloat16 if precision == "bf16-mixed" else None
        nets = [init_network(spec, m.seed) for m in members]
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
        self.step_weights: list[torch.Tensor] = []  # the weights the step's products used
        self.buffers: dict[str, torch.Tensor] = {}

    @property
    def n_members(self) -> int:
        return len(self.weights[0])

    def parameters(self) -> list[torch.Tensor]:
        return [*self.weights, *self.biases]

    def buffer(self, name: str, shape: tuple[int, ...],
               dtype: torch.dtype | None = None) -> torch.Tensor:
        """A tensor of this shape kept for the next step (the last batch of an epoch is smaller:
        the front of the same buffer)."""
        size = math.prod(shape)
        buf = self.buffers.get(name)
        if buf is None or len(buf) < size:
            buf = self.buffers[name] = torch.empty(size, device=self.flat.device,
                                                   dtype=dtype or self.flat.dtype)
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
        a, weights, biases = x, self.weights, self.biases
        low = self.low if keep else None  # a training step in bf16-mixed
        if low is not None:
            a = x.to(low)
            weights, biases = [w.to(low) for w in weights], [b.to(low) for b in biases]
            self.step_weights = weights
        for i, (w, b) in enumerate(zip(weights, biases)):
            if keep:
                self.saved.append(a)
            out = self.buffer(f"out{i}", (m, w.shape[1], batch), low) if keep else None
            if a.dim() == 2:  # the first layer, one batch for every member: one wide product
                wide = None if out is None else out.view(-1, batch)
                a = torch.addmm(b.reshape(-1, 1), w.reshape(-1, w.shape[2]), a.t(), out=wide)
                a = a.view(m, -1, batch)
            else:  # (M, 784, B) for the images as they are stored, else (M, fan_in, B)
                a = batched_product(w, a.transpose(1, 2) if i == 0 else a, b.unsqueeze(-1), out)
            if i < last:
                ACTIVATIONS_INPLACE[self.activation](a)
        return a.transpose(1, 2).float()  # the logits in float32 (a no-op in fp32)

    @torch.no_grad()
    def backward(self, grad: torch.Tensor) -> None:
        """From the gradient of the loss w.r.t. forward(keep=True)'s logits (M, B, 10), write
        every parameter's gradient into flat_grad (overwriting it)."""
        g = grad.transpose(1, 2)  # (M, 10, B), feature-major as everything else
        low, weights = self.low, self.weights
        if low is not None:  # bf16-mixed: the products in bfloat16, the gradients kept in float32
            g, weights = g.to(low), self.step_weights
        for i in reversed(range(len(self.weights))):
            a = self.saved[i]
            torch.sum(g, -1, dtype=self.flat.dtype, out=self.bias_grads[i])
            # the weight gradient, straight into the gradient buffer, or in bfloat16 and cast
            wg = self.weight_grads[i]
            if low is not None:
                wg = self.buffer("wgrad", wg.shape, low)
            if i == 0:  # the images: batch-major, and nothing needs their gradient
                if a.dim() == 2:  # the wide product's gradient, one product
                    torch.mm(g.reshape(-1, g.shape[-1]), a, out=wg.view(-1, a.shape[1]))
                else:
                    batched_product(g, a, out=wg)
            else:
                batched_product(g, a.transpose(1, 2), out=wg)
            if low is not None:
                self.weight_grads[i].copy_(wg)
            if i == 0:
                break
            # the gradient of the layer's input W^T g, then back through the activation
            g = torch.bmm(weights[i].transpose(1, 2), g,
                          out=self.buffer(f"grad{i}", a.shape, low))
            ACTIVATION_BACKWARD[self.activation](g, a)
        self.saved, self.step_weights = [], []

    def member_state_dict(self, m: int) -> dict[str, torch.Tensor]:
        """Member m as a `Network` state_dict (CPU tensors)."""
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
        fused = can_fuse(net.flat.device, net.flat.dtype)
        self.optimizer = torch.optim.Adam(groups, betas=ADAM_BETAS, eps=ADAM_EPS,
                                          weight_decay=weight_decay, fused=fused)

    def step(self) -> None:
        optimizer_step(self.optimizer)


class HandwrittenMLP:
    """The engine as a trainer (mnist_study.train.engine.Trainer): one step of every member."""

    def __init__(self, spec: ModelSpec, members: list, device: torch.device,
                 precision: str = "fp32"):
        self.spec, self.n_members = spec, len(members)
        self.net = StackedMLP(spec, members, device, precision)
        self.opt = StackedAdam(self.net, [m.lr for m in members], spec.weight_decay)

    def step(self, xb: torch.Tensor, yb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # autograd from the logits on (any output activation and loss); the layers' backward
        # pass is the network's own
        logits = self.net.forward(xb, keep=True).detach().requires_grad_()
        out = self.net.output_activation(logits)
        losses = loss_fn(out, yb, self.spec.loss)  # (M,)
        # Members are independent, so the gradient of the sum is each member's own gradient.
        losses.sum().backward()
        self.net.backward(logits.grad)
        self.opt.step()
        return losses.detach(), out.detach()

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return in_chunks(self.net, x, dim=1)

    def member_state_dict(self, m: int) -> dict[str, torch.Tensor]:
        return self.net.member_state_dict(m)
