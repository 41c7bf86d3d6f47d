# The study's config, validated, and what the rules read of it.

# The study is config.yaml, then the study file it names (unless a --configfile or --config
# lists `models`: a study of its own, whose models are all there is), then the command line's
# files and values: composed, checked (every problem named by its key path) and completed
# with the schema's defaults by the package's one definition, which the benchmarks and tests
# also use.
config.update(
    compose_config(
        yaml.safe_load((REPO / "config.yaml").read_text()),
        [workflow.config_settings.overwrite_config],
        REPO,
        logger.info,
    )
)

if config["mnist"]["existing_copy"]:
    existing_copy_files(config["mnist"]["existing_copy"])  # a wrong folder stops the run here

MODELS = resolve_models(config)  # model id -> StudyModel (spec with defaults merged)
LABELS = {m: model.label for m, model in MODELS.items()}  # model id -> its name in the report
# The images trained and tested on: the study's subsets, else all of MNIST's.
N_TRAIN, N_TEST = split_sizes(config).values()
# the models it looks inside
INSPECT = resolve_inspection(
    config["inspect"], list(MODELS), {m: s.spec.family for m, s in MODELS.items()}
)
# Claims to test, each about two of its models.
CLAIMS = resolve_claims(config["claims"], list(MODELS))
CONTROLS = resolve_claims(config["controls"], list(MODELS), "controls")
# The scan (learning rate x hidden size), when the study runs it; else no scan rules at all.
SCAN = scan_grid(config["scan"]) if config["scan"]["run"] else None
# The last file each scan row's training job writes.
SCAN_ROW_RESULTS = [f"results/scan/h{h}/training.csv" for h in (SCAN.hidden_sizes if SCAN else ())]
STYLE = str(REPO / "report" / "style.mplstyle")  # an input of every plot rule: restyling replots
# Inputs of render_report, so that editing a template rebuilds the report (and only it).
TEMPLATES = sorted(str(p) for p in (REPO / "report").rglob("*.tex.j2"))
MNIST_ROOT = "data/mnist"  # torchvision layout: <root>/MNIST/raw/<file>


wildcard_constraints:
    model="|".join(MODELS),


def model_spec(wildcards):
    return MODELS[wildcards.model].spec.to_dict()


def scan_spec(wildcards):
    return scan_row_spec(config, int(wildcards.hidden)).to_dict()
