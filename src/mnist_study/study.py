"""What a study is: the file that lists its models, the ids as the user typed them, and the
choices that default from its models. Read while the workflow parses: no heavy imports."""

from __future__ import annotations

from pathlib import Path


class StudyError(ValueError):
    """A study that cannot run as written; the message names the key and what to write."""


def study_file(name: str, workflow_dir: str | Path) -> str:
    """The study file `name`: as given when it exists (relative to the working directory),
    else relative to the workflow's folder, where config.yaml is."""
    path = Path(name)
    if path.exists():
        return str(path)
    beside = Path(workflow_dir) / path
    if not path.is_absolute() and beside.exists():
        return str(beside)
    raise StudyError(f"study: no file {name!r} (looked in {Path.cwd()} and {workflow_dir}). "
                     f"Set `study` to an existing study file, or give your study with "
                     f"--configfile my-study.yaml.")


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


def resolve_inspection(inspect: dict, model_ids: list[str]) -> dict:
    """`inspect` with its models filled in: `model` (null: the study's first model) and
    `unfamiliar_models` (null: its first and last). Each must be a model of the study."""
    out = dict(inspect)
    if out.get("model") is None:
        out["model"] = model_ids[0]
    if out.get("unfamiliar_models") is None:
        out["unfamiliar_models"] = list(dict.fromkeys([model_ids[0], model_ids[-1]]))
    for key, chosen in (("model", [out["model"]]), ("unfamiliar_models", out["unfamiliar_models"])):
        for m in chosen:
            if m not in model_ids:
                raise StudyError(f"inspect.{key}: {m!r} is not a model of this study (its models: "
                                 f"{', '.join(model_ids)}). Name one of them, or leave it out.")
    return out
