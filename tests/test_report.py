"""The LaTeX report: escaping, strictness, compilation errors."""

from pathlib import Path

import jinja2
import pytest
from conftest import HOSTILE_LABEL, REPORT_PREAMBLE, as_read, pdf_text

from mnist_study.report.formatting import escape_latex
from mnist_study.report.latex import LatexError, compile_pdf
from mnist_study.report.templates import make_env


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


def test_a_loss_too_large_for_decimals_is_written_in_powers_of_ten():
    from mnist_study.report.formatting import fmt_loss

    assert fmt_loss(0.01437) == r"\num{0.014}" and fmt_loss(9999.5) == r"\num{9999.500}"
    assert fmt_loss(-89551396877107.2) == r"\num{-8.96e13}"
    assert fmt_loss(12345.0) == r"\num{1.23e4}"
    assert fmt_loss(float("nan")) == "--"


def test_a_value_is_printed_with_the_one_interval_that_belongs_to_it():
    from mnist_study.report.formatting import fmt_pm

    # the mean over seeds with the interval of that mean; an image interval would be another's
    assert fmt_pm(0.91234, 0.0123, 0.02, 3) == r"\num{0.912}\ci{\num{0.012}}"
    # one seed: its value with its interval over the test images, marked
    assert fmt_pm(0.91234, None, 0.02, 3) == r"\num{0.912}\ci{\num{0.020}}\,\dag"
    assert fmt_pm(0.91234, float("nan"), float("nan"), 3) == r"\num{0.912}"
    assert fmt_pm(0.5, 0.01, None, 1, 100) == r"\num{50.0}\ci{\num{1.0}}"
    assert fmt_pm(float("nan"), 0.1, 0.1) == "--"
    # an interval past what the quantity can be is printed as its range, cut there
    assert fmt_pm(0.030, 0.032, None, 3) == r"\num{0.030} [\num{0.000}, \num{0.062}]"
    assert fmt_pm(0.817, 0.212, None, 1, 100) == r"\num{81.7} [\num{60.5}, \num{100.0}]"
    assert fmt_pm(2.3, 3.0, None, 2, highest=None) == r"\num{2.30} [\num{0.00}, \num{5.30}]"
    assert fmt_pm(2.3, 0.1, None, 2, highest=None) == r"\num{2.30}\ci{\num{0.10}}"


def test_numbers_read_as_a_paper_sets_them(tmp_path):
    """Through the report's own preamble (its siunitx set-up), every formatter prints a true
    minus, one thousands separator, the decimals it was given, and powers of ten."""
    from mnist_study.report import formatting as f

    cells = [f.fmt_signed(-0.0123), f.fmt_signed(0.073), f.fmt_int(60000), f.fmt_num(0.9940, 4),
             f.fmt_loss(-89551396877107.2), f.fmt_pct(0.975), f.fmt_range(0.9937, 0.9951, 4),
             f.fmt_lr(1e-5), f.fmt_lr(1e12), f.fmt_p(1e-6), f.fmt_pm(0.5, 0.01, None, 1, 100),
             f.fmt_si(636_000), f.fmt_count(1, "epoch"), f.fmt_count(12000, "image"),
             f.fmt_p(1e-6, bare=True), f.fmt_p(0.0312, bare=True)]
    tex = tmp_path / "numbers.tex"
    tex.write_text(REPORT_PREAMBLE + "\\begin{document}\n" + " | ".join(cells) + "\n\\end{document}\n")
    text = " ".join(pdf_text(compile_pdf(tex)).split())
    assert text.startswith("\u22120.012 | +0.073 | 60,000 | 0.9940 | \u22128.96 \u00d7 10"), text
    assert ("| 97.5 % | 0.9937\u20130.9951 | 1 \u00d7 10\u22125 | 1 \u00d7 1012 | p < 0.0001 "
            "| 50.0 \u00b1 1.0 |") in text
    assert "| 636 k | 1 epoch | 12,000 images | < 0.0001 | 0.031" in text, text


def test_a_list_whose_items_hold_commas_is_set_with_semicolons():
    from mnist_study.report.formatting import fmt_list

    assert fmt_list([]) == "" and fmt_list(["a"]) == "a" and fmt_list(["a", "b"]) == "a and b"
    assert fmt_list(["MSE", "NLL", "cross-entropy"]) == "MSE, NLL and cross-entropy"
    assert fmt_list(["11 (MSE, raw scores)", "12", "13"]) == "11 (MSE, raw scores); 12 and 13"


def test_a_long_layer_list_or_number_may_break_in_a_narrow_cell():
    from mnist_study.report.formatting import breakable

    assert breakable("784-392-196") == r"784-\allowbreak{}392-\allowbreak{}196"
    assert breakable("1099511627776") == (r"1,\allowbreak{}099,\allowbreak{}511,"
                                          r"\allowbreak{}627,\allowbreak{}776")
    assert breakable("a_b & 1") == r"a\_b \& 1"  # still escaped
    assert breakable("12345") == "12345"


def test_the_methods_say_how_each_family_trains():
    from mnist_study.report.document import training_regimes

    rows = [{"family": "mlp", "epochs": 10, "schedule": "constant", "batch_size": b}
            for b in (256, 16, 64)]
    rows.append({"family": "cnn", "epochs": 5, "schedule": "one_cycle", "batch_size": 128})
    mlp, cnn = training_regimes(rows)
    assert mlp == ("the MLPs train for 10 epochs at a constant learning rate, batch size "
                   "16, 64 or 256")
    assert cnn.startswith("the CNNs train for 5 epochs with a one-cycle learning-rate schedule")
    assert training_regimes([{**rows[0], "epochs": 1}])[0].startswith("the MLPs train for 1 epoch at")


def test_a_published_error_is_set_beside_how_its_model_trained_here():
    from mnist_study.report.document import training_words

    constant = {"epochs": 10, "schedule": "constant", "lr": 0.001, "batch_size": 64}
    assert as_read(training_words(constant)) == (
        "10 epochs of Adam at a constant learning rate of 0.001, batch size 64")
    cycle = {"epochs": 1, "schedule": "one_cycle", "lr": 0.003, "batch_size": 128}
    assert as_read(training_words(cycle)) == (
        "1 epoch of Adam at one-cycle learning rate peaking at 0.003, batch size 128")
