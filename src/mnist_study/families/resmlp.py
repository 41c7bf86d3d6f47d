"""Residual fully connected networks: a first dense layer maps the pixels to a width, and each
further hidden layer of that width adds its input to its output, h <- h + act(W h + b), as a
residual network's identity shortcut does (He et al. 2016). The shortcut lets a deeper
stack start close to the shallower one: at equal widths it is the plain mlp's one change."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mnist_study.families import Family

if TYPE_CHECKING:
    from mnist_study.spec import ModelSpec


class ResidualFamily(Family):
    def problems(self, spec: ModelSpec) -> list[str]:
        if len(spec.hidden) < 2:
            return [f"hidden: a resmlp needs at least 2 hidden layers (the first maps the pixels "
                    f"to the width, each further one adds its input to its output); got "
                    f"{list(spec.hidden)}"]
        if len(set(spec.hidden)) > 1:
            return [f"hidden: a resmlp's hidden layers all have one width (a shortcut adds a "
                    f"layer's input to its output); got {list(spec.hidden)}"]
        return []

    def skips(self, spec: ModelSpec) -> tuple[bool, ...]:
        return (False,) + (True,) * (len(spec.hidden) - 1)

    def layers(self, spec: ModelSpec) -> str:
        return f"{spec.hidden[0]}, {len(spec.hidden) - 1}x residual {spec.hidden[0]}"


FAMILY = ResidualFamily(
    name="resmlp", rank=2, short="ResMLP", noun="residual fully connected network",
    description="a dense layer over the 784 pixels, then hidden layers of the same width, each "
                "adding its input to its output",
    style={"color": "tab:green", "marker": "^"},
    example={"hidden": [16, 16, 16]},
    dense_over_pixels=True,
)
