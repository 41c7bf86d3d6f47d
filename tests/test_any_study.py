"""End to end: any study, in any order. A study of only CNNs builds its whole report (the
border analysis, which needs a first dense layer over the pixels, left out with a sentence
that says why); a user's own study run after it in the same folder, naming its inspected
model, plans from its own models and not from the first study's files."""

import hashlib

import pytest
import yaml
from conftest import QUICK, REPO, pdf_text, run_snakemake

from mnist_study.report.pages import check_report

pytestmark = pytest.mark.e2e

CNN_ONLY = REPO / "tests" / "config" / "cnn-only.yaml"
OWN = REPO / "tests" / "config" / "own-study.yaml"


def build(workdir, study, local):
    run_snakemake(workdir, "--cores", "2", configfiles=[study, QUICK, local])
    report = workdir / "results" / "report"
    problems = check_report(workdir / "report.pdf", report / "report.log", report / "report.tex")
    return " ".join(pdf_text(workdir / "report.pdf").split()), problems


@pytest.fixture(scope="module")
def folder(tmp_path_factory, mnist_raw_dir):
    workdir = tmp_path_factory.mktemp("any")
    local = workdir / "local.yaml"
    local.write_text(f"mnist:\n  existing_copy: {mnist_raw_dir}\n")
    return workdir, local, *build(workdir, CNN_ONLY, local)


def test_a_study_of_only_cnns_builds_its_whole_report(folder):
    workdir, _, text, problems = folder
    assert problems == [], "\n".join(problems)
    assert "small CNN" in text and "tiny CNN" in text
    for section in ("Class maximization", "Deep dream", "Unfamiliar images", "Calibration"):
        assert section in text
    # the one analysis a cnn cannot have, named with the reason
    assert ("first dense layer over the pixels, which none of this study\N{RIGHT SINGLE QUOTATION MARK}s "
            "networks (CNN) has, so it has no border analysis") in text
    assert not (workdir / "results" / "inspect" / "border.json").exists()


# Files that record a measured time, and so differ between any two runs: the benchmark
# records, the provenance and the report (which print every job's wall time, as do the
# families table, context and figure: time per model), and LaTeX's own logs of the compile.
TIMED = ("benchmarks/", "report/", "tables/families.csv", "analysis/families.json",
         "figures/families.pdf")


def digests(workdir):
    results = workdir / "results"
    return {str(p.relative_to(results)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(results.rglob("*")) if p.is_file()
            and not str(p.relative_to(results)).startswith(TIMED)}


def test_two_clean_runs_write_the_same_bytes(folder, tmp_path_factory, mnist_raw_dir):
    """Weights, test probabilities, tables, figures: every file of results/ that records no
    measured time is byte-identical between two runs of one study on one machine."""
    workdir, local, _, _ = folder
    again = tmp_path_factory.mktemp("again")
    (again / "local.yaml").write_text(local.read_text())
    run_snakemake(again, "--cores", "2", configfiles=[CNN_ONLY, QUICK, again / "local.yaml"])
    first, second = digests(workdir), digests(again)
    assert any(name.endswith("weights.pt") for name in first) and len(first) > 40
    assert sorted(first) == sorted(second)
    assert [name for name in first if first[name] != second[name]] == []


def test_a_second_study_in_the_same_folder_plans_from_its_own_models(folder):
    workdir, local, _, _ = folder
    study = yaml.safe_load(OWN.read_text())
    study["inspect"] = {"model": "ok"}  # named: it is not a model of the first study
    (workdir / "second.yaml").write_text(yaml.safe_dump(study, sort_keys=False))
    text, problems = build(workdir, workdir / "second.yaml", local)
    assert problems == [], "\n".join(problems)
    assert "A study of my own" in text and "small CNN" not in text
    assert "Class maximization for model fine" in text
    assert (workdir / "results" / "inspect" / "border.json").exists()
