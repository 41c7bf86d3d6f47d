"""Compile a .tex file with latexmk (pdflatex); on failure, raise with the offending lines."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path


class LatexError(RuntimeError):
    pass


def latex_errors(log_text: str, context: int = 3) -> str:
    """The `! ...` error lines of a LaTeX log with the `l.<n>` line that follows each."""
    lines = log_text.splitlines()
    out = []
    for i, line in enumerate(lines):
        if line.startswith("!"):
            out += lines[i:i + context + 1]
            out += [line for line in lines[i + 1:i + 12] if re.match(r"l\.\d+", line)][:1]
    return "\n".join(out)


def bibtex_errors(blg_text: str) -> str:
    """What bibtex complained about in its .blg: errors, files it could not open, warnings."""
    keep = ("error", "I couldn't open", "I found no", "Warning--")
    return "\n".join(line for line in blg_text.splitlines() if any(k in line for k in keep))


def _forget_missing_bib(fdb: Path) -> None:
    """latexmk's database remembers a .bib it once could not find and will not look again
    (not even where BIBINPUTS now points); without the database it searches afresh."""
    if fdb.exists() and re.search(r'^\s*"[^"]*\.bib" 0 -1 0', fdb.read_text(errors="replace"), re.M):
        fdb.unlink()


def compile_pdf(tex: Path, bib_dirs: Sequence[Path] = ()) -> Path:
    """Run latexmk from the current directory (figure paths in the .tex are relative to it),
    writing auxiliary files beside the .tex. Returns the PDF's path. A .tex with
    \\bibliography{name} gets its bibliography from bibtex, which latexmk runs, finding
    name.bib in `bib_dirs` (absolute paths: bibtex runs in the .tex's folder)."""
    if shutil.which("latexmk") is None:
        raise LatexError("latexmk is not installed. On Debian/Ubuntu: sudo apt-get install "
                         "texlive-latex-base texlive-latex-recommended texlive-science latexmk "
                         "lmodern (or run `make setup`).")
    outdir = tex.parent
    env = dict(os.environ)
    if bib_dirs:
        # the trailing separator keeps TeX Live's own search path after ours
        env["BIBINPUTS"] = os.pathsep.join([*(str(Path(d).resolve()) for d in bib_dirs),
                                            env.get("BIBINPUTS", "")])
        _forget_missing_bib(tex.with_suffix(".fdb_latexmk"))
    cmd = ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error",
           f"-outdir={outdir}", str(tex)]
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    print(result.stdout[-5000:], result.stderr[-5000:])
    if result.returncode != 0:
        log = tex.with_suffix(".log")
        detail = latex_errors(log.read_text(errors="replace")) if log.exists() else result.stdout[-2000:]
        blg = tex.with_suffix(".blg")
        if blg.exists() and (bib := bibtex_errors(blg.read_text(errors="replace"))):
            detail += f"\nbibtex ({blg}):\n{bib}"
        raise LatexError(f"latexmk failed on {tex} (full log: {log}):\n{detail}")
    return outdir / (tex.stem + ".pdf")
