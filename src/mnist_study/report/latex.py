"""Compile a .tex file with latexmk (pdflatex); on failure, raise with the offending lines."""

from __future__ import annotations

import re
import shutil
import subprocess
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
            out += [l for l in lines[i + 1:i + 12] if re.match(r"l\.\d+", l)][:1]
    return "\n".join(out)


def compile_pdf(tex: Path) -> Path:
    """Run latexmk from the current directory (figure paths in the .tex are relative to it),
    writing auxiliary files beside the .tex. Returns the PDF's path."""
    if shutil.which("latexmk") is None:
        raise LatexError("latexmk is not installed. On Debian/Ubuntu: sudo apt-get install "
                         "texlive-latex-base texlive-latex-recommended texlive-science latexmk "
                         "lmodern (or run `make setup`).")
    outdir = tex.parent
    cmd = ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error",
           f"-outdir={outdir}", str(tex)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    print(result.stdout[-5000:], result.stderr[-5000:])
    if result.returncode != 0:
        log = tex.with_suffix(".log")
        detail = latex_errors(log.read_text(errors="replace")) if log.exists() else result.stdout[-2000:]
        raise LatexError(f"latexmk failed on {tex} (full log: {log}):\n{detail}")
    return outdir / (tex.stem + ".pdf")
