"""Model specifications: one typed place for every training hyperparameter.

config.yaml (validated against workflow/schemas/config.schema.yaml) overrides these defaults;
`resolve_models` merges `defaults` into each model so the rest of the code sees complete specs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from mnist_study import families
from mnist_study.families import N_CLASSES

DIGITS = tuple(range(N_CLASSES))  # the classes, in order


class SpecError(ValueError):
    """A model spec that cannot be built; the message names the key and what is wrong."""


@dataclass(frozen=True)
class _Training:
    """The keys every family reads (a family's own keys come from its module)."""
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
    validation: bool = False  # hold out mnist.validation_images training images to validate on
    # fp32 | bf16-mixed: products (dense layers, convolutions, their backward) in bfloat16,
    # weights, Adam's state, the loss and the softmax in float32; fp32 where the device has no
    # native bfloat16 (mnist_study.train.engine.training_precision)
    precision: str = "fp32"


class _SpecMethods:
    """What a spec says about its network, whatever its family (ModelSpec's methods)."""

    def __post_init__(self):
        # YAML lists become tuples and a family's own values take its form (a cnn's blocks
        # dicts -> ConvBlock): a spec is hashable and equal to itself however it was written
        object.__setattr__(self, "hidden", tuple(self.hidden))
        object.__setattr__(self, "seeds", tuple(self.seeds))
        for key, owner in families.field_owners().items():
            object.__setattr__(self, key, owner.fields[key].parse(getattr(self, key)))

    def dense_inputs(self) -> int:
        """Inputs of the first dense layer: the pixels, or what the family's features give."""
        return families.get(self.family).feature_size(self)

    def dense_sizes(self) -> tuple[int, ...]:
        return (self.dense_inputs(), *self.hidden, N_CLASSES)

    def architecture(self) -> str:
        return families.get(self.family).architecture(self)

    def layers(self) -> str:
        """The models table's layers column (the family's choice of what to show)."""
        return families.get(self.family).layers(self)

    def _dense_weights(self) -> int:
        sizes = self.dense_sizes()
        return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))  # a bias counts as one

    def n_parameters(self) -> int:
        return self._dense_weights() + families.get(self.family).feature_parameters(self)

    def forward_macs(self) -> int:
        """Multiply-adds of one sample's forward pass: each weight, and each bias as one, once
        per position it is applied at (a convolution's at every output position)."""
        return self._dense_weights() + families.get(self.family).feature_macs(self)

    def train_flops(self, n_samples: int) -> float:
        """The arithmetic floor of training, in the project's one FLOP count (jobs.job_flops
        says what it counts and leaves out): 6 x forward_macs per sample, over all epochs and
        members."""
        return 6.0 * self.forward_macs() * n_samples * self.epochs * len(self.seeds)

    def trains_probabilities(self) -> bool:
        """Whether the loss trains the outputs as class probabilities (or their logits):
        cross-entropy on logits (also after the seed's sigmoid), NLL on log-softmax, MSE on
        softmax. MSE on raw scores regresses them onto 0 and 1, NLL on raw scores pushes one
        score up without bound: their calibration and confidence describe a softmax they never
        trained."""
        if self.loss == "cross_entropy":
            return True
        return (self.loss, self.output_activation) in {("nll", "log_softmax"), ("mse", "softmax")}

    def problems(self) -> list[str]:
        """What makes this spec impossible to build, each as `key: what is wrong`."""
        if self.family not in families.FAMILIES:
            return [f"family: {self.family!r} is not a model family; known: "
                    f"{', '.join(families.FAMILIES)}"]
        out = []
        for key, owner in families.field_owners().items():
            if owner.name != self.family and getattr(self, key) != owner.fields[key].parse(
                    owner.fields[key].default):
                out.append(f"{key}: only a {owner.name} reads {key} (set family: {owner.name}, "
                           f"or remove {key})")
        return out + families.get(self.family).problems(self)

    def to_dict(self) -> dict:
        """The spec as a study writes it, without the keys only other families read: each
        training job's params, so that a family added with keys of its own does not change
        (and so retrain) the models of the others."""
        owners = families.field_owners()
        return {k: v for k, v in dataclasses.asdict(self).items()
                if k not in owners or owners[k].name == self.family}

    @classmethod
    def from_dict(cls, d: dict) -> "ModelSpec":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown model spec keys {sorted(unknown)}; known: {sorted(names)}")
        return cls(**d)


# A model's spec: `family`, then the families' own keys (a cnn's `conv`), then the keys every
# family reads (_Training). This order is the order of to_dict, which the workflow passes to
# each training job as its params: another order would retrain every model.
ModelSpec = dataclasses.make_dataclass(
    "ModelSpec",
    [("family", str, field(default="mlp"))]
    + [(key, owner.fields[key].type, field(default=owner.fields[key].default))
       for key, owner in families.field_owners().items()]
    + [(f.name, f.type, field(default=f.default)) for f in dataclasses.fields(_Training)],
    bases=(_SpecMethods,), frozen=True)
ModelSpec.__module__ = __name__
ModelSpec.__doc__ = ("A model's complete training spec: its family (mnist_study.families), that "
                     "family's own keys and the keys of _Training, each with its default.")


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

    @property
    def in_seed_tables(self) -> bool:
        """Whether the seed study's tables (1 and 2) list it: the reproduction's models."""
        return self.table is not None


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
