"""End to end: a study of a user's own (tests/config/own-study.yaml) and the example study
config/lenet.yaml, each in quick mode, build a report that is true for them: exactly their
models, their diverging model named, no empty table and no sentence about the seed's models."""

import re

import numpy as np
import pytest
import yaml
from conftest import QUICK, REPO, pdf_text, run_snakemake

pytestmark = pytest.mark.e2e

OWN = REPO / "tests" / "config" / "own-study.yaml"
# phrases that belong to the seed study's models, scan and tables only
SEED_ONLY = ["seed's Table", "Agreement with the published", "Hyperparameter scan",
             "Batch size against learning rate", "Published", "tab:table"]


def run_study(workdir, study, mnist_raw_dir):
    local = workdir / "local.yaml"
    local.write_text(f"mnist:\n  existing_copy: {mnist_raw_dir}\n")
    run_snakemake(workdir, "--cores", "2", configfiles=[study, QUICK, local])
    return " ".join(pdf_text(workdir / "report.pdf").split())


# images a user may have on disk: braces (a Snakemake pattern), TeX specials, quotes, a
# leading dash, unicode; and what is not read: a hidden file and a sub-folder
ODD_NAMES = ["a{b}", "{model}", "50% & $5 #1 _x ^y ~z", "-dash [1] 'q' \"qq\"", "čšž 中"]


@pytest.fixture(scope="module")
def own(tmp_path_factory, mnist_raw_dir):
    from PIL import Image, ImageDraw

    workdir = tmp_path_factory.mktemp("own")
    folder = workdir / "data" / "unfamiliar"
    (folder / "sub").mkdir(parents=True)
    for name in ODD_NAMES:
        image = Image.new("L", (40, 40), 255)
        ImageDraw.Draw(image).ellipse([8, 8, 32, 32], outline=0, width=4)
        image.save(folder / f"{name}.png")
    (folder / ".hidden").write_text("x")
    return workdir, run_study(workdir, OWN, mnist_raw_dir)


def test_a_study_trains_exactly_its_models_with_ids_as_written(own):
    workdir, _ = own
    models = yaml.safe_load(OWN.read_text())["models"]
    assert sorted(p.name for p in (workdir / "results" / "models").iterdir()) == sorted(models)
    table = (workdir / "results" / "tables" / "models.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in table[1:]] == list(models)  # "nan", "007" as written


def test_the_report_names_the_diverged_model_when_and_its_spec(own):
    _, text = own
    assert "Models that diverged" in text
    assert re.search(r"Model blows up \(nan; fully connected network, layers 64-32, ReLU, "
                     r"cross-entropy loss, "
                     r"Adam at learning rate 1 × 10 ?12 ?, batch size 64\): 2 of 2 seeds diverged "
                     r"\(seed 0 at epoch 1, step \d+; seed 1 at epoch 1, step \d+\)", text), text[:3000]
    assert "Every seed of model blows up diverged" in text


def test_the_report_describes_this_study_and_not_the_seed_s(own):
    workdir, text = own
    # a cell may wrap after a hyphen of its layer list (784-, then 392)
    cells = " ".join(pdf_text(workdir / "report.pdf", layout=False).split()).replace("- ", "-")
    assert "A study of my own" in text
    assert re.search(r"4 networks \(Table \d+: 3 fully connected networks and 1 convolutional "
                     r"network\)", text)
    assert "3@3x3 pad1 bn, 5@4x4 pool3 | 320-10" in cells  # the user's cnn, as its spec built it
    assert "Hidden layers use ReLU, sigmoid" in text
    assert "16-16-16" in cells  # every hidden layer of the three-layer model
    for phrase in SEED_ONLY:
        assert phrase not in text, phrase


def test_the_example_study_runs_in_quick_mode(tmp_path, mnist_raw_dir):
    text = run_study(tmp_path, REPO / "config" / "lenet.yaml", mnist_raw_dir)
    assert "LeNet-300-100" in text and "300-100" in text and "100 tanh units" in text
    for phrase in SEED_ONLY:
        assert phrase not in text, phrase


def test_image_files_with_any_name_reach_the_report(own):
    workdir, text = own
    images = np.load(workdir / "results" / "inspect" / "unfamiliar" / "images.npz")
    assert set(ODD_NAMES) <= set(images["names"])  # every name as it is on disk
    assert "plus 5 images from data/unfamiliar/" in text
    assert "Not read from that folder: .hidden (hidden); sub/ (a folder" in text


def test_an_own_study_report_passes_the_page_checks(own):
    from mnist_study.report.pages import check_report

    workdir, _ = own
    report = workdir / "results" / "report"
    problems = check_report(workdir / "report.pdf", report / "report.log", report / "report.tex")
    assert problems == [], "\n".join(problems)
