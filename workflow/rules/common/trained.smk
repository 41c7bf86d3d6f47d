# The models that trained, known once the collect_training_outcomes checkpoint has run, and
# the files of theirs that later rules read.

# Building the DAG asks for the trained models many times (each aggregating step, each
# per-model job), so the outcomes table is read once per version of it.
from snakemake.exceptions import IncompleteCheckpointException
from snakemake.io import checkpoint_target

_TRAINED_MODELS = {}  # (path, mtime) -> trained models


def trained_models(wildcards=None):
    """The models that trained, in config order. Known once every training job has ended
    (the collect_training_outcomes checkpoint); until then Snakemake schedules those jobs."""
    path = Path(checkpoints.collect_training_outcomes.get().output[0])
    key = (path, path.stat().st_mtime_ns)
    if key not in _TRAINED_MODELS:
        outcomes = files.read_table(path)
        if set(outcomes["model"]) != set(MODELS):
            # The table of another study run in this folder (Snakemake hands out an existing
            # checkpoint output while it plans, before it knows that the checkpoint reruns):
            # this study's is not written yet.
            raise IncompleteCheckpointException(
                checkpoints.collect_training_outcomes.rule, checkpoint_target(str(path))
            )
        trained = set(outcomes.loc[outcomes["status"] == "trained", "model"])
        _TRAINED_MODELS[key] = [m for m in MODELS if m in trained]
    return list(_TRAINED_MODELS[key])


def model_file(name):
    """Input function: that file of every model that trained. A training folder without it was
    written by an older version of the workflow (its output is the folder, so Snakemake would
    only call the file missing): say which folders, and how to retrain them."""

    def files(wildcards):
        paths = [f"results/models/{m}/{MODEL_FILES[name]}" for m in trained_models()]
        if stale := [str(Path(p).parent) for p in paths if not Path(p).exists()]:
            raise WorkflowError(
                f"{', '.join(stale)}: trained by an older version of this workflow, without "
                f"{MODEL_FILES[name]}. Retrain them: snakemake --forcerun {' '.join(stale)} "
                f"(with your other options), or delete those folders and run again."
            )
        return paths

    return files


def relu_models(wildcards=None):
    """The models that trained whose hidden units are ReLUs (those that can die)."""
    return [m for m in trained_models() if MODELS[m].spec.activation == "relu"]


def batch_norm_models(wildcards=None):
    """The models that trained whose networks normalize with batch statistics."""
    return [
        m
        for m in trained_models()
        if families.get(MODELS[m].spec.family).batch_norm(MODELS[m].spec)
    ]


def grid_models(wildcards=None):
    """Class maximization for every trained model of Tables 1 and 2 (all when none has a table)."""
    tabled = [m for m in trained_models() if MODELS[m].in_seed_tables]
    return tabled or trained_models()


def beyond_grid_models(wildcards=None):
    """The trained models beside the seed's Tables 1 and 2 (none when no model has a table):
    their ideal digits are a grid of their own."""
    return [m for m in trained_models() if m not in grid_models()]


def class_max_models():
    """The models whose ideal digits the report shows: every trained model (the inspected
    model among them; if it failed, its deep dream job says so)."""
    return [*grid_models(), *beyond_grid_models()]


def trained_outputs():
    """The last file each training job writes: provenance waits for all of them."""
    return [
        "results/tables/training_outcomes.csv",
        *SCAN_ROW_RESULTS,
    ]


def benchmark_files():
    """Job name -> its benchmark file, for the per-job wall times in the report."""
    return {
        **{f"train_model {m}": f"results/benchmarks/train_model/{m}.tsv" for m in MODELS},
        **{
            f"train_scan_row h{h}": f"results/benchmarks/train_scan_row/h{h}.tsv"
            for h in (SCAN.hidden_sizes if SCAN else ())
        },
    }


def run_files():
    """Training job name (as in benchmark_files) -> the file saying how it trained (device,
    CPU kernels, torch threads, trainer): mnist_study.train.engine.how_trained."""
    return {
        **{f"train_model {m}": f"results/models/{m}/{MODEL_FILES['run']}" for m in MODELS},
        **{
            f"train_scan_row h{h}": f"results/scan/h{h}/run.json"
            for h in (SCAN.hidden_sizes if SCAN else ())
        },
    }


def run_records(wildcards):
    """The run files of the models that trained and of the scan rows, as inputs: a job
    retrained at another thread count then updates the report's job table. A model trained
    before jobs wrote one has none, and shows none (not an error: its results stand)."""
    trained = {f"train_model {m}" for m in trained_models()}
    return [
        path
        for job, path in run_files().items()
        if job.startswith("train_scan_row") or (job in trained and os.path.exists(path))
    ]
