import os

import pandas as pd

from mnist_study import io
from mnist_study.logs import redirect_to_log
from mnist_study.report import model_rows, render

# Inputs are sorted by name prefix (see report_inputs in workflow/rules/common.smk).
READERS = {"table_": pd.read_csv, "ctx_": io.read_json, "fig_": str}

with redirect_to_log(snakemake.log[0]):
    context = {"table": {}, "ctx": {}, "fig": {}, "config": snakemake.params.config}
    for name, path in snakemake.input.items():
        if name == "templates":  # inputs only so that template edits rerun this rule
            continue
        prefix = next(p for p in READERS if name.startswith(p))
        context[prefix.rstrip("_")][name[len(prefix):]] = READERS[prefix](path)
    context["models"] = model_rows(context["table"]["models"], context["ctx"]["provenance"]["n_train"])
    template_dir = os.path.commonpath(snakemake.input.templates)  # report/
    tex = render(template_dir, "report.tex.j2", context)
    with io.atomic_path(snakemake.output[0]) as tmp:
        tmp.write_text(tex)
