import os
from pathlib import Path

from mnist_study import files
from mnist_study.logs import redirect_to_log
from mnist_study.report.claims import batch_norm_sentences, dead_units, study_conclusions
from mnist_study.report.document import (
    curves_context,
    families_context,
    model_rows,
    precision_sentence,
    study_facts,
)
from mnist_study.report.templates import render, unreferenced_figures

# Inputs are sorted by name prefix (see report_elements in workflow/rules/common/report.smk).
READERS = {"table_": files.read_table, "ctx_": files.read_json, "fig_": str}

with redirect_to_log(snakemake.log[0]):
    context = {"table": {}, "ctx": {}, "fig": {}, "config": snakemake.params.config}
    for name, path in snakemake.input.items():
        if name == "templates":  # inputs only so that template edits rerun this rule
            continue
        prefix = next(p for p in READERS if name.startswith(p))
        context[prefix.rstrip("_")][name[len(prefix):]] = READERS[prefix](path)
    findings, table = context["ctx"]["findings"], context["table"]["models"]
    n_test = context["ctx"]["provenance"]["n_test"]
    context["models"] = model_rows(table, findings, n_test)
    chosen = context["ctx"]["families"]  # formatted here, as every number of the report is
    context["ctx"]["families"] = families_context(context["table"]["families"], table,
                                                  chosen["pick"], n_test, chosen["level"])
    labels = {str(m): str(lab) for m, lab in zip(table["model"], table["label"])}
    context["found"] = study_conclusions(findings, labels, table)
    context["study"] = study_facts(context["models"])
    context["study"]["precision"] = precision_sentence(context["ctx"]["provenance"]["jobs"])
    context["dead_units"] = dead_units(context["table"]["dead_units"], labels)
    context["batch_norm"] = batch_norm_sentences(context["table"]["batch_norm"], labels)
    context["curves"] = curves_context(context["ctx"]["learning_curves"], labels,
                                       context["found"]["degenerate_models"])
    templates = [Path(t).read_text() for t in snakemake.input.templates]
    if missing := unreferenced_figures(templates, list(context["fig"])):
        raise ValueError(f"figures made but named in no template: {', '.join(missing)}. Show each "
                         f"with \\includegraphics{{\\VAR{{fig.<name>}}}} in a template under "
                         f"report/sections/, or remove its rule (README, 'Adding a figure').")
    template_dir = os.path.commonpath(snakemake.input.templates)  # report/
    tex = render(template_dir, "report.tex.j2", context)
    with files.atomic_path(snakemake.output[0]) as tmp:
        tmp.write_text(tex)
