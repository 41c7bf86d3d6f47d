# The study's config, validated, and what the rules read of it.

validate(config, "../../schemas/config.schema.yaml")

MODELS = resolve_models(config)  # model id -> StudyModel (spec with defaults merged)
INSPECT = config["inspect"]  # which models the "inside the networks" section looks at
for _m in [INSPECT["model"], *INSPECT["unfamiliar_models"]]:
    if _m not in MODELS:
        raise ValueError(f"inspect: model {_m!r} is not in models: ({', '.join(MODELS)})")
SCAN = scan_grid(config["scan"])  # learning rates x hidden sizes of the scan
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
