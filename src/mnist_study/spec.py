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


@dataclass(frozen=True)
class ModelSpec:
    hidden: tuple[int, ...] = (784,)  # hidden layer sizes, input side first
    activation: str = "relu"  # hidden-layer nonlinearity
    output_activation: str = "none"  # the seed's model 8 squashes its outputs with a sigmoid
    loss: str = "cross_entropy"  # cross_entropy | nll | mse
    optimizer: str = "adam"  # only Adam: the seed's optimizer
    lr: float = 1e-3
    weight_decay: float = 0.0  # Adam's L2 term, as torch.optim.Adam applies it
    batch_size: int = 64
    epochs: int = 10
    seeds: tuple[int, ...] = (0,)  # one member per seed, trained side by side
    device: str = "auto"  # auto: CUDA when present
    allow_tf32: bool = False  # off by default: exact fp32 unless the config opts in

    def architecture(self) -> str:
        return "-".join(str(n) for n in (N_INPUTS, *self.hidden, N_CLASSES))

    def n_parameters(self) -> int:
        sizes = (N_INPUTS, *self.hidden, N_CLASSES)
        return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))

    def train_flops(self, n_samples: int) -> float:
        """Multiply-adds x 2 of forward + backward (x3) over all epochs: the arithmetic floor."""
        return 6.0 * self.n_parameters() * n_samples * self.epochs * len(self.seeds)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelSpec":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown model spec keys {sorted(unknown)}; known: {sorted(names)}")
        d = dict(d)
        for key in ("hidden", "seeds"):
            if key in d:
                d[key] = tuple(d[key])
        return cls(**d)


# Keys of a model entry that describe it but do not change training.
DESCRIPTIVE_KEYS = ("table", "label", "published")


@dataclass(frozen=True)
class StudyModel:
    id: str
    spec: ModelSpec
    table: int | None = None
    label: str = ""
    published: dict = field(default_factory=dict)


def resolve_models(config: dict) -> dict[str, StudyModel]:
    """Model id -> complete spec, `defaults` merged under each model's own keys."""
    defaults = config.get("defaults", {})
    models = {}
    for model_id, entry in config["models"].items():
        merged = {**defaults, **{k: v for k, v in entry.items() if k not in DESCRIPTIVE_KEYS}}
        models[str(model_id)] = StudyModel(
            id=str(model_id),
            spec=ModelSpec.from_dict(merged),
            table=entry.get("table"),
            label=entry.get("label", str(model_id)),
            published=dict(entry.get("published", {})),
        )
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
