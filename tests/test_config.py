"""The config schema: bad values stop the run before any job, with the key named."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO, run_snakemake

SCHEMA = str(REPO / "workflow" / "schemas" / "config.schema.yaml")


@pytest.fixture
def config():
    """The seed study, composed as the workflow composes it (config.yaml, then the study)."""
    from mnist_study.study import load_config

    return load_config(REPO, [REPO / "config" / "seed.yaml"])


def test_shipped_configs_are_valid(config):
    from mnist_study.study import load_config

    for study in ("config/seed.yaml", "config/lenet.yaml", "config/pytorch-example-cnn.yaml",
                  "tests/config/own-study.yaml", "tests/config/cnn-only.yaml"):
        assert load_config(REPO, [REPO / study])["models"]
    quick = load_config(REPO, [REPO / "tests" / "config" / "quick.yaml"])
    # kept from the seed study under quick's own scan keys: merged key by key, deeply
    assert quick["scan"]["published_best"] == config["scan"]["published_best"]
    assert quick["scan"]["epochs"] == 1 != config["scan"]["epochs"]


def test_a_study_of_its_own_replaces_the_seed_study_and_gets_the_schemas_defaults():
    from mnist_study.study import compose_config

    base = yaml.safe_load((REPO / "config.yaml").read_text())
    config = compose_config(base, [{"models": {"a": {"lr": 0.01}}}], REPO, lambda *_: None)
    assert list(config["models"]) == ["a"]  # none of the seed's models merged in
    assert config["claims"] == [] and config["inspect"]["steps"] == 200  # schema defaults
    assert config["max_epochs"] is None
    # an overlay without models keeps the study file's, and its keys go over the study's
    config = compose_config(base, [{"defaults": {"epochs": 2}}], REPO, lambda *_: None)
    assert "13" in config["models"] and config["defaults"] == {**config["defaults"], "epochs": 2}


@pytest.mark.parametrize("path, value, problem", [
    (("models", "0", "lrr"), 0.1,  # unknown key (a typo)
     "models.0: Unevaluated properties are not allowed ('lrr' was unexpected)"),
    (("models", "0", "lr"), -0.001,  # impossible value
     "models.0.lr: -0.001 is less than or equal to the minimum of 0 (Adam learning rate.)"),
    (("models", "0", "lr"), "fast",  # wrong type
     "models.0.lr: 'fast' is not of type 'number' (Adam learning rate.)"),
    (("models", "5", "hidden"), [0], "models.5.hidden.0: 0 is less than the minimum of 1"),
    (("models", "1", "batch_size"), 0, "models.1.batch_size: 0 is less than the minimum of 1"),
    (("defaults", "epochs"), 0, "defaults.epochs: 0 is less than the minimum of 1"),
    (("mnist", "train_sample"), 100,
     "mnist: Additional properties are not allowed ('train_sample' was unexpected)"),
    (("modles",), {}, "(top level): Additional properties are not allowed ('modles' was unexpected)"),
])
def test_schema_error_names_the_key_path_and_the_problem(config, path, value, problem):
    from mnist_study.study import StudyError, check_config, load_schema

    node = config
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(StudyError) as err:
        check_config(config, load_schema(SCHEMA), lambda *_: None)
    problems = str(err.value).split("\n  ")[1:]
    assert len(problems) == 1 and problems[0].startswith(problem), problems


def test_bad_config_stops_before_any_job(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("models:\n  '0': {batch_size: 0}\n")
    result = run_snakemake(tmp_path, "-n", configfiles=[bad], check=False)
    assert result.returncode != 0
    out = result.stdout + result.stderr
    assert "batch_size" in out and "minimum of 1" in out
    assert not (tmp_path / "results").exists()


def test_lint_is_clean(tmp_path):
    result = run_snakemake(REPO, "--lint", check=False)
    assert "Lints for" not in result.stdout + result.stderr, result.stdout + result.stderr


def test_rule_files_are_formatted():
    # snakefmt (the black of Snakefiles; line length in pyproject.toml): one layout everywhere
    result = subprocess.run([str(Path(sys.executable).with_name("snakefmt")), "--check",
                             "Snakefile", "workflow/rules"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_python_is_lint_clean_with_imports_in_order():
    # ruff (pyflakes, pycodestyle and isort's order; settings in pyproject.toml) on every file
    result = subprocess.run([str(Path(sys.executable).with_name("ruff")), "check", "."], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_schema_error_names_the_key_path_first(config):
    from mnist_study.study import StudyError, check_config, load_schema

    config["models"]["7"]["lr"] = -0.1
    with pytest.raises(StudyError) as err:
        check_config(config, load_schema(SCHEMA))
    assert "\n  models.7.lr: -0.1 is less than or equal to the minimum of 0" in str(err.value)


def test_a_number_yaml_reads_as_text_is_read_as_the_number_meant(config):
    from mnist_study.study import check_config, load_schema

    # YAML 1.1 reads 1e-3 (an exponent, no dot) as the text "1e-3"
    config.update(yaml.safe_load("models:\n  a: {lr: 1e-3}\ndefaults: {weight_decay: 5E-4}\n"))
    said = []
    check_config(config, load_schema(SCHEMA), said.append)
    assert config["models"]["a"]["lr"] == 0.001 and config["defaults"]["weight_decay"] == 0.0005
    assert said == ["config: defaults.weight_decay: '5E-4' read as the number 0.0005",
                    "config: models.a.lr: '1e-3' read as the number 0.001"]


@pytest.mark.parametrize("copy, named", [("/no/such/folder", "is not a folder"),
                                         ("{tmp}", "has no train-images-idx3-ubyte")])
def test_a_wrong_existing_copy_stops_the_dry_run(tmp_path, copy, named):
    study = tmp_path / "study.yaml"
    study.write_text(f"models:\n  a: {{}}\nmnist:\n  existing_copy: {copy.format(tmp=tmp_path)}\n")
    result = run_snakemake(tmp_path, "-n", configfiles=[study], check=False)
    assert result.returncode != 0
    assert "mnist.existing_copy: " in result.stderr + result.stdout
    assert named in result.stderr + result.stdout


def test_a_claim_names_two_models_of_the_study_and_what_it_expects(config, tmp_path):
    from mnist_study.study import StudyError, check_config, load_schema, resolve_claims

    ids = ["0", "9", "12"]
    assert resolve_claims([{"a": 0, "b": 9, "expect": "worse"}], ids)[0]["a"] == "0"  # as text
    with pytest.raises(StudyError, match=r"^claims\.1\.b: 'nine' is not a model of this study"):
        resolve_claims([{"a": "0", "b": "9", "expect": "same"}, {"a": "0", "b": "nine",
                                                                   "expect": "worse"}], ids)
    with pytest.raises(StudyError, match=r"^claims\.0: a and b are both '0'"):
        resolve_claims([{"a": "0", "b": "0", "expect": "same"}], ids)
    config["claims"] = [{"a": "0", "b": "9", "expect": "smaller"}]
    with pytest.raises(StudyError, match=r"claims\.0\.expect"):
        check_config(config, load_schema(Path(SCHEMA)), lambda *_: None)
