"""The report's Jinja environment: LaTeX-safe delimiters (\\BLOCK{...}, \\VAR{...}), a missing
value an error, the formatters as filters and the data-dependent sentences (report.claims) as
functions, so that a template prints what Python computed and formats nothing itself."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2

from mnist_study import families
from mnist_study.report import claims
from mnist_study.report.formatting import (
    breakable,
    escape_latex,
    fmt_count,
    fmt_int,
    fmt_list,
    fmt_lr,
    fmt_num,
    fmt_pct,
    fmt_pm,
)


def make_env(template_dir: str | Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir)),
        block_start_string=r"\BLOCK{", block_end_string="}",
        variable_start_string=r"\VAR{", variable_end_string="}",
        comment_start_string=r"\#{", comment_end_string="}",
        line_statement_prefix="%%", line_comment_prefix="%#",
        trim_blocks=True, lstrip_blocks=True, autoescape=False,
        undefined=jinja2.StrictUndefined,  # a missing value fails the render, not the reader
    )
    env.filters["e"] = escape_latex
    env.filters["num"] = fmt_num
    env.filters["pct"] = fmt_pct
    env.filters["pm"] = fmt_pm
    env.filters["count"] = fmt_count
    env.filters["integer"] = fmt_int
    env.filters["lr"] = fmt_lr
    env.filters["and_list"] = fmt_list
    env.filters["breakable"] = breakable
    env.filters["family"] = lambda name: families.get(name).short
    env.globals["batch_lr_sentence"] = claims.batch_lr_sentence
    env.globals["extreme_digits"] = claims.extreme_digits
    env.globals["hardest_counts"] = claims.hardest_counts
    env.globals["worse_than_chance"] = claims.worse_than_chance
    env.globals["calibration_sentence"] = claims.calibration_sentence
    env.globals["border_control_sentence"] = claims.border_control_sentence
    env.globals["temperature"] = lambda t, bounds: claims.temperature_text(t, *bounds)
    return env


def render(template_dir: str | Path, template: str, context: dict) -> str:
    return make_env(template_dir).get_template(template).render(**context)


def unreferenced_figures(templates: list[str], names: list[str]) -> list[str]:
    """Names of the figures that no template mentions (as fig.<name>): a figure rule added
    without the lines that show it. A template may leave a figure out for a given study (a
    section about models the study does not have); that is its decision, not an oversight."""
    text = "\n".join(templates)
    return sorted(n for n in names if not re.search(rf"\bfig\.{re.escape(n)}\b", text))


