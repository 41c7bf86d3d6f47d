# The report: provenance, Jinja -> report.tex, latexmk -> report.pdf.


rule collect_provenance:
    input:
        # Benchmark files are read, not required: a job whose outputs exist without one (run
        # outside Snakemake's supervision, or --touch'ed) shows as "not recorded" instead of
        # being retrained only to be timed.
        trained=trained_outputs(),
        data="results/data/mnist.pt",
    output:
        "results/report/provenance.json",
    log:
        "logs/collect_provenance.log",
    params:
        config_digest=config_digest(config),
        repo=str(REPO),
        benchmarks=benchmark_files(),
    conda:
        "../../envs/mnist-study.yaml"
    script:
        "../scripts/collect_provenance.py"


rule render_report:
    input:
        unpack(report_inputs),
        unpack(roc_figures),
        templates=TEMPLATES,
    output:
        "results/report/report.tex",
    log:
        "logs/render_report.log",
    params:
        config=config,
    conda:
        "../../envs/mnist-study.yaml"
    script:
        "../scripts/render_report.py"


rule compile_report:
    input:
        tex="results/report/report.tex",
        figures=lambda w: [f for k, f in report_inputs(w).items() if k.startswith("fig_")],
        roc_figures=lambda w: list(roc_figures(w).values()),
    output:
        report("report.pdf", category="Report"),
    log:
        "logs/compile_report.log",
    conda:
        "../../envs/mnist-study.yaml"
    script:
        "../scripts/compile_report.py"
