# The study's config, validated, and what the rules read of it.

# The study is the models and whatever settings go with them. A --configfile (or --config)
# that lists `models` is a study of its own, and its models are all there is (config.yaml
# lists none, so nothing merges into them); otherwise the file config.yaml names as `study`.
# Snakemake's own configfile() applies it between config.yaml and the command line's files.
if "models" not in workflow.config_settings.overwrite_config:
    workflow.configfile(study_file(config.get("study", "config/seed.yaml"), REPO))

check_model_ids(config)  # before the schema: YAML may have read an id as a number
# Problems named by key path first, every one at once; then Snakemake's own validation, which
# also fills in the schema's defaults.
check_config(config, load_schema(REPO / "workflow" / "schemas" / "config.schema.yaml"), logger.info)
validate(config, "../../schemas/config.schema.yaml")

if config["mnist"]["existing_copy"]:
    existing_copy_files(config["mnist"]["existing_copy"])  # a wrong folder stops the run here

MODELS = resolve_models(config)  # model id -> StudyModel (spec with defaults merged)
# the models it looks inside
INSPECT = resolve_inspection(
    config["inspect"], list(MODELS), {m: s.spec.family for m, s in MODELS.items()}
)
# Claims to test, each about two of its models.
CLAIMS = resolve_claims(config["claims"], list(MODELS))
# The scan (learning rate x hidden size), when the study runs it; else no scan rules at all.
SCAN = scan_grid(config["scan"]) if config["scan"]["run"] else None
# The last file each scan row's training job writes.
SCAN_ROW_RESULTS = [f"results/scan/h{h}/metrics.csv" for h in (SCAN.hidden_sizes if SCAN else ())]
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
