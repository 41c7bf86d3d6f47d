"""Feature visualization of the trained networks, after lucent's design: a parameterization of
the image, a list of transforms and an objective compose in one pure
`render(model, objective, param, transforms, steps) -> images`; saving and plotting happen
elsewhere. Also the analysis behind the "border mystery" of the seed's ideal digits.

Objectives are maximized and map (logits (N, 10), images (N, 28, 28)) -> (N,), so the ten
classes render at once as one batch of ten images; they combine with + - and scalars:
`class_logit(range(10)) - 0.1 * l2()`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from mnist_study import families
from mnist_study.data import digit_means
from mnist_study.families import N_CLASSES, SIDE
from mnist_study.networks import Network, in_chunks, init_network, load_members, optimizer_step
from mnist_study.spec import DIGITS, ModelSpec

# --- objectives ---------------------------------------------------------------------------

class Objective:
    def __init__(self, fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], name: str):
        self.fn, self.name = fn, name

    def __call__(self, logits: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
        return self.fn(logits, images)

    def __add__(self, other: "Objective") -> "Objective":
        return Objective(lambda z, x: self(z, x) + other(z, x), f"{self.name} + {other.name}")

    def __sub__(self, other: "Objective") -> "Objective":
        return Objective(lambda z, x: self(z, x) - other(z, x), f"{self.name} - {other.name}")

    def __mul__(self, k: float) -> "Objective":
        return Objective(lambda z, x: k * self(z, x), f"{k:g} {self.name}")

    __rmul__ = __mul__

    def __neg__(self) -> "Objective":
        return -1.0 * self


def _classes(classes: Sequence[int]) -> torch.Tensor:
    return torch.as_tensor(list(classes), dtype=torch.long)


def class_logit(classes: Sequence[int]) -> Objective:
    """Image i raises the logit of classes[i] (the seed's class maximization)."""
    c = _classes(classes)
    return Objective(lambda z, x: z[torch.arange(len(z)), c.to(z.device)], "logit")


def class_log_prob(classes: Sequence[int]) -> Objective:
    """Image i lowers the cross-entropy loss of label classes[i] (the seed's deep dream): unlike
    the logit, this also pushes the other classes down."""
    c = _classes(classes)
    return Objective(lambda z, x: -F.cross_entropy(z, c.to(z.device), reduction="none"), "-loss")


def mean_log_prob_all() -> Objective:
    """One image that lowers the loss of all ten labels at once (the seed's single deep dream)."""
    return Objective(lambda z, x: F.log_softmax(z, -1).mean(-1), "-mean loss")


def l2() -> Objective:
    """Squared norm of the image: ink costs, so only pixels the class really wants get it."""
    return Objective(lambda z, x: x.pow(2).flatten(1).sum(1), "L2")


def total_variation() -> Objective:
    """Summed squared differences of neighbouring pixels: penalizes isolated, speckled pixels."""
    def tv(z, x):
        return ((x[:, 1:, :] - x[:, :-1, :]).pow(2).flatten(1).sum(1)
                + (x[:, :, 1:] - x[:, :, :-1]).pow(2).flatten(1).sum(1))
    return Objective(tv, "TV")


def side_by_side(*parts: tuple[Objective, int]) -> Objective:
    """Objective i of `parts` on its own next n_i images of the batch: several renders as one
    batch, so each ascent step passes through the model once for all of them (a large
    network's step is bound by reading its weights: twenty images cost about what ten do).
    Adam updates every pixel on its own, so each part ends where it would alone."""
    def fn(z, x):
        values, start = [], 0
        for objective, n in parts:
            values.append(objective(z[start:start + n], x[start:start + n]))
            start += n
        return torch.cat(values)
    return Objective(fn, " | ".join(o.name for o, _ in parts))


# --- parameterizations --------------------------------------------------------------------

@dataclass(frozen=True)
class Pixels:
    """Raw pixels, one image per objective row, from a constant start. clamp: projected back
    into MNIST's range [0, 1] after every step (the seed clamped)."""
    n: int = N_CLASSES
    start: float = 0.5
    clamp: bool = True

    def build(self) -> tuple[torch.Tensor, Callable[[], None]]:
        x = torch.full((self.n, SIDE, SIDE), float(self.start), requires_grad=True)

        def project() -> None:
            if self.clamp:
                with torch.no_grad():
                    x.clamp_(0.0, 1.0)

        return x, project


# --- transforms: applied to what the model sees, never to the stored image ----------------

Transform = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


def jitter(pixels: int) -> Transform:
    """Shift by a random whole number of pixels (zero fill): a feature that only works at one
    exact position is an artefact, a digit is not."""
    def f(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        dy, dx = (torch.randint(-pixels, pixels + 1, (2,), generator=g)).tolist()
        padded = F.pad(x, (pixels, pixels, pixels, pixels))
        return padded[:, pixels + dy:pixels + dy + SIDE, pixels + dx:pixels + dx + SIDE]
    return f


def blur(sigma: float) -> Transform:
    """Gaussian blur: the gradient reaching the image is blurred too, so updates are smooth."""
    # here, not at the top: importing torchvision imports torch's compiler (4 s on 2 cores),
    # which only the jobs that blur need to pay for
    from torchvision.transforms.functional import gaussian_blur

    k = 2 * int(np.ceil(2 * sigma)) + 1

    def f(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        return gaussian_blur(x[:, None], [k, k], [sigma, sigma])[:, 0]
    return f


# --- render -------------------------------------------------------------------------------

def render(model: torch.nn.Module, objective: Objective, param: Pixels = Pixels(),
           transforms: Sequence[Transform] = (), steps: int = 200, lr: float = 0.05,
           seed: int = 0) -> torch.Tensor:
    """Gradient ascent on the objective with Adam; returns the images (n, 28, 28). The model is
    only read: gradients are taken with respect to the image alone."""
    g = torch.Generator().manual_seed(seed)
    x, project = param.build()
    opt = torch.optim.Adam([x], lr=lr)
    for _ in range(steps):
        seen = x
        for t in transforms:
            seen = t(seen, g)
        value = objective(model(seen), x).sum()
        (grad,) = torch.autograd.grad(value, [x])
        x.grad = -grad  # Adam minimizes
        optimizer_step(opt)
        project()
    return x.detach().clone()


# --- models and measurements --------------------------------------------------------------

def first_member(path: str | Path, seed: int | None = None) -> tuple[ModelSpec, int, Network]:
    """The network of one seed of a weights file: `seed`, or its first seed."""
    spec, members = load_members(path)
    seed = min(members) if seed is None else seed
    return spec, seed, members[seed]


@torch.no_grad()
def logits_of(model: torch.nn.Module, images: torch.Tensor) -> torch.Tensor:
    return model(images.float())


def fraction_at_bounds(images: torch.Tensor, tol: float = 1e-6) -> float:
    """Share of pixels at 0 or 1 exactly: a clamped ascent of a piecewise-linear network ends at
    a corner of the [0, 1] box when every pixel is pushed to one bound."""
    return float(((images <= tol) | (images >= 1 - tol)).float().mean())


def correlation_with(images: torch.Tensor, references: torch.Tensor) -> np.ndarray:
    """Pearson correlation of image i with reference i, pixel by pixel."""
    a = images.flatten(1).double()
    b = references.flatten(1).double()
    a, b = a - a.mean(1, keepdim=True), b - b.mean(1, keepdim=True)
    denom = a.norm(dim=1) * b.norm(dim=1)
    return torch.where(denom > 0, (a * b).sum(1) / denom, torch.nan).numpy()


# --- the border mystery -------------------------------------------------------------------

def pixel_usage(images: torch.Tensor) -> torch.Tensor:
    """Share of the images in which each pixel is non-zero, (28, 28)."""
    return (images.reshape(len(images), SIDE, SIDE) > 0).float().mean(0)


def first_layer_change(model: Network, spec: ModelSpec, seed: int) -> dict[str, torch.Tensor]:
    """Per input pixel: the first-layer weight norm now and at initialization (rebuilt exactly
    from the seed), the relative change, and whether the weights are bit-identical to init.
    Only a family whose first layer is dense over the pixels (an mlp's) has one weight column
    per pixel."""
    if not families.get(spec.family).dense_over_pixels:
        raise ValueError(f"the border analysis reads a first dense layer over the pixels, which a "
                         f"{spec.family} does not have: set inspect.model to a model whose family "
                         f"has one (an mlp)")
    w = model.layers[0].weight.detach()
    w0 = init_network(spec, seed).layers[0].weight.detach()
    norm, norm0 = w.norm(dim=0), w0.norm(dim=0)
    return {"norm": norm.reshape(SIDE, SIDE), "norm_init": norm0.reshape(SIDE, SIDE),
            "relative_change": ((w - w0).norm(dim=0) / norm0).reshape(SIDE, SIDE),
            "unchanged": (w == w0).all(0).reshape(SIDE, SIDE)}


class MaskedInputs(torch.nn.Module):
    """The network as it would be had the masked pixels never existed: it sees them as 0 (for
    an mlp, the same as zeroing their first-layer weight columns). On inputs that are 0 there
    anyway (every training image, for never-used pixels), its outputs equal the original's."""

    def __init__(self, model: torch.nn.Module, mask: torch.Tensor):
        super().__init__()
        self.model = model
        self.register_buffer("keep", (~mask.flatten()).float())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x.flatten(1) * self.keep)


def mask_inputs(model: torch.nn.Module, mask: torch.Tensor) -> torch.nn.Module:
    return MaskedInputs(copy.deepcopy(model), mask).eval().requires_grad_(False)


@torch.no_grad()
def logit_gain_from(model: torch.nn.Module, images: torch.Tensor, mask: torch.Tensor,
                    classes: Sequence[int]) -> np.ndarray:
    """How much of each target logit the masked pixels supply: logit(x) - logit(x, masked = 0)."""
    c = _classes(classes)
    full = model(images)[torch.arange(len(images)), c]
    cut = model(images * (~mask).float())[torch.arange(len(images)), c]
    return (full - cut).numpy()


# --- the experiments of the report, each a few renders ------------------------------------



@dataclass(frozen=True)
class Ascent:
    """Settings shared by every render of the report."""
    steps: int = 200
    lr: float = 0.05
    start: float = 0.5  # neutral: neither paper (0) nor ink (1)
    seed: int = 0


def class_maximization(model: torch.nn.Module, a: Ascent, clamp: bool = True) -> torch.Tensor:
    """The seed's Fig. 7: per digit, the input in [0, 1] that maximizes its logit."""
    return render(model, class_logit(DIGITS), Pixels(N_CLASSES, a.start, clamp), (), a.steps, a.lr, a.seed)


def class_dream(model: torch.nn.Module, a: Ascent, clamp: bool = True) -> torch.Tensor:
    """The seed's deep dream per digit: the input that minimizes the loss of that label (its
    log-probability, where class maximization takes the logit, so that the other digits are
    pushed down too)."""
    return render(model, class_log_prob(DIGITS), Pixels(N_CLASSES, a.start, clamp), (), a.steps, a.lr, a.seed)


def class_maximization_and_dream(model: torch.nn.Module, a: Ascent) -> tuple[torch.Tensor, torch.Tensor]:
    """class_maximization and class_dream (both clamped) in one ascent of twenty images."""
    both = side_by_side((class_logit(DIGITS), N_CLASSES), (class_log_prob(DIGITS), N_CLASSES))
    x = render(model, both, Pixels(2 * N_CLASSES, a.start, True), (), a.steps, a.lr, a.seed)
    return x[:N_CLASSES], x[N_CLASSES:]


def deep_dream(model: torch.nn.Module, a: Ascent) -> dict[str, torch.Tensor]:
    """The seed's Fig. 8: inputs that minimize the loss, per digit and one for all ten labels,
    each with and without clamping to [0, 1]."""
    out = {}
    for clamp in (True, False):
        tag = "clamped" if clamp else "unclamped"
        out[f"per_class_{tag}"] = class_dream(model, a, clamp)
        out[f"single_{tag}"] = render(model, mean_log_prob_all(), Pixels(1, a.start, clamp),
                                      (), a.steps, a.lr, a.seed)[0]
    return out


def regularized_variants(model: torch.nn.Module, a: Ascent, l2_weight: float, tv_weight: float,
                         blur_sigma: float, jitter_px: int) -> dict[str, torch.Tensor]:
    """The class logit under each regularizer alone and all together, beside the naive ascent.
    All stay in [0, 1], so they differ only in what the regularizer adds."""
    logit = class_logit(DIGITS)
    variants = {
        "naive": (logit, ()),
        "L2 penalty": (logit - l2_weight * l2(), ()),
        "total variation": (logit - tv_weight * total_variation(), ()),
        "blur": (logit, (blur(blur_sigma),)),
        "jitter": (logit, (jitter(jitter_px),)),
        "all four": (logit - l2_weight * l2() - tv_weight * total_variation(),
                     (jitter(jitter_px), blur(blur_sigma))),
    }
    return {name: render(model, obj, Pixels(N_CLASSES, a.start, True), tr, a.steps, a.lr, a.seed)
            for name, (obj, tr) in variants.items()}


def render_numbers(model: torch.nn.Module, images: torch.Tensor, means: torch.Tensor,
             dead: torch.Tensor | None = None, start: float = 0.5) -> dict[str, float]:
    """Numbers the text quotes about a set of ten rendered digits (image i for digit i); with
    `dead` (the never-used pixels, for the border analysis of an mlp) also what those carry."""
    z = logits_of(model, images)
    out = {"target_logit": float(z.diagonal().mean()),
           "hit_rate": float((z.argmax(1) == torch.arange(N_CLASSES)).float().mean()),
           "at_bounds": fraction_at_bounds(images),
           "min": float(images.min()), "max": float(images.max()),
           "corr_class_mean": float(np.nanmean(correlation_with(images, means)))}
    if dead is None:
        return out
    # a pixel with no gradient stays at the start value; one with any gradient moves
    return {**out, "never_used_moved": float((images - start).abs()[:, dead].gt(1e-3).float().mean())
            if dead.any() else float("nan"),
            "logit_from_never_used": float(np.mean(logit_gain_from(model, images, dead, DIGITS)))}


@torch.no_grad()
def accuracy(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    x = images.float().flatten(1) / 255
    return float((in_chunks(model, x).argmax(1) == labels).float().mean())


RARE_PIXEL_SHARE = 0.001  # a pixel non-zero in fewer than this share of training images is rare


def border_analysis(model: Network, spec: ModelSpec, seed: int, control: Network, control_spec: ModelSpec,
                    control_seed: int, data: dict[str, torch.Tensor], a: Ascent) -> tuple[dict, dict]:
    """Why ideal digits lean on the border. Returns maps (for the figure) and numbers (for the
    text): which pixels are never non-zero in training, whether their first-layer weights ever
    moved from init, how much of the rendered digits' ink and logit they carry, and the same
    for two controls: the model with those inputs cut (no retraining) and the model retrained
    with weight decay."""
    usage = pixel_usage(data["train_images"])
    never = usage == 0
    rare = usage < RARE_PIXEL_SHARE
    means = torch.from_numpy(digit_means(data["train_images"].numpy(),
                                         data["train_labels"].numpy())[0]).float()
    change = first_layer_change(model, spec, seed)
    control_change = first_layer_change(control, control_spec, control_seed)
    masked = mask_inputs(model, never)
    nets = {"model": model, "inputs cut": masked, "weight decay": control}
    renders = {k: class_maximization(net, a) for k, net in nets.items()}
    test_x, test_y = data["test_images"], data["test_labels"]
    numbers = {
        "n_pixels": SIDE * SIDE, "n_train": len(data["train_images"]),
        "n_never_used": int(never.sum()), "n_rare": int(rare.sum()), "rare_share": RARE_PIXEL_SHARE,
        "n_never_used_unchanged": int((change["unchanged"] & never).sum()),
        "n_unchanged": int(change["unchanged"].sum()),
        "norm_never_used": float(change["norm"][never].mean()) if never.any() else float("nan"),
        "norm_used": float(change["norm"][~never].mean()),
        "norm_init": float(change["norm_init"].mean()),
        "control_norm_never_used": (float(control_change["norm"][never].mean()) if never.any()
                                    else float("nan")),
        "control_norm_used": float(control_change["norm"][~never].mean()),
        "test_in_never_used": float((test_x.flatten(1)[:, never.flatten()] > 0).any(1).float().mean()),
        "accuracy": {k: accuracy(net, test_x, test_y) for k, net in nets.items()},
        "renders": {k: render_numbers(nets[k], x, means, never, a.start) for k, x in renders.items()},
    }
    maps = {"usage": usage.numpy(), "never": never.numpy(), "norm": change["norm"].numpy(),
            "relative_change": change["relative_change"].numpy(),
            "control_norm": control_change["norm"].numpy(),
            **{f"render_{k}": x.numpy() for k, x in renders.items()}}
    return maps, numbers
