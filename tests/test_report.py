"""The LaTeX report: escaping, strictness, compilation errors."""

from pathlib import Path

import jinja2
import pytest

from conftest import HOSTILE_LABEL, pdf_text
from mnist_study.report.document import escape_latex, fmt_mean_std, make_env
from mnist_study.report.latex import LatexError, compile_pdf


def write_template(tmp_path: Path, body: str) -> Path:
    (tmp_path / "t.tex.j2").write_text(body)
    return tmp_path


DOC = r"""\documentclass{article}
\usepackage[T1]{fontenc}
\begin{document}
\VAR{name|e}
\end{document}
"""


def test_escape_covers_every_special():
    assert escape_latex(HOSTILE_LABEL) == r"a\_b \& 50\% \#1 \{x\}"
    assert escape_latex("~^\\$") == r"\textasciitilde{}\textasciicircum{}\textbackslash{}\$"


def test_hostile_name_survives_into_pdf(tmp_path):
    tex = tmp_path / "doc.tex"
    env = make_env(write_template(tmp_path, DOC))
    tex.write_text(env.get_template("t.tex.j2").render(name=HOSTILE_LABEL + " ~x^2 \\o/ $5"))
    pdf = compile_pdf(tex)
    text = " ".join(pdf_text(pdf).split())
    assert HOSTILE_LABEL in text
    assert "$5" in text and "\\o/" in text


def test_missing_value_fails_the_render(tmp_path):
    env = make_env(write_template(tmp_path, DOC))
    with pytest.raises(jinja2.UndefinedError):
        env.get_template("t.tex.j2").render()


def test_latex_error_names_the_offending_line(tmp_path):
    tex = tmp_path / "broken.tex"
    tex.write_text("\\documentclass{article}\n\\begin{document}\nfine\n\\undefinedmacro\n\\end{document}\n")
    with pytest.raises(LatexError) as err:
        compile_pdf(tex)
    assert "Undefined control sequence" in str(err.value)
    assert "l.4" in str(err.value)


def test_mean_std_formatting():
    assert fmt_mean_std(0.98234, 0.00123) == "0.982\\ci{0.001}"
    assert fmt_mean_std(0.98234, float("nan")) == "0.982"
    assert fmt_mean_std(float("nan"), 0.1) == "--"


def test_a_loss_too_large_for_decimals_is_written_in_powers_of_ten():
    from mnist_study.report.document import fmt_loss

    assert fmt_loss(0.01437) == "0.014" and fmt_loss(9999.5) == "9999.500"
    assert fmt_loss(-89551396877107.2) == r"$-8.96\times10^{13}$"
    assert fmt_loss(12345.0) == r"$1.23\times10^{4}$"
    assert fmt_loss(float("nan")) == "--"


def test_a_value_is_printed_with_the_one_interval_that_belongs_to_it():
    from mnist_study.report.formatting import fmt_pm

    # the mean over seeds with the interval of that mean; an image interval would be another's
    assert fmt_pm(0.91234, 0.0123, 0.02, 3) == r"0.912\ci{0.012}"
    # one seed: its value with its interval over the test images, marked
    assert fmt_pm(0.91234, None, 0.02, 3) == r"0.912\ci{0.020}\,\dag"
    assert fmt_pm(0.91234, float("nan"), float("nan"), 3) == "0.912"
    assert fmt_pm(0.5, 0.01, None, 1, 100) == r"50.0\ci{1.0}"
    assert fmt_pm(float("nan"), 0.1, 0.1) == "--"
    # an interval past what the quantity can be is printed as its range, cut there
    assert fmt_pm(0.030, 0.032, None, 3) == "0.030 [0.000, 0.062]"
    assert fmt_pm(0.817, 0.212, None, 1, 100) == "81.7 [60.5, 100.0]"
    assert fmt_pm(2.3, 3.0, None, 2, highest=None) == "2.30 [0.00, 5.30]"
    assert fmt_pm(2.3, 0.1, None, 2, highest=None) == r"2.30\ci{0.10}"


def test_a_list_whose_items_hold_commas_is_set_with_semicolons():
    from mnist_study.report.formatting import fmt_list

    assert fmt_list([]) == "" and fmt_list(["a"]) == "a" and fmt_list(["a", "b"]) == "a and b"
    assert fmt_list(["MSE", "NLL", "cross-entropy"]) == "MSE, NLL and cross-entropy"
    assert fmt_list(["11 (MSE, raw scores)", "12", "13"]) == "11 (MSE, raw scores); 12 and 13"


def test_a_long_layer_list_or_number_may_break_in_a_narrow_cell():
    from mnist_study.report.formatting import breakable

    assert breakable("784-392-196") == r"784-\allowbreak{}392-\allowbreak{}196"
    assert breakable("1099511627776") == r"1,\allowbreak{}099,\allowbreak{}511,\allowbreak{}627,\allowbreak{}776"
    assert breakable("a_b & 1") == r"a\_b \& 1"  # still escaped
    assert breakable("12345") == "12345"
