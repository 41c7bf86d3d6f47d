import shutil
from pathlib import Path

from mnist_study.logs import redirect_to_log
from mnist_study.report.latex import compile_pdf

with redirect_to_log(snakemake.log[0]):
    pdf = compile_pdf(Path(snakemake.input.tex), bib_dirs=[Path(snakemake.input.bibliography).parent])
    shutil.copyfile(pdf, snakemake.output[0])
