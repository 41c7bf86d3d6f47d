"""Convolutional networks: convolution blocks over the image, then the dense layers of
`hidden` (a dense head, which may be empty) over the last block's flattened feature maps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mnist_study.families import SIDE, Family, Field

if TYPE_CHECKING:
    from torch import nn

    from mnist_study.spec import ModelSpec


@dataclass(frozen=True)
class ConvBlock:
    """One convolution block: conv -> [batch norm] -> activation -> [max pool] -> [dropout]
    (a ReLU is applied after the pooling, which gives the same numbers faster)."""
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

    def conv_side(self, side: int) -> int:
        """Side of the convolution's output on a side x side map."""
        return side + 2 * self.padding - self.kernel + 1

    def output_side(self, side: int) -> int:
        """Side of the feature map this block makes from a side x side one (0: none left)."""
        return max(self.conv_side(side), 0) // self.pool


BLOCK_SCHEMA = {
    "description": "One convolution block: conv (square kernel) -> [batch norm] -> activation "
                   "-> [max pool] -> [dropout].",
    "type": "object",
    "additionalProperties": False,
    "required": ["channels"],
    "properties": {
        "channels": {"description": "Output channels of the convolution.", "type": "integer",
                     "minimum": 1},
        "kernel": {"description": "Side of the square kernel.", "type": "integer", "minimum": 1,
                   "default": 5},
        "padding": {"description": "Zero padding on each side (kernel // 2 keeps the size).",
                    "type": "integer", "minimum": 0, "default": 0},
        "pool": {"description": "Max-pool window and stride (1: no pooling).", "type": "integer",
                 "minimum": 1, "default": 1},
        "batch_norm": {"description": "Batch normalization after the convolution.",
                       "type": "boolean", "default": False},
        "dropout": {"description": "Dropout after the block (0 - none).", "type": "number",
                    "minimum": 0, "exclusiveMaximum": 1, "default": 0},
    },
}


def _blocks(value) -> tuple[ConvBlock, ...]:
    """Blocks as YAML or to_dict writes them (dicts) or as built (ConvBlock), as a tuple."""
    return tuple(b if isinstance(b, ConvBlock) else ConvBlock(**b) for b in value)


def conv_layers(spec: ModelSpec) -> list[tuple[int, int, int]]:
    """(in channels, out channels, output side of the convolution) per block."""
    layers, channels, side = [], 1, SIDE
    for block in spec.conv:
        layers.append((channels, block.channels, block.conv_side(side)))
        channels, side = block.channels, block.output_side(side)
    return layers


def conv_block(block: ConvBlock, in_channels: int, activation: str) -> nn.Sequential:
    from torch import nn

    from mnist_study.networks import ACTIVATIONS

    layers: list[nn.Module] = [nn.Conv2d(in_channels, block.channels, block.kernel,
                                         padding=block.padding, bias=not block.batch_norm)]
    if block.batch_norm:  # a bias before batch norm would be subtracted again
        layers.append(nn.BatchNorm2d(block.channels))
    act, pool = ACTIVATIONS[activation](), [nn.MaxPool2d(block.pool)] if block.pool > 1 else []
    # ReLU after the pooling: max(relu(a), relu(b)) = relu(max(a, b)) exactly, gradients
    # included (both route to the same first maximum, and zero where it is not positive), on a
    # pool^2 times smaller map (benchmarks/engine-notes.md). Other activations stay first: a
    # vectorized sigmoid or tanh need not be monotone to the last bit.
    layers += [*pool, act] if activation == "relu" else [act, *pool]
    if block.dropout > 0:
        layers.append(nn.Dropout(block.dropout))
    return nn.Sequential(*layers)


class ConvolutionalFamily(Family):
    def problems(self, spec: ModelSpec) -> list[str]:
        if not spec.conv:
            return ["conv: a cnn needs at least one convolution block"]
        out, side = [], SIDE
        for i, block in enumerate(spec.conv):
            if block.channels < 1:
                out.append(f"conv.{i}.channels: {block.channels}; a block needs at least 1 channel")
            padded = side + 2 * block.padding
            if block.kernel > padded:
                out.append(f"conv.{i}.kernel: {block.kernel} is larger than the {padded}x{padded} "
                           f"(padded) feature map it slides over; use a smaller kernel, more "
                           f"padding, or less pooling before it")
                break
            if block.pool > block.conv_side(side):
                n = block.conv_side(side)
                out.append(f"conv.{i}.pool: {block.pool} is larger than the {n}x{n} feature map "
                           f"it pools; use a smaller window or leave it out")
                break
            side = block.output_side(side)
        return out

    def feature_size(self, spec: ModelSpec) -> int:
        side = SIDE
        for block in spec.conv:
            side = block.output_side(side)
        return spec.conv[-1].channels * side * side

    def feature_parameters(self, spec: ModelSpec) -> int:
        # batch norm's scale and shift take the place of the convolution's bias
        return sum(c_in * c_out * b.kernel ** 2 + (2 * c_out if b.batch_norm else c_out)
                   for (c_in, c_out, _), b in zip(conv_layers(spec), spec.conv))

    def feature_macs(self, spec: ModelSpec) -> int:
        # each weight, and the bias as one, once per output position it is applied at (as a
        # dense layer's); batch normalization, like pooling and activations, is not counted
        return sum((c_in * c_out * b.kernel ** 2 + (0 if b.batch_norm else c_out)) * side ** 2
                   for (c_in, c_out, side), b in zip(conv_layers(spec), spec.conv))

    def batch_norm(self, spec: ModelSpec) -> bool:
        return any(b.batch_norm for b in spec.conv)

    def layers(self, spec: ModelSpec) -> str:
        return self.architecture(spec)

    def architecture(self, spec: ModelSpec) -> str:
        dense = "-".join(str(n) for n in spec.dense_sizes())
        return ", ".join(b.describe() for b in spec.conv) + f" | {dense}"

    def features(self, spec: ModelSpec) -> nn.Module:
        from torch import nn

        channels = [1, *(b.channels for b in spec.conv)]
        return nn.Sequential(*(conv_block(b, c, spec.activation)
                               for b, c in zip(spec.conv, channels)))


FAMILY = ConvolutionalFamily(
    name="cnn", rank=1, short="CNN", noun="convolutional network",
    description="convolution blocks over the image (conv), then dense layers (hidden) over their "
                "feature maps",
    style={"color": "tab:orange", "marker": "s"},
    example={"conv": [{"channels": 4, "kernel": 5, "padding": 2, "pool": 2, "batch_norm": True},
                      {"channels": 6, "kernel": 3, "pool": 2}], "hidden": [16]},
    fields={"conv": Field(
        default=(), parse=_blocks, type="tuple[ConvBlock, ...]",
        schema={"description": "The convolution blocks, input side first (28x28 images, 1 "
                               "channel).",
                "type": "array", "items": BLOCK_SCHEMA})},
)

