"""Numbers and free text as LaTeX: the one place where the report's numbers are formatted
(analysis files hold plain numbers). Every number goes out through siunitx (\\num, \\qty,
\\numrange; set up once in report.tex.j2), so that minus signs, thousands separators and
exponents look the same everywhere; the decimals are chosen here. Every function returns "--"
for a missing value."""

from __future__ import annotations

import math
import re

LATEX_SPECIALS = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
}
_SPECIALS_RE = re.compile("|".join(re.escape(c) for c in LATEX_SPECIALS))


LOSS_NAMES = {"cross_entropy": "cross-entropy", "nll": "NLL", "mse": "MSE"}  # as the text names them

def escape_latex(text) -> str:
    """Make free text (model names, paths, host names) safe to place in LaTeX."""
    return _SPECIALS_RE.sub(lambda m: LATEX_SPECIALS[m.group()], str(text))


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def num(text: str) -> str:
    r"""A number already rounded to its decimals, set by siunitx: \num{-0.012}."""
    return rf"\num{{{text}}}"


def fmt_num(x, digits: int = 3) -> str:
    return "--" if _missing(x) else num(f"{x:.{digits}f}")


def fmt_int(n) -> str:
    """A count, with siunitx's thousands separator: 60,000."""
    return "--" if _missing(n) else num(str(int(n)))


def fmt_loss(x, digits: int = 3) -> str:
    """A loss: `digits` decimals, as fmt_num, while it is of a size that reads so; in powers of
    ten once it is 10,000 or more in size (NLL on raw scores falls without end, to -9e13:
    -8.96 x 10^13, not fourteen digits running off the line)."""
    if _missing(x) or abs(x) < 1e4:
        return fmt_num(x, digits)
    mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
    return num(f"{mantissa}e{int(exponent)}")


def fmt_pct(x, digits: int = 1) -> str:
    """A fraction in percent: 97.5 %."""
    return "--" if _missing(x) else rf"\qty{{{100 * x:.{digits}f}}}{{\percent}}"


def fmt_lr(lr: float) -> str:
    """A learning rate as the study writes it: 0.001; 1e-05 as 1 x 10^-5, 1e+12 as 1 x 10^12."""
    mantissa, _, exponent = f"{lr:g}".partition("e")
    return num(f"{mantissa}e{int(exponent)}" if exponent else mantissa)


SI_PREFIXES = ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))


def significant(x, digits: int = 3) -> str:
    """`digits` significant digits as plain text, trailing zeros kept, never in exponent
    notation: 0.0123, 12.0, 1.00, 1230."""
    import numpy as np

    return np.format_float_positional(float(x), precision=digits, unique=False,
                                      fractional=False, trim="k").rstrip(".")


def fmt_sig(x, digits: int = 3) -> str:
    return "--" if _missing(x) else num(significant(x, digits))


def fmt_si(x, digits: int = 3, unit: str = "") -> str:
    r"""A count with an SI prefix and `digits` significant digits: 101, 636\,k, 1.00\,M;
    with a unit: 1.43\,TFLOP."""
    if _missing(x):
        return "--"
    rounded = float(f"{float(x):.{digits}g}")  # 999,999 -> 1e6: "1.00 M", not "1000 k"
    for scale, prefix in SI_PREFIXES:
        if abs(rounded) >= scale:
            return f"{fmt_sig(rounded / scale, digits)}\\,{prefix}{unit}"
    return fmt_sig(rounded, digits) + (f"\\,{unit}" if unit else "")


def fmt_pct_range(low, high, digits: int = 2) -> str:
    """An interval of fractions in percent, without the sign (the column header says %)."""
    if _missing(low) or _missing(high):
        return "--"
    return rf"\numrange{{{100 * low:.{digits}f}}}{{{100 * high:.{digits}f}}}"




def fmt_signed(x, digits: int = 3) -> str:
    """A difference with its sign (siunitx sets a true minus): +0.073, -0.012."""
    return "--" if _missing(x) else num(f"{x:+.{digits}f}")


def fmt_p(p: float, bare: bool = False) -> str:
    """A p-value as the text reads it: 'p = 0.029', 'p = 0.0031', 'p < 0.0001'; `bare`, as a
    table column headed p gives it: '0.029', '< 0.0001'."""
    if _missing(p):
        return "--"
    if p < 1e-4:
        return rf"$< {num('0.0001')}$" if bare else rf"$p < {num('0.0001')}$"
    return fmt_sig(p, 2) if bare else f"$p = {fmt_sig(p, 2)}$"


def fmt_range(low, high, digits: int = 3) -> str:
    """An interval as a range: 0.975--0.982."""
    if _missing(low) or _missing(high):
        return "--"
    return rf"\numrange{{{low:.{digits}f}}}{{{high:.{digits}f}}}"


def fmt_pm(value, seed_half, image_half, digits: int = 3, scale: float = 1.0,
           lowest: float | None = 0.0, highest: float | None = 1.0) -> str:
    r"""A value with the one interval that belongs to it: the mean over seeds $\pm$ the
    half-width over seeds, or one seed's value $\pm$ its half-width over the test images,
    marked \dag; the value alone where neither exists. An interval that would reach past
    what the quantity can be ([lowest, highest], before `scale`; None: no such bound) is
    printed as its range cut there: 0.030 [0.000, 0.062]."""
    if _missing(value):
        return "--"
    text = fmt_num(scale * value, digits)
    seed, image = (None if _missing(h) else h for h in (seed_half, image_half))
    half, mark = (seed, "") if seed is not None else (image, "\\,\\dag")
    if half is None:
        return text
    low, high = value - half, value + half
    if (lowest is not None and low < lowest) or (highest is not None and high > highest):
        low = low if lowest is None else max(low, lowest)
        high = high if highest is None else min(high, highest)
        return f"{text} [{fmt_num(scale * low, digits)}, {fmt_num(scale * high, digits)}]{mark}"
    return rf"{text}\ci{{{fmt_num(scale * half, digits)}}}{mark}"


def fmt_count(n, noun: str, plural: str | None = None) -> str:
    """A count with its noun in agreement: 1 epoch, 2 epochs, 0 cells; 1,000 images."""
    n = int(n)
    return f"{fmt_int(n)} {noun if n == 1 else (plural or noun + 's')}"


def fmt_list(items, conjunction: str = "and") -> str:
    """Items as a sentence lists them: 'a', 'a and b', 'a, b and c' (or 'a, b or c'); with
    semicolons where an item holds a comma of its own ('11 (MSE, raw scores); 12 and 13'), so
    none is misread."""
    items = [str(x) for x in items]
    if len(items) < 2:
        return "".join(items)
    sep = "; " if any("," in x for x in items) else ", "
    return sep.join(items[:-1]) + f" {conjunction} " + items[-1]


_LONG_NUMBER = re.compile(r"\d{6,}")


def breakable(text) -> str:
    r"""Free text escaped for LaTeX, with places a narrow table cell may break it: after each
    hyphen of a layer list (784-392-196) and between the digit groups of a long number
    (1,099,511,627,776), which would otherwise run past the cell's edge."""
    escaped = escape_latex(text)
    escaped = _LONG_NUMBER.sub(lambda m: f"{int(m.group()):,}".replace(",", ",\\allowbreak{}"),
                               escaped)
    return escaped.replace("-", "-\\allowbreak{}")
