"""A compiled report's pages, checked by machine: each check takes what the build left (the
PDF, the LaTeX log, the .tex) and returns the problems a reader would see, as sentences; an
empty list means the pages pass.

    python -m mnist_study.report.pages report.pdf      # finds results/report/report.{log,tex}

Font sizes come from poppler's `pdftohtml -xml`, which reports every run of text with the size
it is printed at: the text matrix times every transformation above it, so a table shrunk by
\\resizebox and the labels of a figure scaled by \\includegraphics are measured as printed.
Sizes come in steps of 1/3 pt (pdftohtml's largest zoom, 3): text within 1/6 pt below the limit
can pass, text at or above it never fails. Type 3 fonts (matplotlib's default) cannot be
measured this way (poppler guesses their scale from the width of an "m"), so they are a
problem of their own, and text in a font that may be one is left out of the size check.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

# TeX wraps its log at max_print_line (79 by default) characters.
LOG_LINE_WIDTH = 79

_OVERFULL = re.compile(r"^Overfull \\([hv])box \((\d+(?:\.\d+)?)pt too (?:wide|high)\)(.*)$")
_LINES = re.compile(r"lines? (\d+)(?:--(\d+))?")
_UNDEFINED = re.compile(
    r"(?:LaTeX|Package natbib) Warning: (Citation|Reference|Hyper reference) `([^']*)' "
    r"on page (\S+) undefined(?: on input line (\d+))?")
_MULTIPLY = re.compile(r"LaTeX Warning: Label `([^']*)' multiply defined")
_SUMMARY = re.compile(r"Warning: There were (undefined references|undefined citations"
                      r"|multiply-defined labels)")


def _unwrap(log_text: str) -> list[str]:
    """The log's lines with TeX's hard wrapping undone: a line of exactly the wrap width
    continues on the next."""
    out: list[str] = []
    carry = ""
    for line in log_text.splitlines():
        if len(line) == LOG_LINE_WIDTH:
            carry += line
            continue
        out.append(carry + line)
        carry = ""
    if carry:
        out.append(carry)
    return out


def _where(lines: tuple[str, str | None] | None) -> str:
    if lines is None:
        return "report.tex"
    first, last = lines
    return f"report.tex line {first}" if not last or last == first else f"report.tex lines {first}-{last}"


def overfull_boxes(log_text: str, limit_pt: float = 1.0) -> list[str]:
    """Every overfull \\hbox or \\vbox in a LaTeX log that sticks out by more than `limit_pt`,
    with its lines in the .tex and the start of what it holds."""
    lines = _unwrap(log_text)
    problems = []
    for i, line in enumerate(lines):
        m = _OVERFULL.match(line)
        if not m or float(m.group(2)) <= limit_pt:
            continue
        kind, amount, rest = m.groups()
        at = _LINES.search(rest)
        where = _where(at.groups() if at else None)
        if "while \\output is active" in rest:
            where = "a page (while \\output is active)"
        what = next((line.strip() for line in lines[i + 1:i + 3] if line.strip()), "")
        what = re.sub(r"\\[A-Z][A-Z0-9]*/\S+ ?", "", what).lstrip("[]")  # drop TeX's font switches
        detail = f": {what[:60]}" if what and kind == "h" else ""
        problems.append(f"overfull \\{kind}box, {amount} pt too "
                        f"{'wide' if kind == 'h' else 'high'}, at {where}{detail}")
    return problems


def unresolved_citations(log_text: str) -> list[str]:
    """Citations that LaTeX could not resolve in its last run (no .bib, a key missing from it,
    bibtex not run)."""
    return _undefined(log_text, {"Citation"}, "undefined citations")


def undefined_references(log_text: str) -> list[str]:
    """\\ref and \\pageref targets LaTeX could not resolve in its last run, and labels defined
    twice (a \\ref to them points at one of the two)."""
    problems = _undefined(log_text, {"Reference", "Hyper reference"}, "undefined references")
    for key in dict.fromkeys(_MULTIPLY.findall("\n".join(_unwrap(log_text)))):
        problems.append(f"label `{key}' is defined more than once")
    return problems


def _undefined(log_text: str, kinds: set[str], summary: str) -> list[str]:
    text = "\n".join(_unwrap(log_text))
    seen: dict[str, list[str]] = {}
    for kind, key, page, line in _UNDEFINED.findall(text):
        if kind in kinds:
            seen.setdefault(key, []).append(f"page {page}" + (f", report.tex line {line}" if line else ""))
    noun = "citation" if kinds == {"Citation"} else "reference"
    problems = [f"undefined {noun} `{key}' ({'; '.join(places[:3])}"
                f"{f'; {len(places) - 3} more' if len(places) > 3 else ''})"
                for key, places in seen.items()]
    if not problems and any(s == summary for s in _SUMMARY.findall(text)):
        problems.append(f"LaTeX says: there were {summary}")
    return problems


def _strip_comments(tex: str) -> str:
    """The .tex with its % comments blanked (not \\%), line structure kept."""
    return re.sub(r"(?<!\\)%.*", "", tex)


_ENV = re.compile(r"\\begin\{(table\*?|longtable|figure\*?|sidewaystable|sidewaysfigure)\}"
                  r"(.*?)\\end\{\1\}", re.S)
_SUBFIG = re.compile(r"\\begin\{subfigure\}.*?\\end\{subfigure\}", re.S)
_CAPTION = re.compile(r"\\caption(?:\[[^\]]*\])?\{")
_LABEL = re.compile(r"\\label\{([^}]*)\}")
_GRAPHICS = re.compile(r"\\includegraphics\b")
_TABULAR = re.compile(r"\\begin\{(?:tabular\*?|tabularx|tabulary|array)\}|\\includegraphics\b|\\input\b")
_CELL = re.compile(r"(?<!\\)&|\\endfirsthead|\\endhead")


def caption_placement(tex_text: str) -> list[str]:
    """Captions above tables and below figures: in every table and longtable the \\caption
    comes before the tabular (for a longtable, before its first cell), in every figure after
    its last \\includegraphics. A float without a caption is a problem too."""
    tex = _strip_comments(tex_text)
    problems = []
    for m in _ENV.finditer(tex):
        env, body = m.group(1), m.group(2)
        line = tex.count("\n", 0, m.start()) + 1
        label = _LABEL.search(body)
        name = f"{env} at report.tex line {line}" + (f" ({label.group(1)})" if label else "")
        is_figure = "figure" in env
        outer = _SUBFIG.sub(lambda s: " " * len(s.group()), body)  # subfigures' own captions
        caption = _CAPTION.search(outer)
        if caption is None:
            problems.append(f"{name} has no \\caption")
            continue
        if is_figure:
            graphics = [g.start() for g in _GRAPHICS.finditer(body)]
            if graphics and caption.start() < graphics[-1]:
                problems.append(f"{name}: caption above the figure; put \\caption after "
                                f"\\includegraphics")
            for sub in _SUBFIG.finditer(body):
                sub_caption = _CAPTION.search(sub.group())
                sub_graphics = [g.start() for g in _GRAPHICS.finditer(sub.group())]
                if sub_caption and sub_graphics and sub_caption.start() < sub_graphics[-1]:
                    problems.append(f"{name}: a subfigure's caption is above its image")
            continue
        content = (_CELL if env == "longtable" else _TABULAR).search(outer)
        if content and caption.start() > content.start():
            problems.append(f"{name}: caption below the table; put \\caption before "
                            f"{'its first row' if env == 'longtable' else 'the tabular'}")
    return problems


_FLOAT_LABEL = re.compile(r"\\label\{((?:fig|tab):[^}]*)\}")
_REF = re.compile(r"\\(?:ref|autoref|cref|pageref)\{([^}]*)\}")


def unreferenced_floats(tex_text: str) -> list[str]:
    """Figures and tables of the main text (labels fig:... and tab:... before \\appendix) that
    no sentence refers to: a float the text never points the reader to is never interpreted
    either. The appendix's pages of one figure per model are reached through its section."""
    tex = _strip_comments(tex_text)
    referenced = {key.strip() for group in _REF.findall(tex) for key in group.split(",")}
    main = tex.split("\\appendix", 1)[0]
    return [f"{label} is referred to nowhere in the text; add a sentence that points to it"
            for label in dict.fromkeys(_FLOAT_LABEL.findall(main)) if label not in referenced]


def _run(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=True,
                              errors="replace").stdout
    except FileNotFoundError as e:
        raise RuntimeError(f"{cmd[0]} is not installed (Debian/Ubuntu: apt-get install "
                           f"poppler-utils)") from e


# A LaTeX command printed as text: LaTeX from a formatter escaped a second time (|e on a
# value that already holds \num{...}), which the reader sees as "\num{1e+12}".
_PRINTED_COMMAND = re.compile(r"\\[A-Za-z]+\{")


def printed_commands(pdf_path: str | Path) -> list[str]:
    """Pages whose text shows a LaTeX command (\\num{...}) instead of what it sets."""
    out = []
    for page, text in enumerate(_run(["pdftotext", str(pdf_path), "-"]).split("\f"), start=1):
        found = [m.group() for m in _PRINTED_COMMAND.finditer(text)]
        if found:
            out.append(f"page {page}: LaTeX printed as text ({', '.join(dict.fromkeys(found))}): "
                       f"a value escaped twice")
    return out


def _fonts(pdf_path: Path) -> list[tuple[str, str]]:
    """(name, type) of every font in the PDF, from pdffonts."""
    out = _run(["pdffonts", str(pdf_path)]).splitlines()
    fonts = []
    for line in out[2:]:
        m = re.match(r"(\S+)\s+(Type 3|Type 1C?|Type 1C? \(OT\)|CID Type 0C?(?: \(OT\))?|"
                     r"CID TrueType(?: \(OT\))?|TrueType(?: \(OT\))?|\S+)\s", line)
        if m:
            fonts.append((m.group(1), m.group(2)))
    return fonts


def _measurable(fonts: list[tuple[str, str]]):
    """Whether pdftohtml's size for text in a font (by the family name it gives) is true: in a
    PDF without Type 3 fonts, always; else only for a family that names a font of another type
    and no Type 3 font (pdftohtml names the family "LMRoman10" for pdffonts' "LMRoman10-Regular",
    and an unnamed Type 3 font, as TeX's bitmap fonts are, after a font it substitutes)."""
    type3 = {name for name, kind in fonts if kind == "Type 3"}
    others = [name for name, kind in fonts if kind != "Type 3"]
    if not type3:
        return lambda family: True
    return lambda family: family not in type3 and any(
        n == family or n.startswith(family + "-") or n.startswith(family + ",") for n in others)


def type3_fonts(pdf_path: str | Path) -> list[str]:
    """Type 3 fonts: their size cannot be measured, many venues reject them, and they are
    drawn less crisply. Matplotlib writes them unless `pdf.fonttype: 42`."""
    names = sorted({name for name, kind in _fonts(Path(pdf_path)) if kind == "Type 3"})
    problems = [f"Type 3 font {n}: its text size cannot be checked and many venues reject Type 3 "
                f"fonts (matplotlib: set pdf.fonttype: 42)" for n in names if n != "[none]"]
    if "[none]" in names:
        problems.append("unnamed Type 3 fonts (TeX's bitmap fonts, as for T1 text without "
                        "\\usepackage{lmodern}): their text size cannot be checked and they "
                        "print blurred")
    return problems


def _page_sizes(pdf_path: Path) -> list[tuple[float, float]]:
    out = _run(["pdfinfo", "-f", "1", "-l", "100000", str(pdf_path)])
    return [(float(w), float(h)) for w, h in
            re.findall(r"^Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", out, re.M)]


def text_sizes(pdf_path: str | Path) -> list[tuple[int, float, str, str]]:
    """(page, printed size in pt, font, text) for every run of text in the PDF."""
    pdf_path = Path(pdf_path)
    xml = _run(["pdftohtml", "-xml", "-i", "-q", "-zoom", "3", "-stdout", str(pdf_path)])
    root = ET.fromstring(re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", xml))  # not XML 1.0
    sizes = _page_sizes(pdf_path)
    fontspecs: dict[str, tuple[int, str]] = {}
    runs = []
    for page in root.iter("page"):
        number = int(page.get("number"))
        w_pt, h_pt = sizes[number - 1]
        # pdftohtml's zoom (it caps the one asked for): its page size is rounded to whole
        # units, so the ratio is too, to 0.01; width + height is the same for a rotated page
        zoom = round((float(page.get("width")) + float(page.get("height"))) / (w_pt + h_pt), 2)
        for spec in page.iter("fontspec"):
            fontspecs[spec.get("id")] = (int(spec.get("size")), spec.get("family"))
        for text in page.iter("text"):
            content = "".join(text.itertext()).strip()
            if not content:
                continue
            size, family = fontspecs[text.get("font")]
            runs.append((number, round(size / zoom, 2), family, content))
    return runs


def small_text(pdf_path: str | Path, min_pt: float = 7.0) -> list[str]:
    """Text printed below `min_pt` anywhere in the PDF, body, tables and figures alike,
    grouped by page and size. Text in Type 3 fonts is left to `type3_fonts`."""
    pdf_path = Path(pdf_path)
    found: dict[tuple[int, float], list[tuple[str, str]]] = defaultdict(list)
    measurable = _measurable(_fonts(pdf_path))
    for page, size, family, content in text_sizes(pdf_path):
        if not measurable(family) or size >= min_pt - 1e-3:
            continue
        found[(page, size)].append((family.split("+")[-1], content))
    problems = []
    for (page, size), runs in sorted(found.items()):
        fonts = ", ".join(sorted({f for f, _ in runs}))
        texts = sorted(dict.fromkeys(c for _, c in runs), key=len, reverse=True)
        examples = ", ".join(f"'{c[:30]}'" for c in texts[:3])
        problems.append(f"page {page}: {len(runs)} run(s) of text at {size:g} pt, below "
                        f"{min_pt:g} pt ({fonts}), e.g. {examples}")
    return problems


def check_report(pdf: str | Path, log: str | Path | None, tex: str | Path | None,
                 min_pt: float = 7.0, overfull_pt: float = 1.0) -> list[str]:
    """Every check above on one compiled report. Without a log or a .tex, the checks that need
    it are skipped."""
    problems = small_text(pdf, min_pt) + type3_fonts(pdf) + printed_commands(pdf)
    if log is not None:
        log_text = Path(log).read_text(errors="replace")
        problems += (overfull_boxes(log_text, overfull_pt) + unresolved_citations(log_text)
                     + undefined_references(log_text))
    if tex is not None:
        tex_text = Path(tex).read_text(errors="replace")
        problems += caption_placement(tex_text) + unreferenced_floats(tex_text)
    return problems


def find_beside(pdf: Path, suffix: str) -> Path | None:
    """The .log or .tex of a report by this project's convention: beside the PDF (where
    latexmk wrote it), or in results/report/ under the PDF's folder (the workflow's
    report.pdf is a copy of results/report/report.pdf)."""
    for candidate in (pdf.with_suffix(suffix), pdf.parent / "results" / "report" / (pdf.stem + suffix)):
        if candidate.exists():
            return candidate
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mnist_study.report.pages",
        description="Check a compiled LaTeX report's pages: small text, Type 3 fonts, overfull "
                    "boxes, undefined citations and references, caption placement. Prints one "
                    "line per problem; exits 1 if there is any.")
    parser.add_argument("pdf", type=Path)
    parser.add_argument("--log", type=Path, help="LaTeX log (default: beside the PDF, or "
                        "results/report/<name>.log)")
    parser.add_argument("--tex", type=Path, help="the .tex (found like --log)")
    parser.add_argument("--min-pt", type=float, default=7.0, help="smallest text size (pt)")
    parser.add_argument("--overfull-pt", type=float, default=1.0,
                        help="overfull boxes up to this many pt are tolerated")
    args = parser.parse_args(argv)
    if not args.pdf.exists():
        parser.error(f"{args.pdf} does not exist")
    log = args.log or find_beside(args.pdf, ".log")
    tex = args.tex or find_beside(args.pdf, ".tex")
    for what, path in (("log", log), ("tex", tex)):
        if path is None:
            print(f"note: no .{what} found for {args.pdf} (give --{what}); its checks are skipped",
                  file=sys.stderr)
    problems = check_report(args.pdf, log, tex, args.min_pt, args.overfull_pt)
    for p in problems:
        print(p)
    print(f"{len(problems)} problem(s) in {args.pdf}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
