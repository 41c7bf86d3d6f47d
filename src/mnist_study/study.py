"""What a study is: the file that lists its models, the ids as the user typed them, and the
choices that default from its models. Read while the workflow parses: no heavy imports."""

from __future__ import annotations

import copy
import re
from pathlib import Path


class StudyError(ValueError):
    """A study that cannot run as written; the message names the key and what to write."""


def study_file(name: str, workflow_dir: str | Path) -> str:
    """The study file `name`: as given when it exists (relative to the working directory),
    else relative to the workflow's folder, where config.yaml is. Its YAML is checked here, so
    that a syntax error is named with the file and line."""
    path = Path(name)
    beside = Path(workflow_dir) / path
    for found in (path, beside if not path.is_absolute() else None):
        if found is not None and found.exists():
            check_yaml(found)
            return str(found)
    raise StudyError(f"study: no file {name!r} (looked in {Path.cwd()} and {workflow_dir}). "
                     f"Set `study` to an existing study file, or give your study with "
                     f"--configfile my-study.yaml.")


def check_yaml(path: Path) -> None:
    """A YAML syntax error, named with the file, line and column and what YAML expected."""
    import yaml

    try:
        yaml.safe_load(path.read_text())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}, line {mark.line + 1}, column {mark.column + 1}" if mark else str(path)
        raise StudyError(f"{where}: not valid YAML: {exc.problem}"
                         + (f" ({exc.context})" if exc.context else "")) from None


def check_model_ids(config: dict) -> None:
    """A model id is the text the user typed as a YAML key. YAML reads some unquoted keys as
    something else (007 as the number 7, true as True, null as None, 1.0 as a float), and the
    text is then lost: refuse those, saying how to write them."""
    for key in config.get("models") or {}:
        if not isinstance(key, str):
            kind = "nothing (null)" if key is None else f"the {type(key).__name__} {key!r}"
            raise StudyError(
                f"models: YAML read a model id as {kind}, not as the text you typed. Write ids "
                f"in quotes, as in `\"007\": {{hidden: [300, 100]}}` (unquoted, YAML reads 007 "
                f"as 7, true as True and null as nothing).")


def resolve_inspection(inspect: dict, model_ids: list[str],
                       families: dict[str, str] | None = None) -> dict:
    """`inspect` with its models filled in: `model` (null: the study's first model whose first
    layer is dense over the pixels, an mlp's, else its first model: class maximization and the
    dreams work for any differentiable network), `unfamiliar_models` (null: its first and last)
    and `border_model`, the model of the border analysis, which reads such a first layer:
    `model` when it has one, else the study's first model that does, else None (a study
    without one has no border analysis). `families` maps model ids to family names (default
    mlp). Each named model must be a model of the study."""
    from mnist_study.families import get

    out = dict(inspect)
    families = families or {}
    dense = [m for m in model_ids if get(families.get(m, "mlp")).dense_over_pixels]
    if out.get("model") is None:
        out["model"] = (dense or model_ids)[0]
    if out.get("unfamiliar_models") is None:
        out["unfamiliar_models"] = list(dict.fromkeys([model_ids[0], model_ids[-1]]))
    for key, chosen in (("model", [out["model"]]), ("unfamiliar_models", out["unfamiliar_models"])):
        for m in chosen:
            if m not in model_ids:
                raise StudyError(f"inspect.{key}: {m!r} is not a model of this study (its models: "
                                 f"{', '.join(model_ids)}). Name one of them, or leave it out.")
    out["border_model"] = out["model"] if out["model"] in dense else (dense[0] if dense else None)
    return out


def resolve_claims(claims: list[dict], model_ids: list[str], key: str = "claims") -> list[dict]:
    """The study's claims (`claims:`, or its `controls:` as `key` says), each naming two models
    of the study: `a`, `b` and what the claim says of b against a (`expect`). Ids are read as
    text (YAML may read 9 as a number); an id that is not a model of the study is named by its
    key path."""
    out = []
    for k, claim in enumerate(claims):
        claim = {**claim, "a": str(claim["a"]), "b": str(claim["b"])}
        for side in ("a", "b"):
            if claim[side] not in model_ids:
                raise StudyError(f"{key}.{k}.{side}: {claim[side]!r} is not a model of this study "
                                 f"(its models: {', '.join(model_ids)}). Name one of them, or "
                                 f"remove the claim.")
        if claim["a"] == claim["b"]:
            raise StudyError(f"{key}.{k}: a and b are both {claim['a']!r}; a claim compares two "
                             f"models.")
        out.append(claim)
    return out


def reductions(config: dict, full_train: int, full_test: int) -> list[str]:
    """How this run is smaller than the study it configures (empty: it is the full study):
    fewer training or test images than MNIST has, or epochs capped by `max_epochs` below what
    a model asks for. A reduced run's accuracies are not those of the study's specs."""
    out = []
    for split, full in (("train", full_train), ("test", full_test)):
        n = config["mnist"].get(f"{split}_samples")
        if n is not None and n < full:
            what = "training" if split == "train" else "test"
            out.append(f"{n:,} of the {full:,} {what} images")
    cap = config.get("max_epochs")
    defaults = config.get("defaults", {})
    asked = [entry.get("epochs", defaults.get("epochs")) for entry in config["models"].values()]
    if cap is not None and any(e is not None and e > cap for e in asked):
        out.append(f"at most {cap} epoch{'s' if cap != 1 else ''} per model")
    return out


# --- the config, composed ---------------------------------------------------------------------

def merge_config(config: dict, overlay: dict) -> dict:
    """overlay's keys over config's, in place, as Snakemake merges config files: a mapping
    merges key by key, at any depth; any other value (a list included) replaces."""
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            merge_config(config[key], value)
        else:
            config[key] = copy.deepcopy(value)
    return config


def compose_config(base: dict, overlays: list[dict], workflow_dir: str | Path, log=print) -> dict:
    """The study's config: `base` (config.yaml), then the study file it names under `study`
    unless an overlay lists models itself (a study of its own: its models are all there is),
    then each overlay in order (--configfile files, then --config). Checked against the schema
    (every problem named by its key path) and completed with the schema's defaults. The one
    definition: the workflow, the benchmarks and the tests all read a study through it."""
    import yaml

    asked = copy.deepcopy(base)  # what the overlays make of `study`
    for overlay in overlays:
        merge_config(asked, overlay)
    config = copy.deepcopy(base)
    if not any("models" in overlay for overlay in overlays):
        path = study_file(asked.get("study", "config/seed.yaml"), workflow_dir)
        merge_config(config, yaml.safe_load(Path(path).read_text()) or {})
    for overlay in overlays:
        merge_config(config, overlay)
    check_model_ids(config)  # before the schema: YAML may have read an id as a number
    schema = load_schema(Path(workflow_dir) / "workflow" / "schemas" / "config.schema.yaml")
    check_config(config, schema, log)
    fill_defaults(config, schema)
    return config


def load_config(workflow_dir: str | Path, files: list[str | Path] = ()) -> dict:
    """compose_config from files on disk: the workflow's config.yaml (in `workflow_dir`, the
    folder of its Snakefile), then `files` as --configfile gives them."""
    import yaml

    root = Path(workflow_dir)
    base = yaml.safe_load((root / "config.yaml").read_text())
    for f in files:
        check_yaml(Path(f))
    return compose_config(base, [yaml.safe_load(Path(f).read_text()) or {} for f in files], root)


def fill_defaults(config: dict, schema: dict) -> None:
    """Every key the schema gives a default and the config leaves out, filled in place (the
    recipe of jsonschema's FAQ, which Snakemake's validate(set_default=True) also follows)."""
    from jsonschema import Draft202012Validator, validators

    plain = Draft202012Validator.VALIDATORS["properties"]

    def properties_with_defaults(validator, properties, instance, subschema):
        if isinstance(instance, dict):
            for key, sub in properties.items():
                if isinstance(sub, dict) and "default" in sub:
                    instance.setdefault(key, copy.deepcopy(sub["default"]))
        yield from plain(validator, properties, instance, subschema)

    filling = validators.extend(Draft202012Validator, {"properties": properties_with_defaults})
    for _ in filling(schema).iter_errors(config):
        pass  # check_config has named every problem already


# --- the config as written ------------------------------------------------------------------

# YAML 1.1 (what PyYAML and so Snakemake read) takes a number with an exponent but no dot,
# such as 1e-3, for text.
NUMBER_AS_TEXT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+$")


def load_schema(path: str | Path) -> dict:
    """The config schema, with the model families' choices and own keys put in from their
    modules (mnist_study.families): a family added there needs no edit here."""
    import yaml

    from mnist_study.families import schema_for_models

    return schema_for_models(yaml.safe_load(Path(path).read_text()))


def _key_path(path) -> str:
    return ".".join(str(p) for p in path) or "(top level)"


def take_numbers_written_as_text(config: dict, schema: dict) -> list[str]:
    """Where the schema wants a number and the config holds text like "1e-3", put the number
    the user meant in its place. Returns the key paths changed, to say so in the log."""
    from jsonschema import Draft202012Validator

    changed = []
    for error in Draft202012Validator(schema).iter_errors(config):
        wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        if (error.validator == "type" and "number" in wanted and isinstance(error.instance, str)
                and NUMBER_AS_TEXT.match(error.instance.strip())):
            node = config
            for key in list(error.absolute_path)[:-1]:
                node = node[key]
            node[error.absolute_path[-1]] = float(error.instance)
            changed.append(f"{_key_path(error.absolute_path)}: {error.instance!r} read as the "
                           f"number {float(error.instance)!r}")
    return changed


def schema_problems(config: dict, schema: dict) -> list[str]:
    """Each way the config breaks the schema, the key path first, then what is wrong, then
    what the key is for: `models.7.lr: -0.1 is less than or equal to the minimum of 0 (Adam
    learning rate.)`."""
    from jsonschema import Draft202012Validator

    problems = []
    for error in sorted(Draft202012Validator(schema).iter_errors(config),
                        key=lambda e: list(map(str, e.absolute_path))):
        what = error.schema.get("description") if isinstance(error.schema, dict) else None
        problems.append(f"{_key_path(error.absolute_path)}: {error.message}"
                        + (f" ({what})" if what else ""))
    return problems


def check_config(config: dict, schema: dict, log=print) -> None:
    """The config as the user wrote it, against the schema: numbers written as text are read as
    numbers (and logged); anything else that breaks the schema stops the run here, before any
    job, with every problem named by its key path."""
    for change in take_numbers_written_as_text(config, schema):
        log(f"config: {change}")
    if problems := schema_problems(config, schema):
        raise StudyError("the config does not fit workflow/schemas/config.schema.yaml:\n  "
                         + "\n  ".join(problems))
