"""Images a network never saw, turned into MNIST-like inputs the way MNIST itself was made.

MNIST's recipe (LeCun et al.): grayscale, ink bright on a dark background, the digit fitted into
a 20 x 20 box with its aspect ratio kept (anti-aliased, hence the gray levels), then placed in a
28 x 28 field so that its centre of mass sits at the centre. `mnist_like` applies the same
recipe to any image, so the networks see an unfamiliar image as they would see a digit.

The built-in set (shapes drawn here, photographs shipped inside scikit-image, noise) needs no
files; a user adds images by dropping them into a folder (`inspect.unfamiliar_dir`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, UnidentifiedImageError

from mnist_study.families import SIDE

# scipy.ndimage and scikit-image are imported inside the functions that process images: the
# workflow lists the image folder (candidate_files) while it parses, and jobs that only read
# the prepared images should not pay a second for loading them.

BOX = 20  # the box the digit is fitted into, inside the SIDE x SIDE field
INK_THRESHOLD = 0.2  # what counts as ink when finding the bounding box: above compression noise
THUMBNAIL = 96  # longest side of the originals kept for the figure
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".tif", ".tiff", ".bmp", ".webp", ".pgm", ".ppm"}


@dataclass
class UnfamiliarImage:
    name: str
    source: str  # "drawn", "photo", "noise", or the file's path
    original: np.ndarray  # RGB uint8 thumbnail, for display only
    input: np.ndarray  # (28, 28) float32 in [0, 1]: what the networks see


def mnist_like(gray: np.ndarray) -> np.ndarray:
    """A grayscale image (H, W) of any range -> a (28, 28) float32 MNIST-style input in [0, 1]."""
    from scipy import ndimage
    from skimage import transform

    x = np.asarray(gray, dtype=np.float64)
    if x.ndim != 2 or x.size == 0:
        raise ValueError(f"expected a 2-D grayscale image, got shape {x.shape}")
    x = np.nan_to_num(x)
    lo, hi = x.min(), x.max()
    x = (x - lo) / (hi - lo) if hi > lo else np.zeros_like(x)
    ring = np.concatenate([x[0], x[-1], x[1:-1, 0], x[1:-1, -1]])
    background = float(np.median(ring))
    if background > 0.5:  # dark ink on bright paper: MNIST stores ink as the bright value
        x, background = 1.0 - x, 1.0 - background
    # The paper becomes exactly 0, as MNIST's background is; the brightest ink becomes 1.
    peak = x.max()
    x = np.clip((x - background) / (peak - background), 0, 1) if peak > background else np.zeros_like(x)
    rows, cols = np.nonzero(x > INK_THRESHOLD)
    if len(rows) == 0:
        return np.zeros((SIDE, SIDE), np.float32)
    x = x[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    h, w = x.shape
    scale = BOX / max(h, w)
    shape = (max(1, round(h * scale)), max(1, round(w * scale)))
    # anti_aliasing smooths before shrinking, as MNIST's normalization did; order 1 = bilinear
    box = np.clip(transform.resize(x, shape, order=1, anti_aliasing=scale < 1,
                                   preserve_range=True), 0, 1)
    box /= box.max() if box.max() > 0 else 1.0  # shrinking dims thin strokes; MNIST ink peaks at 1
    field = np.zeros((SIDE, SIDE))
    r0, c0 = (SIDE - shape[0]) // 2, (SIDE - shape[1]) // 2
    field[r0:r0 + shape[0], c0:c0 + shape[1]] = box
    if field.sum() > 0:
        com = np.array(ndimage.center_of_mass(field))
        # whole-pixel shift, as MNIST did: a sub-pixel one would blur the strokes
        shift = np.round((SIDE - 1) / 2 - com)
        field = ndimage.shift(field, shift, order=0, mode="constant", cval=0.0)
    return field.astype(np.float32)


def _thumbnail(rgb: np.ndarray) -> np.ndarray:
    im = Image.fromarray(rgb)
    im.thumbnail((THUMBNAIL, THUMBNAIL), Image.Resampling.LANCZOS)
    return np.asarray(im.convert("RGB"), dtype=np.uint8)


def _to_gray_and_rgb(im: Image.Image) -> tuple[np.ndarray, np.ndarray]:
    """Any PIL mode -> (grayscale float (H, W) in [0, 1], RGB uint8 for display)."""
    from skimage import color

    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        # Transparent areas are shown over white paper, as a viewer or a browser shows them.
        rgba = im.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(paper, rgba).convert("RGB")
    if im.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        # 16-bit and float images keep their full depth; mnist_like stretches the range anyway.
        gray = np.asarray(im, dtype=np.float64)
        lo, hi = gray.min(), gray.max()
        gray = (gray - lo) / (hi - lo) if hi > lo else np.zeros_like(gray)
    elif im.mode == "L":
        gray = np.asarray(im, dtype=np.float64) / 255
    else:  # RGB, CMYK, YCbCr, bilevel, ...
        im = im.convert("RGB")
        gray = color.rgb2gray(np.asarray(im, dtype=np.float64) / 255)
    if im.mode == "RGB":
        display = np.asarray(im, dtype=np.uint8)
    else:
        display = np.repeat((gray * 255).astype(np.uint8)[..., None], 3, axis=-1)
    return gray, _thumbnail(display)


def read_image(path: str | Path) -> UnfamiliarImage:
    """Read one image file (PNG, JPEG, GIF, TIFF, ...; any mode, bit depth and size). Raises
    ValueError naming the file when it cannot be read (empty, not an image, truncated)."""
    path = Path(path)
    try:
        if path.stat().st_size == 0:
            raise ValueError("the file is empty (0 bytes)")
        with Image.open(path) as im:
            im.seek(0)  # an animated GIF: its first frame
            im.load()  # decode now, so a truncated file fails here and not later
            gray, display = _to_gray_and_rgb(im)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, EOFError) as exc:
        raise ValueError(f"{path}: not a readable image ({type(exc).__name__}: {exc})") from exc
    return UnfamiliarImage(path.stem, str(path), display, mnist_like(gray))


def candidate_files(folder: str | Path) -> list[Path]:
    """Files in the folder a user may have meant as images (not hidden, any suffix: a file that
    is not an image is reported rather than silently ignored). Missing folder: none."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def ignored_entries(folder: str | Path) -> list[str]:
    """What the folder holds that is not read, with why: hidden files and sub-folders."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(f"{p.name}/ (a folder: only the folder's own files are read)" if p.is_dir()
                  else f"{p.name} (hidden)" for p in folder.iterdir()
                  if p.is_dir() or p.name.startswith("."))


def folder_fingerprint(folder: str | Path) -> list[list]:
    """Name, size and modification time of each candidate file: a rule's param, so that adding,
    removing or changing an image reruns what uses them. A param and not the files as inputs:
    Snakemake reads input paths as patterns, and a user's file name may hold braces."""
    return [[p.name, st.st_size, st.st_mtime_ns] for p in candidate_files(folder)
            for st in [p.stat()]]


def read_folder(folder: str | Path, log=print) -> tuple[list[UnfamiliarImage], list[dict]]:
    """Every readable image of the folder, and the files left out with the reason. Never raises
    for a bad file or an empty or missing folder; it says so in the log."""
    folder = Path(folder)
    files = candidate_files(folder)
    images, skipped = [], []
    for path in files:
        try:
            images.append(read_image(path))
        except ValueError as exc:
            reason = str(exc).removeprefix(f"{path}: ")
            warnings.warn(f"unfamiliar image {path} left out: {reason}", stacklevel=2)
            log(f"WARNING: unfamiliar image {path} left out: {reason}")
            skipped.append({"file": str(path), "reason": reason})
    for entry in ignored_entries(folder):
        log(f"unfamiliar images: ignored {folder / entry}")
    if not folder.is_dir():
        log(f"unfamiliar images: no folder {folder}; using the built-in set only")
    elif not images:
        log(f"unfamiliar images: {folder} holds no usable image ({len(files)} file(s) tried, "
            f"{len(skipped)} unreadable); using the built-in set only. Supported: "
            f"{', '.join(sorted(IMAGE_SUFFIXES))}")
    else:
        log(f"unfamiliar images: {len(images)} from {folder}, {len(skipped)} left out")
    return images, skipped


def _canvas(n: int = 112) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    im = Image.new("L", (n, n), 255)  # black strokes on white paper, like a mouse drawing
    return im, ImageDraw.Draw(im)


def drawn_shapes() -> dict[str, np.ndarray]:
    """Shapes and letters drawn with strokes about as thick, relative to their size, as MNIST's."""
    shapes = {}
    w = 9
    im, d = _canvas()
    d.line([(20, 100), (56, 12), (92, 100)], fill=0, width=w, joint="curve")
    d.line([(34, 66), (78, 66)], fill=0, width=w)
    shapes["letter A"] = im
    im, d = _canvas()
    d.ellipse([16, 16, 96, 96], outline=0, width=w)
    shapes["circle"] = im
    im, d = _canvas()
    d.ellipse([10, 10, 102, 102], outline=0, width=w)
    d.ellipse([34, 36, 46, 48], fill=0)
    d.ellipse([66, 36, 78, 48], fill=0)
    d.arc([32, 44, 80, 84], 20, 160, fill=0, width=w)
    shapes["face"] = im
    im, d = _canvas()
    d.line([(20, 20), (92, 92)], fill=0, width=w)
    d.line([(20, 92), (92, 20)], fill=0, width=w)
    shapes["cross"] = im
    im, d = _canvas()
    d.line([(56, 14), (56, 98)], fill=0, width=w)
    d.line([(14, 56), (98, 56)], fill=0, width=w)
    shapes["plus"] = im
    im, d = _canvas()
    d.rectangle([22, 22, 90, 90], outline=0, width=w)
    shapes["square"] = im
    im, d = _canvas()
    d.polygon([(56, 14), (100, 96), (12, 96)], outline=0, width=w)
    shapes["triangle"] = im
    im, d = _canvas()
    d.line([(16, 56), (96, 56)], fill=0, width=w)
    shapes["dash"] = im
    return {k: np.asarray(v, dtype=np.float64) / 255 for k, v in shapes.items()}


PHOTOS = {"cat": "chelsea", "astronaut": "astronaut", "coffee": "coffee", "camera": "camera",
          "horse": "horse"}


def builtin_images(seed: int = 0) -> list[UnfamiliarImage]:
    """The set every report shows: drawn shapes, scikit-image's photographs, and noise."""
    from scipy import ndimage
    from skimage import color, transform
    from skimage import data as skdata

    out = []
    for name, gray in drawn_shapes().items():
        rgb = np.repeat((gray * 255).astype(np.uint8)[..., None], 3, -1)
        out.append(UnfamiliarImage(name, "drawn", _thumbnail(rgb), mnist_like(gray)))
    for name, loader in PHOTOS.items():
        arr = getattr(skdata, loader)()
        if arr.dtype == bool:
            arr = arr.astype(np.uint8) * 255
        gray = color.rgb2gray(arr) if arr.ndim == 3 else arr / 255.0
        rgb = arr if arr.ndim == 3 else np.repeat(arr[..., None], 3, -1)
        out.append(UnfamiliarImage(name, "photo", _thumbnail(rgb.astype(np.uint8)), mnist_like(gray)))
    rng = np.random.default_rng(seed)
    noises = {"uniform noise": rng.random((SIDE, SIDE)),
              "smooth noise": ndimage.gaussian_filter(rng.random((112, 112)), 6)}
    for name, gray in noises.items():
        # Noise is fed as it is, not through the recipe: it has no ink, no paper, no shape.
        x = (gray - gray.min()) / (gray.max() - gray.min())
        x = transform.resize(x, (SIDE, SIDE), anti_aliasing=True).astype(np.float32)
        rgb = np.repeat((gray / gray.max() * 255).astype(np.uint8)[..., None], 3, -1)
        out.append(UnfamiliarImage(name, "noise", _thumbnail(rgb), x))
    return out


def sklearn_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 handwritten 8 x 8 digits through the same recipe: (N, 28, 28), labels.
    They were written by other people and digitized another way: a second handwriting
    distribution."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    inputs = np.stack([mnist_like(im / 16.0) for im in digits.images])
    return inputs.astype(np.float32), digits.target.astype(np.int64)


def max_softmax_auc(msp_familiar: np.ndarray, msp_other: np.ndarray) -> dict[str, float]:
    """ROC AUC of the maximum softmax probability as a detector of familiar inputs (1 = every
    MNIST test image is more confident than every other image, 0.5 = no separation) and the
    half-width of its interval over both sets' images (`trust.auroc_interval`)."""
    from mnist_study.evaluate.trust import auroc_interval, half_width

    auc, low, high = auroc_interval(msp_familiar, msp_other)
    return {"auc": auc, "image_half": half_width((low, high))}


def noise_images(n: int = 2000, seed: int = 0) -> dict[str, np.ndarray]:
    """The two noise sets of Hendrycks & Gimpel 2017 for MNIST, (n, 28, 28) in [0, 1]: iid
    Gaussian noise of mean 0.5 and unit variance clipped to [0, 1], and iid uniform noise."""
    rng = np.random.default_rng(seed)
    return {"gaussian": np.clip(rng.normal(0.5, 1.0, (n, SIDE, SIDE)), 0, 1).astype(np.float32),
            "uniform": rng.random((n, SIDE, SIDE), dtype=np.float32)}


def model_responses(members: dict, spec, unfamiliar: np.ndarray, digits: np.ndarray,
                    digit_labels: np.ndarray, mnist_test_probs: dict[int, np.ndarray],
                    others: dict[str, np.ndarray] | None = None,
                    mnist_test_outputs: dict[int, np.ndarray] | None = None):
    """Per member: class probabilities on the unfamiliar images, accuracy on scikit-learn's
    digits, and how well the maximum softmax probability separates MNIST's test images from
    the unfamiliar images, from the other handwriting and from each set in `others` (noise):
    `auc_<set>`; each with the half-width of its interval over the images (`<metric>_image_half`:
    DeLong's for an AUC, Wilson's for the accuracy). The MNIST side is the member's stored test
    probabilities (`mnist_test_probs[seed]`, what training wrote): not computed a second time.
    Why a detector fails is measured beside it: the mean largest probability on each set
    (`msp_<set>`) and, given the stored test outputs, the mean length (L2 norm) of the
    network's outputs on each set (`norm_<set>`): a network that answers noise with larger
    outputs than digits is surer of noise.
    Returns (probs on the unfamiliar images (M, N, 10), rows)."""
    import torch

    from mnist_study.evaluate.trust import half_width, wilson_interval
    from mnist_study.networks import in_chunks
    from mnist_study.train.metrics import probabilities

    def outputs_of(net, x):
        return in_chunks(net, torch.as_tensor(x).float())

    all_probs, rows = [], []
    for seed, net in members.items():
        sets = {"unfamiliar": unfamiliar, "digits": digits, **(others or {})}
        outputs = {k: outputs_of(net, x) for k, x in sets.items()}
        probs = {k: probabilities(out, spec).double().numpy() for k, out in outputs.items()}
        p_unf, p_dig = probs["unfamiliar"], probs["digits"]
        msp = {k: p.max(1) for k, p in probs.items()}
        msp["mnist"] = mnist_test_probs[seed].max(1)
        norms = {k: float(out.double().norm(dim=1).mean()) for k, out in outputs.items()}
        if mnist_test_outputs is not None:
            norms["mnist"] = float(np.linalg.norm(mnist_test_outputs[seed].astype(np.float64),
                                                  axis=1).mean())
        aucs = {k: max_softmax_auc(msp["mnist"], v) for k, v in msp.items() if k != "mnist"}
        # a diverged member has no accuracy: its argmax over NaN would read as ~10 %
        answers = np.isfinite(p_dig).all()
        digits_accuracy = float((p_dig.argmax(1) == digit_labels).mean()) if answers else np.nan
        rows.append({"seed": seed, "digits_accuracy": digits_accuracy,
                     "digits_accuracy_image_half": half_width(
                         wilson_interval(digits_accuracy, len(digit_labels))) if answers else np.nan,
                     **{f"auc_{k}": a["auc"] for k, a in aucs.items()},
                     **{f"auc_{k}_image_half": a["image_half"] for k, a in aucs.items()},
                     **{f"msp_{k}": float(v.mean()) for k, v in msp.items()},
                     **{f"norm_{k}": v for k, v in norms.items()}})
        all_probs.append(p_unf)
    return np.stack(all_probs).astype(np.float32), rows


def save_images(images: list[UnfamiliarImage], path, skipped: list[dict],
                ignored: list[str] = ()) -> None:
    """One npz: names, sources, inputs (N, 28, 28), the thumbnails as original_<i>, the files
    left out (unreadable, with the reason) and the folder's entries ignored (with why)."""
    from mnist_study import files

    files.save_npz(path, names=np.array([im.name for im in images]),
                sources=np.array([im.source for im in images]),
                inputs=np.stack([im.input for im in images]),
                skipped=np.array([f"{s['file']}: {s['reason']}" for s in skipped], dtype=str),
                ignored=np.array(list(ignored), dtype=str),
                **{f"original_{i}": im.original for i, im in enumerate(images)})


def load_images(path) -> dict:
    with np.load(path) as z:
        out = {k: z[k] for k in ("names", "sources", "inputs", "skipped", "ignored")}
        out["originals"] = [z[f"original_{i}"] for i in range(len(out["names"]))]
    return out
