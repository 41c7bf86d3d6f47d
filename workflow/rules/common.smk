# Set-up shared by every stage: config validation, the resolved model specs, path helpers.
import os
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.logging import logger
from snakemake.utils import validate

# The logic lives in the package under src/. Jobs import it from this checkout, whatever
# environment runs them (the uv venv, a --sdm conda env, a cluster node), so put it on the
# path here and, through PYTHONPATH, for every job's interpreter.
REPO = Path(workflow.basedir)
sys.path.insert(0, str(REPO / "src"))
# Threads that sleep rather than spin while waiting: on a shared or oversubscribed machine
# OpenMP's spin-waiting made 100 steps of model 0 take 21.8 s instead of 0.5 s
# (benchmarks/). The user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.update(
    PYTHONPATH=os.pathsep.join(p for p in (str(REPO / "src"), os.environ.get("PYTHONPATH")) if p)
)

# Parsing imports only torch-free modules, so that a rerun with nothing to do decides fast.
from mnist_study.data import RAW_FILES
from mnist_study.outcome import MODEL_FILES, RECORD_FAILURES_ENV, read_outcomes
from mnist_study.provenance import config_digest
from mnist_study.spec import resolve_models, scan_grid, scan_row_spec


validate(config, "../schemas/config.schema.yaml")


def record_failures_under_keep_going():
    """Under --keep-going a training job records a failure it can see instead of failing, so
    that the report still builds and marks the missing model (mnist_study.outcome). An
    environment variable, not a param: toggling --keep-going must not make every model look
    changed. Called from onstart: the execution settings are not known while parsing."""
    if workflow.execution_settings.keep_going:
        os.environ[RECORD_FAILURES_ENV] = "1"

MODELS = resolve_models(config)  # model id -> StudyModel (spec with defaults merged)
INSPECT = config["inspect"]  # which models the "inside the networks" section looks at
for _m in [INSPECT["model"], *INSPECT["unfamiliar_models"]]:
    if _m not in MODELS:
        raise ValueError(f"inspect: model {_m!r} is not in models: ({', '.join(MODELS)})")
SCAN = scan_grid(config["scan"])  # learning rates x hidden sizes of the scan
STYLE = str(REPO / "report" / "style.mplstyle")
# Inputs of render_report, so that editing a template rebuilds the report (and only it).
TEMPLATES = sorted(str(p) for p in (REPO / "report").rglob("*.tex.j2"))
MNIST_ROOT = "data/mnist"  # torchvision layout: <root>/MNIST/raw/<file>


wildcard_constraints:
    model="|".join(MODELS),


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


def scan_spec(wildcards):
    return scan_row_spec(config, int(wildcards.hidden)).to_dict()


def scan_threads(wildcards):
    # as train_threads: small rows are overhead-bound, large ones take what they get
    spec = scan_row_spec(config, int(wildcards.hidden))
    return 1 if spec.n_parameters() * len(SCAN.learning_rates) < 300_000 else 8


def scan_mem_mb(wildcards):
    spec = scan_row_spec(config, int(wildcards.hidden))
    # data + weights, grads and 2 Adam moments per member (float32)
    return 1500 + 4 * 4 * spec.n_parameters() * len(SCAN.learning_rates) // 2**20 * 2


def scan_runtime_min(wildcards):
    spec = scan_row_spec(config, int(wildcards.hidden))
    return 10 + int(spec.train_flops(60000) * len(SCAN.learning_rates) / 50e9 / 60)


def train_gpus(wildcards):
    # Only an explicit `device: cuda` asks the scheduler for a GPU: on a CPU-only cluster a
    # GPU request would make sbatch refuse the job. The gpu profile caps the sum at one GPU.
    return int(MODELS[wildcards.model].spec.device == "cuda")


# Building the DAG asks for the trained models many times (each aggregating step, each
# per-model job), so the outcomes table is read once per version of it.
_TRAINED_MODELS = {}  # (path, mtime) -> trained models


def trained_models(wildcards=None):
    """The models that trained, in config order. Known once every training job has ended
    (the collect_training_outcomes checkpoint); until then Snakemake schedules those jobs."""
    path = Path(checkpoints.collect_training_outcomes.get().output[0])
    key = (path, path.stat().st_mtime_ns)
    if key not in _TRAINED_MODELS:
        outcomes = read_outcomes(path)
        trained = set(outcomes.loc[outcomes["status"] == "trained", "model"])
        _TRAINED_MODELS[key] = [m for m in MODELS if m in trained]
    return list(_TRAINED_MODELS[key])


def trained_file(model, name):
    """A file of a model that trained (name as in mnist_study.outcome.MODEL_FILES)."""
    if model not in trained_models():
        raise WorkflowError(
            f"model {model!r} did not train (see results/tables/training_outcomes.csv), but "
            f"the inspection section needs it: set inspect.model to a model that trained, or "
            f"fix the failure and rerun with --forcerun results/models/{model}")
    return f"results/models/{model}/{MODEL_FILES[name]}"


def warn_about_failed_models():
    outcomes = Path("results/tables/training_outcomes.csv")
    if not outcomes.exists():
        return
    failed = read_outcomes(outcomes).query("status == 'failed'")
    for row in failed.itertuples():
        logger.warning(f"model {row.model} did not train and is missing from the report: "
                       f"{row.reason} (log: {row.log}); retry with "
                       f"snakemake --forcerun results/models/{row.model}")


def say_where_the_time_went(snakemake_log):
    """End of a run: the rules that took the most wall time (python -m mnist_study.timing
    WORKDIR gives the whole breakdown)."""
    from mnist_study.timing import top_rules_text

    try:
        summary = top_rules_text(snakemake_log)
    except Exception as exc:  # a summary must never fail a run that succeeded
        summary = f"(no timing summary: {type(exc).__name__}: {exc})"
    if summary:
        logger.info(summary)


def grid_models(wildcards=None):
    """Class maximization for every trained model of Tables 1 and 2 (all when none has a table)."""
    tabled = [m for m in trained_models() if MODELS[m].table in (1, 2)]
    return tabled or trained_models()


def class_max_models():
    """The models whose ideal digits the report shows: the grid's and the inspected model."""
    return list(dict.fromkeys([*grid_models(), INSPECT["model"]]))


def inspected_weights(wildcards):
    return trained_file(INSPECT["model"], "weights")


def model_file(name):
    """Input function: that file of every model that trained."""
    return lambda wildcards: [f"results/models/{m}/{MODEL_FILES[name]}" for m in trained_models()]


def benchmark_files():
    """Job name -> its benchmark file, for the per-job wall times in the report."""
    return {
        **{f"train_model {m}": f"results/benchmarks/train_model/{m}.tsv" for m in MODELS},
        **{f"train_scan_row h{h}": f"results/benchmarks/train_scan_row/h{h}.tsv"
           for h in SCAN.hidden_sizes},
    }


def trained_outputs():
    """The last file each training job writes: provenance waits for all of them."""
    return ["results/tables/training_outcomes.csv",
            *(f"results/scan/h{h}/metrics.csv" for h in SCAN.hidden_sizes)]


def report_inputs(wildcards):
    """Everything the report shows, by name. The render script sorts inputs by prefix:
    `table_` (CSV -> rows), `ctx_` (JSON -> dict), `fig_` (figure path for \\includegraphics).
    A new section adds its inputs here and its template to report/sections/."""
    return {
        "table_models": "results/tables/models.csv",
        "ctx_provenance": "results/report/provenance.json",
        "fig_loss_curves": "results/figures/loss_curves.pdf",
        "ctx_inside": "results/inspect/inside.json",
        "fig_unfamiliar": "results/figures/unfamiliar.pdf",
        "fig_class_maximization": "results/figures/class_maximization.pdf",
        "fig_deep_dream": "results/figures/deep_dream.pdf",
        "fig_regularized_maximization": "results/figures/regularized_maximization.pdf",
        "fig_border_analysis": "results/figures/border_analysis.pdf",
        "fig_class_max_grid": "results/figures/class_max_grid.pdf",
        "ctx_digits": "results/analysis/digits.json",
        "fig_digit_means": "results/figures/digit_means.pdf",
        "ctx_scan": "results/scan/summary.json",
        "fig_scan": "results/figures/scan_heatmap.pdf",
        "ctx_mistakes": "results/analysis/mistakes.json",
        "fig_mistakes_best": "results/figures/mistakes_best.pdf",
        "fig_mistakes_worst": "results/figures/mistakes_worst.pdf",
        "fig_confusion": "results/figures/confusion_matrices.pdf",
        "fig_digit_errors": "results/figures/digit_errors.pdf",
        "fig_confident_mistakes": "results/figures/confident_mistakes.pdf",
        "ctx_roc": "results/analysis/roc.json",
        "fig_roc": "results/figures/roc.pdf",
        "ctx_batch_lr": "results/analysis/batch_lr.json",
        "fig_batch_lr": "results/figures/batch_lr.pdf",
    }
