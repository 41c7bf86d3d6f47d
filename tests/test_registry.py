"""The model families' registry (mnist_study.families): every family, found without being
listed, builds the network its spec describes, counts what it builds, and reaches the schema,
the report's words and the figures' styles."""

import textwrap

import pytest
import torch
from conftest import REPO

from mnist_study import families
from mnist_study.families import FAMILIES
from mnist_study.spec import ModelSpec, SpecError, resolve_models
from mnist_study.study import StudyError, check_config, load_config, load_schema

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


def example(name: str) -> ModelSpec:
    return ModelSpec.from_dict({"family": name, **FAMILIES[name].example})


@pytest.mark.parametrize("name", list(FAMILIES))
def test_each_family_builds_what_it_counts(name):
    from mnist_study.networks import init_network

    spec = example(name)
    assert spec.problems() == []
    net = init_network(spec, seed=0)
    assert sum(p.numel() for p in net.parameters()) == spec.n_parameters()
    assert net.layers[0].in_features == spec.dense_inputs()
    out = net(torch.rand(3, 28 * 28))
    assert out.shape == (3, 10) and torch.isfinite(out).all()
    # multiply-adds: every dense weight once, plus what the features declare; measured on the
    # network by counting the products of its layers
    macs = 0

    def count(module, inputs, output):
        nonlocal macs
        if isinstance(module, torch.nn.Linear):
            macs += module.weight.numel() + module.bias.numel()
        elif isinstance(module, torch.nn.Conv2d):
            bias = module.bias.numel() if module.bias is not None else 0
            macs += (module.weight.numel() + bias) * output.shape[-1] * output.shape[-2]

    for module in net.modules():
        module.register_forward_hook(count)
    net(torch.rand(1, 28 * 28))
    assert macs == spec.forward_macs()


@pytest.mark.parametrize("name", list(FAMILIES))
def test_each_familys_declared_shape_is_the_network_it_builds(name):
    # the border analysis trusts dense_over_pixels, the hand-written engine dense_only
    from mnist_study.networks import init_network

    spec, family = example(name), FAMILIES[name]
    net = init_network(spec, seed=0)
    assert family.dense_over_pixels == (len(net.features) == 0 and net.layers[0].in_features == 28 * 28)
    assert family.dense_only == (len(net.features) == 0 and not any(net.skips))


@pytest.mark.parametrize("name", list(FAMILIES))
def test_each_family_reaches_the_schema_the_report_and_the_figures(name):
    family = FAMILIES[name]
    schema = load_schema(SCHEMA)
    model = schema["$defs"]["model_spec"]["properties"]
    assert name in model["family"]["enum"]
    assert f"{name}: {family.description}" in model["family"]["description"]
    for key in family.fields:
        assert model[key]["description"].startswith(f"({name} only)")
    config = load_config(REPO, [])  # the seed study, with a model of this family added
    config["models"]["new"] = {"family": name, **family.example}
    check_config(config, schema, lambda *_: None)
    assert resolve_models(config)["new"].spec == example(name)
    assert {"color", "marker"} <= set(family.style)
    # the methods name each family of a study with its description; the figures its style
    from mnist_study.report.document import family_counts

    (said,) = family_counts([{"family": name}, {"family": name}])
    assert said == {"n": 2, "plural": family.noun + "s", "short": family.short,
                    "description": family.description, "text": f"\\num{{2}} {family.noun}s"}


def test_a_family_that_does_not_exist_is_named_with_the_known_ones():
    schema = load_schema(SCHEMA)
    config = load_config(REPO, [])
    config["models"]["x"] = {"family": "transformer"}
    with pytest.raises(StudyError, match=r"models\.x\.family: 'transformer' is not one of \['mlp', 'cnn'"):
        check_config(config, schema, lambda *_: None)
    with pytest.raises(SpecError, match="models.x.family: 'transformer' is not a model family; "
                                        "known: mlp, cnn"):
        resolve_models({"models": {"x": {"family": "transformer"}}})


def test_a_key_of_another_family_is_refused_naming_its_family():
    with pytest.raises(SpecError, match=r"models\.m\.conv: only a cnn reads conv \(set family: cnn"):
        resolve_models({"models": {"m": {"family": "mlp", "conv": [{"channels": 2}]}}})


def test_a_family_module_is_found_without_being_listed(tmp_path, monkeypatch):
    (tmp_path / "toy.py").write_text(textwrap.dedent('''
        from mnist_study.families import Family
        FAMILY = Family(name="toy", rank=99, short="Toy", noun="toy network",
                        description="a test's family", style={"color": "k", "marker": "x"},
                        example={"hidden": [4]})
    '''))
    monkeypatch.setattr(families, "__path__", [*families.__path__, str(tmp_path)])
    found = families._discover()
    assert list(found)[-1] == "toy" and found["toy"].noun == "toy network"
    assert list(found)[:len(FAMILIES)] == list(FAMILIES)  # by rank: the seed's family first


def test_a_module_without_a_family_is_an_error_that_says_what_to_define(tmp_path, monkeypatch):
    (tmp_path / "broken.py").write_text("NOT_A_FAMILY = 1\n")
    monkeypatch.setattr(families, "__path__", [*families.__path__, str(tmp_path)])
    with pytest.raises(TypeError, match=r"broken.py: a family module defines FAMILY = Family"):
        families._discover()


def test_a_spec_is_written_with_its_own_familys_keys_only_in_one_order():
    # to_dict is each training job's params: another order, or a key of a family added later,
    # would retrain every model
    import dataclasses

    from mnist_study import spec

    training = [f.name for f in dataclasses.fields(spec._Training)]
    for name, family in FAMILIES.items():
        written = example(name).to_dict()
        assert list(written) == ["family", *family.fields, *training]
        assert ModelSpec.from_dict(written) == example(name)
    assert list(example("cnn").to_dict())[:3] == ["family", "conv", "hidden"]
