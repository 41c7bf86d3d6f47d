# Set-up shared by every stage: config validation, the resolved model specs, path helpers.
from pathlib import Path

from snakemake.utils import validate

from mnist_study.data import RAW_FILES
from mnist_study.provenance import config_digest
from mnist_study.spec import resolve_models


validate(config, "../schemas/config.schema.yaml")

MODELS = resolve_models(config)  # model id -> StudyModel (spec with defaults merged)
REPO = Path(workflow.basedir)
STYLE = str(REPO / "report" / "style.mplstyle")
MNIST_ROOT = "data/mnist"  # torchvision layout: <root>/MNIST/raw/<file>


wildcard_constraints:
    model="|".join(MODELS),


localrules:
    all,
    summarize_models,
    plot_loss_curves,
    collect_provenance,
    render_report,
    compile_report,


def model_spec(wildcards):
    return MODELS[wildcards.model].spec.to_dict()


def train_threads(wildcards):
    # Small networks are bound by per-step overhead and gain nothing from more threads; let
    # several run side by side instead. Large ones are matmul-bound and take what they get.
    return 1 if MODELS[wildcards.model].spec.n_parameters() < 300_000 else 8


def train_mem_mb(wildcards):
    spec = MODELS[wildcards.model].spec
    # data (~250 MB as float32 on the device) + weights, grads and 2 Adam moments per member
    return 1500 + 4 * 4 * spec.n_parameters() * len(spec.seeds) // 2**20 * 2


def train_runtime_min(wildcards):
    # generous: 50 GFLOP/s is a slow CPU core pair; runtime is a SLURM limit, not a prediction
    return 10 + int(MODELS[wildcards.model].spec.train_flops(60000) / 50e9 / 60)


def model_file(name):
    return [f"results/models/{m}/{name}" for m in MODELS]


def benchmark_files():
    """Job name -> its benchmark file, for the per-job wall times in the report."""
    return {f"train_model {m}": f"results/benchmarks/train_model/{m}.tsv" for m in MODELS}


def report_inputs(wildcards):
    """Everything the report shows, by name. The render script sorts inputs by prefix:
    `table_` (CSV -> rows), `ctx_` (JSON -> dict), `fig_` (figure path for \\includegraphics).
    A new section adds its inputs here and its template to report/sections/."""
    return {
        "table_models": "results/tables/models.csv",
        "ctx_provenance": "results/report/provenance.json",
        "fig_loss_curves": "results/figures/loss_curves.pdf",
    }
