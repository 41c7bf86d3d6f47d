# The report: provenance, Jinja -> report.tex, latexmk -> report.pdf. What it shows is found
# by the convention of workflow/rules/common/report.smk.


rule collect_provenance:
    input:
        # Benchmark files are read, not required: a job whose outputs exist without one (run
        # outside Snakemake's supervision, or --touch'ed) shows as "not recorded" instead of
        # being retrained only to be timed.
        trained=trained_outputs(),
        runs=run_records,
        data="results/data/mnist.npz",
    output:
        context="results/report/provenance.json",
    log:
        "logs/collect_provenance.log",
    params:
        config_digest=config_digest(config),
        repo=str(REPO),
        benchmarks=benchmark_files(),
        runs=run_files(),
    script:
        "../scripts/collect_provenance.py"


rule render_report:
    input:
        unpack(lambda w: report_elements()),
        templates=TEMPLATES,
    output:
        "results/report/report.tex",
    log:
        "logs/render_report.log",
    params:
        config=config,
    script:
        "../scripts/render_report.py"


rule compile_report:
    input:
        tex="results/report/report.tex",
        figures=lambda w: list(report_elements("figure").values()),
        # \bibliography{references} in the .tex: bibtex finds it through BIBINPUTS
        bibliography=str(REPO / "report" / "references.bib"),
    output:
        report("report.pdf", category="Report"),
    log:
        "logs/compile_report.log",
    script:
        "../scripts/compile_report.py"
