"""Model families: one module each, `families/<name>.py`, which defines `FAMILY`, found here
without being listed anywhere. A family declares the spec keys only it reads (with their
schema and checks), the layers it puts before the dense ones, how to count their parameters
and multiply-adds, and how the report names and draws it. Everything else reads the registry:
the spec, the config schema, the networks, the report and its figures.

A network of any family is `features -> dense layers -> outputs` (mnist_study.networks): the
family builds the features (none for a fully connected network) and says which dense hidden
layers add their input to their output (a residual connection). Modules here stay free of
torch at import: the workflow reads specs while it plans."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from torch import nn

    from mnist_study.spec import ModelSpec

SIDE = 28  # MNIST images are SIDE x SIDE pixels, one channel
N_INPUTS = SIDE * SIDE
N_CLASSES = 10


@dataclass(frozen=True)
class Field:
    """A spec key that only one family reads."""
    default: Any
    schema: dict  # its JSON schema in the config (with a description for the user)
    parse: Callable[[Any], Any] = lambda value: value  # as the spec holds it (hashable)
    type: str = "Any"


@dataclass(frozen=True)
class Family:
    name: str  # the value of a model's `family` key
    rank: int  # where its models come in tables and legends (the seed's family first)
    short: str  # in tables and legends: "MLP"
    noun: str  # in prose: "fully connected network" (plural with an s)
    description: str  # what its layers are, in a line of plain text (the schema, the methods)
    style: dict  # matplotlib keywords of its points: color, marker
    example: dict  # a small spec of the family, as a study writes it (tests build and train it)
    fields: dict[str, Field] = field(default_factory=dict)
    dense_over_pixels: bool = False  # its first layer is dense over the pixels (border analysis)
    dense_only: bool = False  # nothing but dense layers in sequence (the hand-written engine)

    def problems(self, spec: ModelSpec) -> list[str]:
        """What makes this spec impossible to build, each as `key: what is wrong`."""
        return []

    def feature_size(self, spec: ModelSpec) -> int:
        """Inputs of the first dense layer."""
        return N_INPUTS

    def feature_parameters(self, spec: ModelSpec) -> int:
        return 0

    def feature_macs(self, spec: ModelSpec) -> int:
        """Multiply-adds of the features for one sample."""
        return 0

    def batch_norm(self, spec: ModelSpec) -> bool:
        """Whether the network normalizes with batch statistics (inspection.batch_norm)."""
        return False

    def skips(self, spec: ModelSpec) -> tuple[bool, ...]:
        """Per dense hidden layer: whether it adds its input to its output."""
        return (False,) * len(spec.hidden)

    def layers(self, spec: ModelSpec) -> str:
        """The report's layers column: the hidden sizes (784 inputs and 10 outputs implied)."""
        return "-".join(map(str, spec.hidden)) or "none"

    def architecture(self, spec: ModelSpec) -> str:
        """Every layer's size, inputs to outputs: `784-100-10`."""
        return "-".join(map(str, spec.dense_sizes()))

    def features(self, spec: ModelSpec) -> nn.Module:
        """The layers before the dense ones, from images (N, 1, 28, 28) in channels-last layout
        to what the first dense layer flattens; an empty Sequential when there are none."""
        from torch import nn

        return nn.Sequential()


def _discover() -> dict[str, Family]:
    found = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        family = getattr(module, "FAMILY", None)
        if not isinstance(family, Family):
            raise TypeError(f"{module.__file__}: a family module defines FAMILY = Family(...)")
        if family.name in found:
            raise ValueError(f"{module.__file__}: family {family.name!r} is defined twice")
        found[family.name] = family
    return dict(sorted(found.items(), key=lambda item: (item[1].rank, item[0])))


FAMILIES: dict[str, Family] = _discover()  # name -> family, in rank order


def get(name: str) -> Family:
    """The family of that name; an unknown name is an error that lists the known ones."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise ValueError(f"family: {name!r} is not a model family; known: "
                         f"{', '.join(FAMILIES)}") from None


def field_owners() -> dict[str, Family]:
    """Spec key -> the family that reads it, for every family's own keys."""
    owners: dict[str, Family] = {}
    for family in FAMILIES.values():
        for key in family.fields:
            if key in owners:
                raise ValueError(f"spec key {key!r} is declared by families {owners[key].name!r} "
                                 f"and {family.name!r}: give one of them another name")
            owners[key] = family
    return owners


def schema_for_models(schema: dict) -> dict:
    """The config schema with the registry's families in it: the `family` key's choices and
    their descriptions, and each family's own keys, wherever the schema describes a model."""
    spec = schema["$defs"]["model_spec"]["properties"]
    spec["family"] = {
        "description": "; ".join(f"{f.name}: {f.description}" for f in FAMILIES.values()),
        "enum": list(FAMILIES)}
    for key, owner in field_owners().items():
        spec[key] = {**owner.fields[key].schema}
        spec[key]["description"] = f"({owner.name} only) {spec[key].get('description', '')}".strip()
    return schema
