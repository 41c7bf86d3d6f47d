"""Pages checked by machine (mnist_study.report.pages), and the bibliography: each check on
both sides of its decision, then the quick run's report as a whole."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, REPORT_PREAMBLE, as_read, pdf_text

from mnist_study.report.latex import compile_pdf
from mnist_study.report.pages import (
    caption_placement,
    check_report,
    overfull_boxes,
    printed_commands,
    small_text,
    text_sizes,
    type3_fonts,
    undefined_references,
    unresolved_citations,
)

BIB = REPO / "report" / "references.bib"

# --- overfull boxes --------------------------------------------------------------------------

LOG_OVERFULL = r"""
Overfull \hbox (0.5pt too wide) in paragraph at lines 10--12
[]\T1/lmr/m/n/10.95 A line that sticks out a little|

Overfull \hbox (12.3pt too wide) in paragraph at lines 40--44
[]\T1/lmr/m/n/10.95 A line that sticks out a lot|

Overfull \hbox (3.0pt too wide) in alignment at lines 50--60
[][]

Overfull \vbox (25.0pt too high) has occurred while \output is active
Overfull \hbox (2.5pt too wide) detected at line 77
"""


def test_overfull_boxes_reports_those_over_the_limit_with_their_lines():
    problems = overfull_boxes(LOG_OVERFULL)
    assert len(problems) == 4
    assert "12.3 pt too wide" in problems[0] and "lines 40-44" in problems[0]
    assert "A line that sticks out a lot" in problems[0]
    assert "lines 50-60" in problems[1]
    assert "\\vbox" in problems[2] and "too high" in problems[2]
    assert "line 77" in problems[3]
    assert not any("0.5 pt" in p or "lines 10-12" in p for p in problems)


def test_overfull_boxes_below_the_limit_pass():
    assert overfull_boxes("Overfull \\hbox (0.5pt too wide) in paragraph at lines 10--12\n") == []
    assert overfull_boxes(LOG_OVERFULL, limit_pt=30) == []
    assert overfull_boxes("Underfull \\hbox (badness 10000) in paragraph at lines 1--2\n") == []


# --- citations and references ----------------------------------------------------------------

# LaTeX breaks its log's lines at 79 characters, leaving the space before the break
LOG_UNDEFINED = """
Package natbib Warning: Citation `lecun1998' on page 1 undefined on input line\x20
12.

LaTeX Warning: Citation `nobody2020' on page 3 undefined on input line 40.

LaTeX Warning: Reference `tab:missing' on page 2 undefined on input line 33.

LaTeX Warning: Label `fig:twice' multiply defined.

Package natbib Warning: There were undefined citations.

LaTeX Warning: There were undefined references.
"""


def test_undefined_citations_and_references_are_reported():
    citations = unresolved_citations(LOG_UNDEFINED)
    assert len(citations) == 2
    assert "lecun1998" in citations[0] and "page 1" in citations[0] and "line 12" in citations[0]
    assert "nobody2020" in citations[1]
    references = undefined_references(LOG_UNDEFINED)
    assert any("tab:missing" in r and "page 2" in r for r in references)
    assert any("fig:twice" in r for r in references)


def test_a_summary_warning_alone_is_still_a_problem():
    assert unresolved_citations("Package natbib Warning: There were undefined citations.\n")
    assert undefined_references("LaTeX Warning: There were undefined references.\n")


def test_a_clean_log_has_no_undefined_citations_or_references():
    clean = "LaTeX Warning: Citation `x' on page 1 is fine.\nOutput written on report.pdf (3 pages).\n"
    assert unresolved_citations(clean) == []
    assert undefined_references(clean) == []


# --- caption placement -----------------------------------------------------------------------

TEX_WRONG = r"""
\begin{table}[h]
\centering
\begin{tabular}{ll} a & b \\ \end{tabular}
\caption{Below the table.}\label{tab:below}
\end{table}
\begin{longtable}{ll}
a & b \\
\caption{At the end of a longtable.}\label{tab:long}
\end{longtable}
\begin{figure}
\caption{Above the figure.}\label{fig:above}
\includegraphics{x.pdf}
\end{figure}
\begin{figure}
\includegraphics{y.pdf}
\end{figure}
"""

TEX_RIGHT = r"""
\begin{table}[h]
\centering
\caption{Above the table, 50\% \& more.}\label{tab:above}
% \begin{tabular}{l} a commented-out tabular \end{tabular} before the caption is no problem
\resizebox{\textwidth}{!}{\begin{tabular}{ll} a & b \\ \end{tabular}}
\end{table}
\begin{longtable}{ll}
\caption{At the head of a longtable, A \& B.}\label{tab:long}\\
\toprule a & b \\ \midrule \endfirsthead
a & b \\
\end{longtable}
\begin{figure}
\begin{subfigure}{0.5\textwidth}\includegraphics{a.pdf}\caption{Left.}\end{subfigure}
\begin{subfigure}{0.5\textwidth}\includegraphics{b.pdf}\caption{Right.}\end{subfigure}
\caption{Below the figures.}\label{fig:below}
\end{figure}
"""


def test_captions_in_the_wrong_place_are_found():
    problems = caption_placement(TEX_WRONG)
    assert len(problems) == 4, problems
    assert "tab:below" in problems[0] and "line 2" in problems[0] and "before" in problems[0]
    assert "tab:long" in problems[1]
    assert "fig:above" in problems[2] and "after" in problems[2]
    assert "no \\caption" in problems[3]


def test_captions_above_tables_and_below_figures_pass():
    assert caption_placement(TEX_RIGHT) == []


def test_a_subfigure_caption_above_its_image_is_found():
    tex = TEX_RIGHT.replace(r"\includegraphics{a.pdf}\caption{Left.}",
                            r"\caption{Left.}\includegraphics{a.pdf}")
    assert len(caption_placement(tex)) == 1


# --- text size, on PDFs compiled here --------------------------------------------------------

def compile_doc(tmp_path: Path, body: str, preamble: str = "") -> Path:
    # a new name per document: latexmk takes a rewritten file of the same size within the same
    # second for unchanged and would return the previous PDF
    tex = tmp_path / f"doc{len(list(tmp_path.glob('doc*.tex')))}.tex"
    tex.write_text("\\documentclass[11pt]{article}\n\\usepackage[T1]{fontenc}\n"
                   "\\usepackage{lmodern}\n\\usepackage{graphicx}\n" + preamble +
                   "\\begin{document}\n" + body + "\n\\end{document}\n")
    return compile_pdf(tex)


def test_six_point_text_is_found(tmp_path):
    pdf = compile_doc(tmp_path, "Body text at eleven points.\n\n"
                                "{\\fontsize{6}{7}\\selectfont Tiny words here.}")
    problems = small_text(pdf)
    assert len(problems) == 1
    assert "6 pt" in problems[0] and "Tiny words here." in problems[0] and "page 1" in problems[0]


def test_a_command_printed_as_text_is_found_and_one_set_passes(tmp_path):
    from mnist_study.report.formatting import escape_latex, fmt_lr

    twice = compile_doc(tmp_path, "Adam at learning rate " + escape_latex(fmt_lr(1e12)) + ".",
                        "\\usepackage{siunitx}\n")
    problems = printed_commands(twice)
    assert len(problems) == 1 and "page 1" in problems[0] and "\\num{" in problems[0]
    once = compile_doc(tmp_path, "Adam at learning rate " + fmt_lr(1e12) + ". A path: "
                       + escape_latex("C:\\temp\\x") + ".", "\\usepackage{siunitx}\n")
    assert printed_commands(once) == []


def test_normal_text_passes(tmp_path):
    pdf = compile_doc(tmp_path, "Body text at eleven points, a superscript x$^2$, "
                                "{\\footnotesize footnote size} and {\\scriptsize script size}.")
    assert small_text(pdf) == []
    # the same page against a higher bar: 8 pt script size and 9 pt footnote size fail
    assert any("8 pt" in p for p in small_text(pdf, min_pt=9.5))


def test_a_table_shrunk_by_resizebox_is_measured_as_printed(tmp_path):
    row = " & ".join(["a rather wide table cell"] * 4)
    pdf = compile_doc(tmp_path, "\\resizebox{0.5\\textwidth}{!}{\\begin{tabular}{llll}"
                                f"{row} \\\\ \\end{{tabular}}}}")
    (problem,) = small_text(pdf)
    size = float(re.search(r"at ([\d.]+) pt", problem).group(1))
    assert 2 < size < 5  # 10.95 pt text, a ~460 pt wide table set into ~230 pt


def figure_pdf(path: Path, fonttype: int) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    with plt.rc_context({"pdf.fonttype": fonttype}):
        fig, ax = plt.subplots(figsize=(4, 3))
        ax.set_xlabel("xlabel at eight", fontsize=8)
        ax.tick_params(labelsize=8)
        fig.savefig(path)
        plt.close(fig)
    return path


def test_figure_text_is_measured_at_its_printed_size(tmp_path):
    figure_pdf(tmp_path / "fig.pdf", fonttype=42)
    at_full = compile_doc(tmp_path, "\\includegraphics[width=4in]{fig.pdf}")
    assert small_text(at_full) == []
    sizes = {round(s, 1) for _, s, _, t in text_sizes(at_full) if t == "xlabel at eight"}
    assert sizes == {8.0}
    at_half = compile_doc(tmp_path, "\\includegraphics[width=2in]{fig.pdf}")
    sizes = {round(s, 1) for _, s, _, t in text_sizes(at_half) if t == "xlabel at eight"}
    assert sizes == {4.0}
    assert any("xlabel at eight" in p for p in small_text(at_half))


def test_type3_fonts_are_a_problem_and_truetype_is_not(tmp_path):
    figure_pdf(tmp_path / "fig3.pdf", fonttype=3)
    figure_pdf(tmp_path / "fig42.pdf", fonttype=42)
    assert len(type3_fonts(tmp_path / "fig3.pdf")) == 1
    assert type3_fonts(tmp_path / "fig42.pdf") == []


# --- the whole check, and its command line ---------------------------------------------------

def test_check_report_and_cli_on_a_clean_and_a_faulty_document(tmp_path):
    clean = tmp_path / "clean"
    clean.mkdir()
    pdf = compile_doc(clean, "\\begin{table}\\caption{Fine.}\\begin{tabular}{l} a \\\\ "
                             "\\end{tabular}\\end{table} Text.")
    assert check_report(pdf, pdf.with_suffix(".log"), pdf.with_suffix(".tex")) == []
    cli = [sys.executable, "-m", "mnist_study.report.pages"]
    assert subprocess.run([*cli, str(pdf)], capture_output=True).returncode == 0

    faulty = tmp_path / "faulty"
    faulty.mkdir()
    pdf = compile_doc(faulty, "\\begin{table}\\begin{tabular}{l} a \\\\ \\end{tabular}"
                              "\\caption{Late.}\\end{table} See Table~\\ref{tab:none}. "
                              "\\hbox to 2\\textwidth{\\hfil wide\\hfil} {\\tiny tiny}")
    problems = check_report(pdf, pdf.with_suffix(".log"), pdf.with_suffix(".tex"))
    kinds = ["below 7 pt", "overfull \\hbox", "tab:none", "caption below the table"]
    assert all(any(k in p for p in problems) for k in kinds), problems
    result = subprocess.run([*cli, str(pdf)], capture_output=True, text=True)
    assert result.returncode == 1
    assert len(result.stdout.splitlines()) == len(problems)


# --- the bibliography ------------------------------------------------------------------------

REQUIRED = {
    "article": {"author", "title", "journal", "year"},
    "inproceedings": {"author", "title", "booktitle", "year"},
    "book": {"author", "title", "publisher", "year"},
    "techreport": {"author", "title", "institution", "year"},
    "misc": {"author", "title", "howpublished", "year"},
}
KEYS = {"urbanc2024", "lecun1998", "simard2003", "srivastava2014", "kingma2015", "guo2017",
        "hendrycks2017", "delong1988", "wilson1927", "welch1947", "mcnemar1947", "efron1993",
        "olah2017", "mordvintsev2015", "smith2019", "ioffe2015", "molder2021", "paszke2019",
        "pedregosa2011", "agarwal2021", "dror2018", "bouthillier2021", "brier1950", "lucid", "holm1979"}


def bib_entries(text: str) -> dict[str, tuple[str, set[str]]]:
    """key -> (entry type, field names), by a small parser that checks the braces balance."""
    entries = {}
    for m in re.finditer(r"^@(\w+)\{([^,\s]+),", text, re.M):
        depth, i = 1, m.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        body = text[m.end():i - 1]
        assert m.group(2) not in entries, f"{m.group(2)} twice"
        entries[m.group(2)] = (m.group(1).lower(), set(re.findall(r"^\s*(\w+)\s*=", body, re.M)))
    return entries


def test_every_reference_parses_with_its_required_fields():
    text = BIB.read_text()
    entries = bib_entries(text)
    assert set(entries) == KEYS
    # every key a template cites is in the file
    cited = {k.strip() for t in (REPO / "report").rglob("*.tex.j2")
             for group in re.findall(r"\\cite\{([^}\\]*)\}", t.read_text()) for k in group.split(",")}
    # and every key the shipped configs name for a literature value (`cite:`)
    configs = [REPO / "config.yaml", *(REPO / "config").glob("*.yaml")]
    from_configs = {m.group(1) for c in configs
                    for m in re.finditer(r"\bcite: *([A-Za-z0-9:_.-]+)", c.read_text())}
    assert cited and from_configs and (cited | from_configs) <= set(entries), \
        (cited | from_configs) - set(entries)
    assert len(re.findall(r"^@", text, re.M)) == len(entries)  # no entry the parser skipped
    for key, (kind, fields) in entries.items():
        assert kind in REQUIRED, f"{key}: @{kind}"
        assert REQUIRED[kind] <= fields, f"{key} lacks {REQUIRED[kind] - fields}"


def test_citations_resolve_through_the_projects_compile(tmp_path):
    """As compile_report builds the report: the .tex in a folder of its own, references.bib
    found through bib_dirs, bibtex run by latexmk."""
    tex = tmp_path / "results" / "report" / "cites.tex"
    tex.parent.mkdir(parents=True)
    tex.write_text("\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage{lmodern}\n"
                   "\\usepackage[numbers]{natbib}\n\\usepackage[hidelinks]{hyperref}\n"
                   "\\begin{document}\nAs \\citet{lecun1998} and \\citet{guo2017} show.\n"
                   "\\bibliographystyle{plainnat}\n\\bibliography{references}\n\\end{document}\n")
    pdf = compile_pdf(tex, bib_dirs=[BIB.parent])
    log = tex.with_suffix(".log").read_text()
    assert unresolved_citations(log) == [] and undefined_references(log) == []
    text = " ".join(pdf_text(pdf).split())
    assert "LeCun et al. [2]" in text and "Guo et al. [1]" in text  # plainnat sorts by author
    assert "References" in text and "learning applied to document recognition" in text


def test_a_bib_once_missing_is_found_when_given(tmp_path, monkeypatch):
    """latexmk remembers a .bib it could not find; the next compile with bib_dirs finds it."""
    monkeypatch.delenv("BIBINPUTS", raising=False)
    tex = tmp_path / "out" / "cites.tex"
    tex.parent.mkdir()
    tex.write_text("\\documentclass{article}\n\\usepackage[numbers]{natbib}\n\\begin{document}\n"
                   "\\citet{lecun1998}\n\\bibliographystyle{plainnat}\n\\bibliography{references}\n"
                   "\\end{document}\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(Exception):
        compile_pdf(Path("out/cites.tex"))
    compile_pdf(Path("out/cites.tex"), bib_dirs=[BIB.parent])
    assert unresolved_citations(tex.with_suffix(".log").read_text()) == []


# --- the quick run's report ------------------------------------------------------------------

# The layout checks on the quick report, which has the seed's 22 models, a failed model and a
# hostile label (a study of its own: tests/test_own_study.py).
@pytest.mark.e2e
def test_quick_report_pages_pass_every_check(quick_run):
    report = quick_run / "results" / "report"
    problems = check_report(quick_run / "report.pdf", report / "report.log", report / "report.tex")
    assert problems == [], "\n".join(problems)


# --- the paper checklist (report/sections/checklist.tex.j2) ----------------------------------

PROVENANCE = {  # the keys of results/report/provenance.json that the checklist reads
    "git_revision": "ef4d9e1eeb40", "n_train": 3000, "n_test": 1000, "total_job_s": 140.16,
    "machine": {"cores": 2, "cpu": "AMD EPYC", "gpu": "none", "memory_gib": 23.5},
    "training": {"torch_threads": [1], "devices": ["cpu"], "cpu_capabilities": ["AVX512"],
                 "n_unknown": 0},
}
LABELS = ["sec:methods", "sec:findings", "sec:limitations", "sec:conclusion",
          "sec:reproducibility", "sec:trust"]


@pytest.mark.parametrize("threads", [[1], [2, 4], []])
def test_checklist_renders_and_its_page_passes_the_checks(tmp_path, threads):
    """Rendered with the project's Jinja environment, set in a document that has the labels it
    points to and the bibliography: no undefined reference or citation, nothing too small."""
    from mnist_study.report.templates import render
    provenance = {**PROVENANCE, "training": {**PROVENANCE["training"], "torch_threads": threads}}
    section = render(REPO / "report", "sections/checklist.tex.j2",
                     {"ctx": {"provenance": provenance}, "found": {"glance": [{"verdict": "holds"}]}})
    assert "\\VAR" not in section and "\\BLOCK" not in section
    assert "AMD EPYC" in section and "3,000" in as_read(section)
    assert ("torch thread" in section) == bool(threads)
    targets = "".join(f"\\section{{{label}}}\\label{{{label}}}\n" for label in LABELS)
    targets += ("\\begin{table}\\caption{Findings.}\\label{tab:findings}\\begin{tabular}{l}"
                "a\\\\\\end{tabular}\\end{table}\n"
                "\\begin{table}\\caption{Jobs.}\\label{tab:jobs}\\begin{tabular}{l}"
                "a\\\\\\end{tabular}\\end{table}\n")
    tex = tmp_path / "checklist.tex"
    tex.write_text(REPORT_PREAMBLE + "\\begin{document}\n" + targets + "\\appendix\n" + section +
                   "\\bibliographystyle{plain}\n\\bibliography{references}\n\\end{document}\n")
    pdf = compile_pdf(tex, bib_dirs=[BIB.parent])
    assert check_report(pdf, tex.with_suffix(".log"), tex) == []
    assert "Paper checklist" in pdf_text(pdf)


def test_a_float_no_sentence_refers_to_is_found():
    from mnist_study.report.pages import unreferenced_floats

    tex = ("As Figure~\\ref{fig:a} shows, and Tables~\\ref{tab:b} and \\ref{tab:c}.\n"
           "\\begin{figure}\\caption{A}\\label{fig:a}\\end{figure}\n"
           "\\begin{table}\\caption{B}\\label{tab:b}\\end{table}\n"
           "\\begin{table}\\caption{C}\\label{tab:c}\\end{table}\n")
    assert unreferenced_floats(tex) == []
    lonely = tex + "\\begin{figure}\\caption{D}\\label{fig:d}\\end{figure}\n% \\ref{fig:d}\n"
    assert unreferenced_floats(lonely) == [
        "fig:d is referred to nowhere in the text; add a sentence that points to it"]
    # one page per model in the appendix is reached through its section
    assert unreferenced_floats(tex + "\\appendix\n\\begin{figure}\\label{fig:roc-1}\\end{figure}") == []
