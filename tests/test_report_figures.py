"""End to end: the quick report holds every figure of the study, and its AUCs are scikit-learn's
on the stored probabilities."""

import json
import re
import subprocess

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO, pdf_text, seed_models
from sklearn.metrics import roc_auc_score

from mnist_study.evaluate import findings

pytestmark = pytest.mark.e2e

# A distinctive phrase of each figure's caption (pdftotext joins lines; we squash whitespace).
CAPTIONS = [
    "first seed) for the models beyond the",
    "Average training image of each digit",
    "Training (left) and test (right) accuracy of one-hidden-layer networks",
    "Best model (",
    "Worst model (",
    "Confusion matrices of every model",
    "Test error rate (%) per true digit",
    "most confidently wrong test images of the best model",
    "Test accuracy against batch size",
    "Reliability diagrams of",
    "Risk and coverage: accuracy on the test images",
    "test accuracy with its 95 % intervals",
    "Maximum-softmax-probability detectors",
    "Test error of every model that trained against its number of parameters (left)",
]


@pytest.fixture(scope="module")
def text(quick_run) -> str:
    return " ".join(pdf_text(quick_run / "report.pdf").split())


@pytest.fixture(scope="module")
def roc(quick_run) -> dict:
    return json.loads((quick_run / "results" / "analysis" / "roc.json").read_text())


@pytest.mark.parametrize("caption", CAPTIONS)
def test_quick_report_has_figure(text, caption):
    assert caption in text


def test_quick_report_has_a_roc_figure_per_model(text, roc):
    assert roc["order"] == list(seed_models()) and set(roc["models"]) == set(roc["order"])
    for info in roc["models"].values():
        assert f"Test-set ROC curves of model {info['label']}" in text


def test_report_aucs_equal_sklearn_on_stored_probabilities(quick_run, roc, text):
    for model, info in roc["models"].items():
        stored = np.load(quick_run / "results" / "models" / model / "test_probs.npz")
        first = list(stored["seeds"]).index(info["seed"])
        # the caption says "first seed": the first that does not give one label to nearly
        # every image (methods; findings.shown_member)
        assert first == findings.shown_member(stored["probs"])
        probs, labels = stored["probs"][first].astype(np.float64), stored["labels"]
        onehot = np.eye(10)[labels]
        if not np.isfinite(probs).all():
            assert all(v is None or np.isnan(v) for v in info["auc"].values())
            continue
        for d in range(10):
            assert info["auc"][str(d)] == pytest.approx(roc_auc_score(onehot[:, d], probs[:, d]), abs=1e-12)
        micro = roc_auc_score(onehot, probs, average="micro")
        assert info["auc"]["micro"] == pytest.approx(micro, abs=1e-12)
        # ... and what the reader sees (Table of AUCs, figure caption) is that number, rounded
        # (a line may break after the hyphen of "micro-average")
        assert f"micro-average AUC {micro:.4f}" in text.replace("- ", "-")
        # one macro AUC, scikit-learn's, in the table and on the figure alike
        macro = roc_auc_score(onehot, probs, average="macro")
        assert info["auc"]["macro"] == pytest.approx(macro, abs=1e-12)
        assert f"macro-average AUC {macro:.4f}" in text.replace("- ", "-")


def test_roc_figure_has_one_page_per_model_in_config_order(quick_run, roc):
    info = subprocess.run(["pdfinfo", str(quick_run / "results" / "figures" / "roc.pdf")],
                          capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Pages:\s+(\d+)$", info, re.M).group(1) == str(len(roc["order"]))
    assert [roc["models"][m]["page"] for m in roc["order"]] == list(range(1, len(roc["order"]) + 1))


def test_scan_grid_of_quick_config_is_complete(quick_run):
    quick = yaml.safe_load((REPO / "tests" / "config" / "quick.yaml").read_text())["scan"]
    table = pd.read_csv(quick_run / "results" / "scan" / "scan.csv")
    assert len(table) == quick["learning_rates"]["num"] * quick["hidden_sizes"]["num"]
    summary = json.loads((quick_run / "results" / "scan" / "summary.json").read_text())
    assert summary["best"]["test_accuracy"] == pytest.approx(table["test_accuracy"].max())


def test_every_figure_of_the_document_is_in_the_pdf_with_its_caption(quick_run):
    """As many numbered figure captions in the PDF as figures in the LaTeX source: a figure too
    tall for its page loses its caption off the page's bottom (it did, with 18 models)."""
    tex = (quick_run / "results" / "report" / "report.tex").read_text()
    captions = re.findall(r"^\s*Figure (\d+): ", pdf_text(quick_run / "report.pdf"), re.M)
    assert [int(n) for n in captions] == list(range(1, tex.count("\\begin{figure}") + 1))
