"""Fully connected networks (multilayer perceptrons): the seed study's family."""

from mnist_study.families import Family

FAMILY = Family(
    name="mlp", rank=0, short="MLP", noun="fully connected network",
    description="dense layers only, over the 784 pixels",
    style={"color": "tab:blue", "marker": "o"},
    example={"hidden": [32, 16]},
    dense_over_pixels=True, dense_only=True,
)
