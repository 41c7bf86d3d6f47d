"""The networks a spec describes, one family each, as plain `nn.Module`s: what weights files
hold, what training starts from and what every analysis runs (`load_members`, `predict`).

A network maps images, (N, 784) or (N, 28, 28) floats in [0, 1], to its outputs (N, 10): the
logits with the spec's output activation applied, as the loss reads them. Families differ
only in the layers before the dense ones: none (mlp) or convolution blocks (cnn).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from mnist_study import families
from mnist_study.families import N_CLASSES, SIDE
from mnist_study.spec import ModelSpec

# torch.optim imports torch._dynamo (the compiler; 4.2 s on a 2-core CPU, as long as `import
# torch` itself) the first time an optimizer is built or stepped: paid by every job that trains
# or differentiates a network, in the quick study most of a training job's work. This project
# never compiles, and outside torch.compile the code involved runs as it is, so the two
# functions below skip the import. Tested: training through them equals torch.optim.Adam's
# step() (tests/test_engine.py), and a job trains without importing torch._dynamo
# (tests/test_imports.py).


def optimizer_step(optimizer: torch.optim.Optimizer) -> None:
    """optimizer.step() as its class defines it, without the wrappers around it (step hooks,
    a profiler label, and a graph break for torch.compile, which imports torch._dynamo on
    every call): under no_grad, as step() runs it. Marks the optimizer as stepped, as the
    learning-rate schedulers' wrapper around step() does (they warn otherwise)."""
    import inspect

    with torch.no_grad():
        inspect.unwrap(type(optimizer).step)(optimizer)
    optimizer._opt_called = True


def run_optimizers_without_dynamo() -> int:
    """Fill the cache of torch._disable_dynamo's wrappers on torch.optim's classes (around
    Optimizer.add_param_group, zero_grad, ...: built on first call, by importing
    torch._dynamo) with the plain function, which is what the wrapper runs outside
    torch.compile. Returns how many it filled; where torch's wrappers look different (another
    version), nothing is changed and the import simply happens."""
    import torch.optim.lr_scheduler as schedulers

    wrapper_code = torch._disable_dynamo(lambda: None).__code__  # what every such wrapper runs
    changed = 0
    for module in (torch.optim, schedulers):
        for cls in vars(module).values():
            for attr in vars(cls).values() if isinstance(cls, type) else ():
                fn = getattr(attr, "__wrapped__", None)
                if (getattr(attr, "__code__", None) is wrapper_code and fn is not None
                        and not hasattr(fn, "__dynamo_disable")):
                    setattr(fn, "__dynamo_disable", fn)
                    changed += 1
    return changed


run_optimizers_without_dynamo()

ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}
OUTPUT_ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "none": lambda z: z,
    "sigmoid": torch.sigmoid,
    "softmax": lambda z: torch.softmax(z, dim=-1),
    "log_softmax": lambda z: torch.log_softmax(z, dim=-1),
}


class Network(nn.Module):
    """features (layers of its family before the dense ones; none for an mlp) -> dense layers ->
    outputs. Dense layers are `layers.<i>` (the first one's weight columns are the input pixels
    of a family that is dense over them: the border analysis reads them); a hidden layer the
    family marks adds its input to its output (a residual connection)."""

    def __init__(self, spec: ModelSpec):
        super().__init__()
        family = families.get(spec.family)
        self.features = family.features(spec)
        sizes = spec.dense_sizes()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.skips = family.skips(spec)
        self.activation = ACTIVATIONS[spec.activation]()
        self.dropout = nn.Dropout(spec.dropout) if spec.dropout > 0 else nn.Identity()
        self.output_activation = OUTPUT_ACTIVATIONS[spec.output_activation]
        if len(self.features):
            # measured: 3,800 against 2,500 samples/s for a small CNN on a 2-core CPU
            self.to(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if len(self.features):
            x = x.reshape(-1, 1, SIDE, SIDE).contiguous(memory_format=torch.channels_last)
            x = self.features(x)
        x = x.flatten(1)
        for layer, skip in zip(self.layers[:-1], self.skips):
            h = self.dropout(self.activation(layer(x)))
            x = x + h if skip else h
        # the logits in float32 whatever precision the products ran in (under autocast they
        # come out in bfloat16): the output activation and the loss read them at full precision
        return self.output_activation(self.layers[-1](x).float())


def init_network(spec: ModelSpec, seed: int) -> Network:
    """torch's default initialization under the member's own seed."""
    torch.manual_seed(seed)
    return Network(spec)


def load_members(path: str | Path) -> tuple[ModelSpec, dict[int, Network]]:
    """A weights file -> its spec and one eval-mode network per seed."""
    from mnist_study import files

    blob = files.load_torch(path)
    spec = ModelSpec.from_dict(blob["spec"])
    members = {}
    for seed, state in blob["members"].items():
        with torch.device("meta"):  # no random initialization that the state would replace
            net = Network(spec)
        net.load_state_dict(state, assign=True)
        if len(net.features):
            net.to(memory_format=torch.channels_last)  # as Network() lays a cnn out
        members[int(seed)] = net.eval().requires_grad_(False)
    return spec, members


@torch.no_grad()
def in_chunks(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, chunk: int = 2048,
              dim: int = 0) -> torch.Tensor:
    """fn of x, computed a chunk of rows at a time (bounded memory for the largest networks)
    and joined along `dim` of fn's output."""
    return torch.cat([fn(x[i:i + chunk]) for i in range(0, len(x), chunk)], dim)


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
