# The report: provenance, Jinja -> report.tex, latexmk -> report.pdf.


rule collect_provenance:
    localrule: True
    input:
        # Benchmark files are read, not required: a job whose outputs exist without one (run
        # outside Snakemake's supervision, or --touch'ed) shows as "not recorded" instead of
        # being retrained only to be timed.
        trained=trained_outputs(),
        data="results/data/mnist.npz",
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
    localrule: True
    input:
        unpack(report_inputs),
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
    localrule: True
    input:
        tex="results/report/report.tex",
        figures=lambda w: [f for k, f in report_inputs(w).items() if k.startswith("fig_")],
    output:
        report("report.pdf", category="Report"),
    log:
        "logs/compile_report.log",
    conda:
        "../../envs/mnist-study.yaml"
    script:
        "../scripts/compile_report.py"
