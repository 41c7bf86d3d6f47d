"""Names a user writes come back exactly as written: model ids and labels through every table
and array file, image file names through the folder reader, and any of them into a figure."""

import string

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mnist_study import files
from mnist_study.evaluate.analysis import confusion_long, confusion_wide
from mnist_study.evaluate.tables import model_table
from mnist_study.inspection import unfamiliar
from mnist_study.report.plots import figure_text
from mnist_study.spec import resolve_models
from mnist_study.study import StudyError, check_model_ids, resolve_inspection, study_file

# Words that YAML, pandas or numpy read as something else when given the chance.
TRICKY = ["nan", "NaN", "NA", "N/A", "n/a", "null", "NULL", "None", "none", "true", "False",
          "yes", "off", "inf", "-inf", "1e3", "1E3", "007", "01", "1", "0", "-1", "0x1F", "#N/A",
          "-nan", "1_000", "NaT", "<NA>"]
# what the config schema allows in an id: letters, digits, - and _
ids = st.one_of(st.sampled_from([t for t in TRICKY if all(c.isalnum() or c in "-_" for c in t)]),
                st.text(string.ascii_letters + string.digits + "-_", min_size=1, max_size=12))
# a label is free text: any printable unicode, the tricky words, TeX and matplotlib specials
labels = st.one_of(st.sampled_from(TRICKY + ["a_b & 50% #1 {x}", "$x$", "", " lead", "é ü 中"]),
                   st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30))


def metrics_of(n_seeds: int) -> pd.DataFrame:
    return pd.DataFrame({"seed": range(n_seeds), "lr": 1e-3, "train_accuracy": 0.9,
                         "test_accuracy": 0.8, "train_loss": 0.3, "test_loss": 0.4,
                         "diverged": False})


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(ids, labels, min_size=1, max_size=6))
def test_model_ids_and_labels_round_trip_through_the_models_table(tmp_path_factory, id_labels):
    config = {"models": {m: {"label": label} for m, label in id_labels.items()}}
    models = resolve_models(config)
    table = model_table(models, {m: metrics_of(2) for m in models})
    path = tmp_path_factory.mktemp("t") / "models.csv"
    files.write_csv(table, path)
    back = files.read_table(path)
    assert list(back["model"]) == list(id_labels)
    assert list(back["label"]) == list(id_labels.values())
    assert back["test_accuracy_mean"].dtype == float  # numbers stay numbers


@settings(max_examples=40, deadline=None)
@given(st.lists(ids, min_size=1, max_size=5, unique=True))
def test_model_ids_round_trip_through_the_confusion_table_and_npz(tmp_path_factory, model_ids):
    folder = tmp_path_factory.mktemp("c")
    counts = {m: np.arange(100).reshape(10, 10) + k for k, m in enumerate(model_ids)}
    files.write_csv(confusion_long(counts), folder / "confusion.csv")
    back = confusion_wide(files.read_table(folder / "confusion.csv"))
    assert list(back) == model_ids
    assert all(np.array_equal(back[m], counts[m]) for m in model_ids)
    files.save_npz(folder / "ids.npz", models=np.array(model_ids, dtype=str))
    assert list(np.load(folder / "ids.npz")["models"]) == model_ids


@pytest.mark.parametrize("key", [7, True, None, 1.5])
def test_an_id_yaml_read_as_something_else_is_refused_with_how_to_write_it(key):
    with pytest.raises(StudyError, match="Write ids in quotes"):
        check_model_ids({"models": {key: {}}})
    check_model_ids({"models": {"007": {}, "true": {}, "null": {}}})  # quoted: fine


def test_inspection_defaults_to_the_study_s_models_and_names_a_wrong_one():
    assert resolve_inspection({"model": None, "unfamiliar_models": None}, ["a", "b", "c"]) == {
        "model": "a", "unfamiliar_models": ["a", "c"], "border_model": "a"}
    assert resolve_inspection({}, ["only"])["unfamiliar_models"] == ["only"]
    with pytest.raises(StudyError, match=r"inspect.model: '0' is not a model of this study"):
        resolve_inspection({"model": "0"}, ["a", "b"])


def test_the_border_analysis_goes_to_an_mlp_or_to_none():
    """Class maximization and the dreams look inside any network; the border analysis needs a
    first dense layer over the pixels, which only an mlp has."""
    families = {"c1": "cnn", "m1": "mlp", "c2": "cnn", "m2": "mlp"}
    ids = list(families)
    # the default inspected model is the first mlp, and it is also the border's
    default = resolve_inspection({}, ids, families)
    assert (default["model"], default["border_model"]) == ("m1", "m1")
    # a cnn asked for is inspected; the border analysis reads the first mlp
    chosen = resolve_inspection({"model": "c2"}, ids, families)
    assert (chosen["model"], chosen["border_model"]) == ("c2", "m1")
    assert resolve_inspection({"model": "m2"}, ids, families)["border_model"] == "m2"
    # a study of only cnns: inspected all the same, with no border analysis
    only = resolve_inspection({}, ["c1", "c2"], {"c1": "cnn", "c2": "cnn"})
    assert (only["model"], only["border_model"]) == ("c1", None)


# file names: any a filesystem allows, but not hidden (a leading dot) and not a path
file_names = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/\\"),
                     min_size=1, max_size=24).filter(lambda s: not s.startswith(".") and s.strip())


@settings(max_examples=30, deadline=None)
@given(st.lists(file_names, min_size=1, max_size=4, unique_by=str.casefold))
def test_image_file_names_round_trip_through_the_folder_reader(tmp_path_factory, names):
    from PIL import Image

    folder = tmp_path_factory.mktemp("images")
    for name in names:
        Image.new("L", (20, 20), 255).save(folder / f"{name}.png")
    images, skipped = unfamiliar.read_folder(folder, log=lambda _: None)
    assert not skipped
    assert sorted(im.name for im in images) == sorted(names)
    assert sorted(row[0] for row in unfamiliar.folder_fingerprint(folder)) == sorted(
        f"{n}.png" for n in names)


@given(labels)
def test_a_figure_shows_a_name_as_text_never_as_mathematics(label):
    text = figure_text(label)
    # every $ is escaped, so matplotlib's mathtext never starts
    assert text.count("$") == text.count(r"\$") == label.count("$")
    # wrapping moves line breaks, never a character
    assert "".join(figure_text(label, 10).replace(r"\$", "$").split()) == "".join(label.split())


def test_a_study_file_with_a_yaml_error_is_named_with_its_line(tmp_path):
    bad = tmp_path / "study.yaml"
    bad.write_text("models:\n  a: {lr: 0.1\n  b: {}\n")
    with pytest.raises(StudyError, match=r"study.yaml, line 3, column \d+: not valid YAML"):
        study_file(str(bad), tmp_path)
    with pytest.raises(StudyError, match="no file 'missing.yaml'"):
        study_file("missing.yaml", tmp_path)
