"""The config schema: bad values stop the run before any job, with the key named."""

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from snakemake.utils import update_config, validate

from conftest import REPO, run_snakemake

SCHEMA = str(REPO / "workflow" / "schemas" / "config.schema.yaml")


@pytest.fixture
def config():
    """config.yaml with the seed study applied over it, as the workflow reads them."""
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    update_config(config, yaml.safe_load((REPO / "config" / "seed.yaml").read_text()))
    return config


def test_shipped_configs_are_valid(config):
    validate(copy.deepcopy(config), SCHEMA)
    quick = yaml.safe_load((REPO / "tests" / "config" / "quick.yaml").read_text())
    update_config(config, quick)  # as Snakemake merges --configfile files: key by key, deeply
    assert config["scan"]["published_best"]  # kept from the seed study under quick's scan keys
    validate(config, SCHEMA)


@pytest.mark.parametrize("path, value, named", [
    (("models", "0", "lrr"), 0.1, "lrr"),  # unknown key (a typo)
    (("models", "0", "lr"), -0.001, "lr"),  # impossible value
    (("models", "0", "lr"), "fast", "lr"),  # wrong type
    (("models", "5", "hidden"), [0], "hidden"),  # zero hidden units
    (("models", "1", "batch_size"), 0, "batch_size"),
    (("defaults", "epochs"), 0, "epochs"),
    (("mnist", "train_sample"), 100, "train_sample"),
    (("modles",), {}, "modles"),
])
def test_schema_error_names_the_key(config, path, value, named):
    node = config
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(Exception) as err:
        validate(config, SCHEMA)
    assert named in str(err.value)


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
    assert f"mnist.existing_copy: " in result.stderr + result.stdout
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
