import shutil
from pathlib import Path

from mnist_study.latex import compile_pdf
from mnist_study.logs import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    pdf = compile_pdf(Path(snakemake.input.tex))
    shutil.copyfile(pdf, snakemake.output[0])
