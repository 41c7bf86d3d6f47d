"""Model specifications: one typed place for every training hyperparameter.

config.yaml (validated against workflow/schemas/config.schema.yaml) overrides these defaults;
`resolve_models` merges `defaults` into each model so the rest of the code sees complete specs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

N_INPUTS = 28 * 28
N_CLASSES = 10
DIGITS = tuple(range(N_CLASSES))  # the classes, in order


FAMILIES = ("mlp", "cnn")
SIDE = 28  # MNIST images are SIDE x SIDE


class SpecError(ValueError):
    """A model spec that cannot be built; the message names the key and what is wrong."""


@dataclass(frozen=True)
class ConvBlock:
    """One convolution block of a cnn: conv -> [batch norm] -> activation -> [max pool] ->
    [dropout] (a ReLU is applied after the pooling, which gives the same numbers faster)."""
    channels: int
    kernel: int = 5  # square kernel side
    padding: int = 0  # zero padding on each side (kernel // 2 keeps the size)
    pool: int = 1  # max-pool window and stride; 1: no pooling
    batch_norm: bool = False
    dropout: float = 0.0

    def describe(self) -> str:
        """`24@5x5 pad2 bn pool2`: channels @ kernel, then what the block adds."""
        parts = [f"{self.channels}@{self.kernel}x{self.kernel}"]
        parts += [f"pad{self.padding}"] if self.padding else []
        parts += ["bn"] if self.batch_norm else []
        parts += [f"pool{self.pool}"] if self.pool > 1 else []
        parts += [f"drop{self.dropout:g}"] if self.dropout else []
        return " ".join(parts)

    def output_side(self, side: int) -> int:
        """Side of the feature map this block makes from a side x side one (0: none left)."""
        conv = side + 2 * self.padding - self.kernel + 1
        return max(conv, 0) // self.pool


@dataclass(frozen=True)
class ModelSpec:
    family: str = "mlp"  # mlp: dense layers only; cnn: `conv` blocks, then the dense layers
    conv: tuple[ConvBlock, ...] = ()  # cnn: the convolution blocks, input side first
    hidden: tuple[int, ...] = (784,)  # dense hidden layer sizes (a cnn's dense head), input side first
    activation: str = "relu"  # hidden-layer nonlinearity
    dropout: float = 0.0  # dropout after each dense hidden layer (Srivastava et al. 2014)
    output_activation: str = "none"  # the seed's model 8 squashes its outputs with a sigmoid
    loss: str = "cross_entropy"  # cross_entropy | nll | mse
    optimizer: str = "adam"  # only Adam: the seed's optimizer
    lr: float = 1e-3  # with schedule one_cycle: the peak learning rate
    schedule: str = "constant"  # constant | one_cycle (torch.optim.lr_scheduler.OneCycleLR per step)
    weight_decay: float = 0.0  # Adam's L2 term, as torch.optim.Adam applies it
    batch_size: int = 64
    epochs: int = 10
    seeds: tuple[int, ...] = (0,)  # one member per seed, trained side by side
    device: str = "auto"  # auto: CUDA when present
    allow_tf32: bool = False  # off by default: exact fp32 unless the config opts in

    def __post_init__(self):
        # dicts (from YAML or to_dict) become blocks, lists tuples: a spec is hashable and equal
        # to itself however it was written
        object.__setattr__(self, "conv", tuple(b if isinstance(b, ConvBlock) else ConvBlock(**b)
                                               for b in self.conv))
        object.__setattr__(self, "hidden", tuple(self.hidden))
        object.__setattr__(self, "seeds", tuple(self.seeds))

    def conv_layers(self) -> list[tuple[int, int, int]]:
        """(in channels, out channels, output side) per convolution block (empty for an mlp)."""
        layers, channels, side = [], 1, SIDE
        for block in self.conv:
            conv_side = side + 2 * block.padding - block.kernel + 1
            layers.append((channels, block.channels, conv_side))
            channels, side = block.channels, block.output_side(side)
        return layers

    def dense_inputs(self) -> int:
        """Inputs of the first dense layer: the pixels, or the last block's flattened maps."""
        if self.family == "mlp" or not self.conv:
            return N_INPUTS
        side = SIDE
        for block in self.conv:
            side = block.output_side(side)
        return self.conv[-1].channels * side * side

    def dense_sizes(self) -> tuple[int, ...]:
        return (self.dense_inputs(), *self.hidden, N_CLASSES)

    def architecture(self) -> str:
        dense = "-".join(str(n) for n in self.dense_sizes())
        if self.family == "mlp":
            return dense
        return ", ".join(b.describe() for b in self.conv) + f" | {dense}"

    def n_parameters(self) -> int:
        sizes = self.dense_sizes()
        dense = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
        # batch norm's scale and shift take the place of the convolution's bias
        conv = sum(c_in * c_out * b.kernel ** 2 + (2 * c_out if b.batch_norm else c_out)
                   for (c_in, c_out, _), b in zip(self.conv_layers(), self.conv))
        return dense + conv

    def forward_macs(self) -> int:
        """Multiply-adds of one sample's forward pass: each weight once per position it is
        applied at (a convolution's weights at every output position)."""
        sizes = self.dense_sizes()
        dense = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))  # a bias counts as one
        conv = sum(c_in * c_out * b.kernel ** 2 * side ** 2
                   for (c_in, c_out, side), b in zip(self.conv_layers(), self.conv))
        return dense + conv

    def train_flops(self, n_samples: int) -> float:
        """Multiply-adds x 2 of forward + backward (x3) over all epochs: the arithmetic floor."""
        return 6.0 * self.forward_macs() * n_samples * self.epochs * len(self.seeds)

    def problems(self) -> list[str]:
        """What makes this spec impossible to build, each as `key: what is wrong`."""
        out = []
        if self.family == "mlp" and self.conv:
            out.append("conv: an mlp has no convolution blocks (set family: cnn, or remove conv)")
        if self.family == "cnn" and not self.conv:
            out.append("conv: a cnn needs at least one convolution block")
        side = SIDE
        for i, block in enumerate(self.conv if self.family == "cnn" else ()):
            if block.channels < 1:
                out.append(f"conv.{i}.channels: {block.channels}; a block needs at least 1 channel")
            padded = side + 2 * block.padding
            if block.kernel > padded:
                out.append(f"conv.{i}.kernel: {block.kernel} is larger than the {padded}x{padded} "
                           f"(padded) feature map it slides over; use a smaller kernel, more "
                           f"padding, or less pooling before it")
                break
            conv_side = padded - block.kernel + 1
            if block.pool > conv_side:
                out.append(f"conv.{i}.pool: {block.pool} is larger than the {conv_side}x{conv_side} "
                           f"feature map it pools; use a smaller window or leave it out")
                break
            side = block.output_side(side)
        return out

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelSpec":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown model spec keys {sorted(unknown)}; known: {sorted(names)}")
        return cls(**d)


# Keys of a model entry that describe it but do not change training.
DESCRIPTIVE_KEYS = ("table", "label", "published", "literature")


@dataclass(frozen=True)
class StudyModel:
    id: str
    spec: ModelSpec
    table: int | None = None
    label: str = ""
    published: dict = field(default_factory=dict)
    literature: dict = field(default_factory=dict)  # a published test error to compare with


def resolve_models(config: dict) -> dict[str, StudyModel]:
    """Model id -> complete spec, `defaults` merged under each model's own keys, epochs capped
    at `max_epochs` where the config sets one."""
    defaults = config.get("defaults", {})
    cap = config.get("max_epochs")  # a quick run of any study: every model at most this long
    models = {}
    problems = []
    for model_id, entry in config["models"].items():
        merged = {**defaults, **{k: v for k, v in entry.items() if k not in DESCRIPTIVE_KEYS}}
        if cap is not None:
            merged["epochs"] = min(merged.get("epochs", ModelSpec.epochs), cap)
        spec = ModelSpec.from_dict(merged)
        problems += [f"models.{model_id}.{p}" for p in spec.problems()]
        models[str(model_id)] = StudyModel(
            id=str(model_id),
            spec=spec,
            table=entry.get("table"),
            label=entry.get("label", str(model_id)),
            published=dict(entry.get("published", {})),
            literature=dict(entry.get("literature", {})),
        )
    if problems:
        raise SpecError("these model specs cannot be built:\n  " + "\n  ".join(problems))
    return models


# The hyperparameter scan: a grid of learning rates x hidden sizes; one job per row.

@dataclass(frozen=True)
class ScanGrid:
    learning_rates: tuple[float, ...]
    hidden_sizes: tuple[int, ...]


def scan_grid(scan: dict) -> ScanGrid:
    """The scan's grid from config.yaml's `scan` section: log-spaced learning rates, and
    log-spaced hidden sizes rounded to whole units (duplicates from rounding dropped)."""
    lr, hid = scan["learning_rates"], scan["hidden_sizes"]
    lrs = tuple(float(f"{x:.3g}") for x in np.geomspace(lr["start"], lr["stop"], lr["num"]))
    sizes = tuple(sorted({int(round(x)) for x in np.geomspace(hid["start"], hid["stop"], hid["num"])}))
    return ScanGrid(lrs, sizes)


def scan_row_spec(config: dict, hidden: int) -> ModelSpec:
    """The spec of one scan row: the study's defaults with the scan's own batch size, epochs
    and seed; the learning rate is per member."""
    scan = config["scan"]
    d = {**config.get("defaults", {}), "hidden": [hidden], "batch_size": scan["batch_size"],
         "epochs": scan["epochs"], "seeds": [scan["seed"]]}
    return ModelSpec.from_dict(d)
