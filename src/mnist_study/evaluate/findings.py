"""What a study found, as plain numbers for the report's conclusions: which models are
degenerate (one answer for nearly every image, or no answer), which gave identical results,
whether each published accuracy is consistent with a run of ours, and the tested answer to
every claim the study states (`claims:` in its config). No prose here: the sentences are
chosen from these numbers by mnist_study.report.claims.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from mnist_study.evaluate import compare
from mnist_study.evaluate.trust import run_interval

# A model answers "one class" when, on the test images, a single label takes at least this
# share of its answers in every seed (a constant answer gets about a tenth right on MNIST).
ONE_CLASS_SHARE = 0.9


def model_answers(probs: np.ndarray, labels: np.ndarray, accuracies) -> dict:
    """What the comparisons need of one model: every seed's test accuracy (NaN where it
    diverged), the first answering seed's right/wrong per test image, the share of its answers
    the most frequent label takes per answering seed, and a digest of every seed's answers
    (two models with the same digest gave the same label to every test image in every seed;
    their probabilities may differ in the last bits, as two formulas of one loss do)."""
    finite = np.isfinite(probs).all(axis=(1, 2))
    answering = probs[finite]
    preds = answering.argmax(-1)
    shares = [majority_share(p) for p in answering]
    # images whose top probability two or more labels share (saturated outputs): argmax
    # gives them the lowest of those labels
    top = answering.max(-1, keepdims=True)
    tied = [int(n) for n in ((answering == top).sum(-1) > 1).sum(-1)]
    return {"accuracies": [float(a) for a in accuracies],
            "correct": preds[0] == labels if len(preds) else None,
            "majority_shares": shares, "tied_top": tied,
            "digest": hashlib.sha256(np.ascontiguousarray(
                np.where(finite[:, None], probs.argmax(-1), -1)).tobytes()).hexdigest()}


def majority_share(member_probs: np.ndarray) -> float:
    """The share of one member's test answers (N, 10) that its most frequent label takes."""
    answers = member_probs.argmax(-1)
    return float(np.bincount(answers, minlength=member_probs.shape[-1]).max() / len(answers))


def one_class_seeds(answers: dict) -> int:
    """How many of a model's answering seeds give one label to at least ONE_CLASS_SHARE of the
    test images: a model with a few such seeds is no degenerate model, but its mean over seeds
    and every analysis of such a seed carry a network that does not work."""
    return sum(s >= ONE_CLASS_SHARE for s in answers["majority_shares"])


def shown_member(probs: np.ndarray) -> int:
    """Which member (seed) stands for a model where one network is shown (ROC curves,
    reliability, calibration temperatures, risk and coverage): the first that answers (finite
    probabilities) and does not give one label to ONE_CLASS_SHARE of the images or more; the
    first that answers where none works; 0 where none answers. A model whose first seed is
    dead would otherwise be shown by a network that is not what its other seeds are."""
    finite = [k for k in range(len(probs)) if np.isfinite(probs[k]).all()]
    working = [k for k in finite if majority_share(probs[k]) < ONE_CLASS_SHARE]
    return (working or finite or [0])[0]


def degenerate(answers: dict) -> str | None:
    """Why a model cannot stand for a working network, or None: 'diverged' (no seed answers),
    'one class' (at least half of its answering seeds give one label to at least
    ONE_CLASS_SHARE of the test images: its accuracy is then mostly the share of that class)."""
    shares = answers["majority_shares"]
    if not shares:
        return "diverged"
    if 2 * one_class_seeds(answers) >= len(shares):
        return "one class"
    return None


def identical_groups(answers: dict[str, dict]) -> list[list[str]]:
    """Models whose seeds gave the same answer to every test image (groups of 2 or more, in
    the order given)."""
    by_digest: dict[str, list[str]] = {}
    for m, a in answers.items():
        by_digest.setdefault(a["digest"], []).append(m)
    return [g for g in by_digest.values() if len(g) > 1]


# Losses that are the same function of the network's scores (a fact of the mathematics):
# the negative log-likelihood of log-softmax outputs is the softmax cross-entropy.
SAME_LOSS = {("nll", "log_softmax"): ("cross_entropy", "none")}


def same_training(a: dict, b: dict) -> bool:
    """Two specs (models-table rows) that train the same function with the same seeds: equal in
    everything but an output activation and loss that SAME_LOSS makes the same."""
    def canonical(r):
        loss = SAME_LOSS.get((r["loss"], r["output_activation"]), (r["loss"], r["output_activation"]))
        keys = ("architecture", "activation", "lr", "batch_size", "epochs", "dropout", "schedule")
        return (loss, *(r[k] for k in keys))
    return canonical(a) == canonical(b)


def reproduction(accuracies, published: float, n_test: int, comparable: bool) -> dict:
    """A published test accuracy against our runs: the interval in which one run of ours would
    fall (trust.run_interval, clipped to [0, 1]), the interval the rounded published number
    stands for, and the verdict: 'consistent', 'below' or 'above' (the published value is
    below or above every run we would expect), 'one seed' when we have one run only (its
    interval over the test images does not cover another training run, so one run cannot
    decide), or 'not comparable' when this run trained on fewer images or epochs than the
    published one."""
    acc = np.asarray(accuracies, float)
    low, high, over = run_interval(acc[np.isfinite(acc)], n_test)
    low, high = compare.clip_interval(low, high)
    pub_low, pub_high = compare.rounding_interval(published)
    if not comparable:
        verdict = "not comparable"
    elif not over:
        verdict = "no run"
    elif over != "seeds":
        verdict = "one seed"
    elif compare.agrees_with_published(low, high, published):
        verdict = "consistent"
    else:
        verdict = "below" if pub_high < low else "above"
    return {"low": low, "high": high, "over": over, "published": published,
            "published_low": pub_low, "published_high": pub_high, "verdict": verdict}


def differing_keys(a: dict, b: dict) -> list[str]:
    """The spec keys in which two models-table rows differ: what a comparison of the two
    measures, and what it cannot separate."""
    keys = ("family", "architecture", "activation", "output_activation", "loss", "lr",
            "batch_size", "epochs", "dropout", "schedule", "validation")
    return [k for k in keys if a.get(k) != b.get(k)]


def steps_ratio(a: dict, b: dict, n_train: int) -> float:
    """How many times the optimizer steps of b model a takes in its training (ceil of the
    images over the batch, times the epochs)."""
    def steps(r):  # over the images the model trained on (fewer where it held some out)
        return int(np.ceil(r.get("train_images", n_train) / r["batch_size"])) * int(r["epochs"])
    return steps(a) / steps(b)


# Why a claim cannot be tested: about one of its models, or about the two together.
UNTESTABLE_REASONS = ("not trained", "diverged", "same answers", "one seed")


def tested_claim(claim: dict, rows: dict[str, dict], answers: dict[str, dict],
               n_train: int) -> dict:
    """One claim of the config (`a`, `b`: model ids, `expect`: 'better', 'worse' or 'same',
    what the claim says of b against a), tested: the difference b - a with its test, what
    else differs between the two, and the verdict ('supported', 'contradicted', 'not shown',
'not contradicted', or 'untestable' with the reason as data: `why`, {"reason": one of
    UNTESTABLE_REASONS, "model": the model it is about}; the report words it)."""
    a, b = str(claim["a"]), str(claim["b"])
    out = {**claim, "a": a, "b": b}
    for m in (a, b):
        if m not in answers:
            return {**out, "verdict": "untestable", "why": {"reason": "not trained", "model": m}}
        # a model that answers one class is tested like any other (its accuracy is what a
        # claim of poor performance is about); one whose every seed diverged has no accuracy
        if (why := degenerate(answers[m])) == "diverged":
            return {**out, "verdict": "untestable", "why": {"reason": why, "model": m}}
    if answers[a]["digest"] == answers[b]["digest"]:
        return {**out, "verdict": "untestable", "why": {"reason": "same answers", "model": None}}
    result = compare.compare(answers[a], answers[b])
    varies = set(claim.get("varies", ()))  # what the comparison means to vary is no confound
    out.update(result=result, differs=[k for k in differing_keys(rows[a], rows[b]) if k not in varies],
               steps_ratio=steps_ratio(rows[a], rows[b], n_train),
               # seeds that give one label to nearly every image, which the test counts in
               one_class_seeds={m: [one_class_seeds(answers[m]), len(answers[m]["majority_shares"])]
                                for m in (a, b) if one_class_seeds(answers[m])})
    if result["test"] == compare.MCNEMAR:
        # two trained networks, one per side: the test speaks of them, not of their specs, so
        # it describes the pair and decides nothing (a verdict needs seeds)
        single = next(m for m in (a, b) if np.isfinite(answers[m]["accuracies"]).sum() < 2)
        return {**out, "verdict": "untestable", "why": {"reason": "one seed", "model": single}}
    return {**out, "verdict": verdict(claim["expect"], result)}


def verdict(expect: str, result: dict) -> str:
    """What a test says of a claim that b is 'better', 'worse' or the 'same' as a, from its
    p-value (the Holm-adjusted one where the claim is one of several) and its sign."""
    p = result.get("p_adjusted", result["p"])
    found = compare.significant({**result, "p": p})
    sign = int(np.sign(result["difference"])) if found else 0
    if expect == "same":
        return "contradicted" if found else "not contradicted"
    wanted = 1 if expect == "better" else -1
    return "supported" if sign == wanted else "contradicted" if sign == -wanted else "not shown"


def tested_claims(claims: list[dict], rows: dict[str, dict], answers: dict[str, dict],
                  n_train: int) -> list[dict]:
    """Every claim tested, its verdict decided on Holm's adjusted p-value over all the claims
    tested together: a study that tests a dozen claims at 5 % each would otherwise find some
    that are not there."""
    out = [tested_claim(c, rows, answers, n_train) for c in claims]
    tested = [c for c in out if c["verdict"] != "untestable"]
    for c, p in zip(tested, compare.holm([c["result"]["p"] for c in tested])):
        c["result"]["p_adjusted"] = p
        c["verdict"] = verdict(c["expect"], c["result"])
    return out


def divergences(metrics: pd.DataFrame) -> list[dict]:
    """Where each diverged member of a model stopped (its metrics rows): seed, epoch and step."""
    return [{"seed": int(d.seed), "epoch": int(d.diverged_at_epoch), "step": int(d.diverged_at_step)}
            for d in metrics[metrics["diverged"].astype(bool)].itertuples()]


def study_findings(models: pd.DataFrame, answers: dict[str, dict], claims: list[dict],
                   n_test: int, n_train: int, comparable: bool, controls: list[dict] = ()) -> dict:
    """Everything the report concludes, as numbers: per model its degeneracy and reproduction,
    the groups of identical models (and whether their specs train the same function), every
    claim tested, and every control tested as a family of its own (its own Holm adjustment:
    the controls ask other questions than the claims, and are not counted among them)."""
    rows = {str(r["model"]): r for r in models.to_dict("records")}
    per_model = {}
    for m, a in answers.items():
        r = rows[m]
        shares = a["majority_shares"]
        entry = {"degenerate": degenerate(a), "majority_share": min(shares, default=None),
                 "one_class_seeds": one_class_seeds(a), "n_answering": len(shares),
                 # the first answering seed is the one every single-seed analysis shows
                 "first_seed_one_class": bool(shares) and shares[0] >= ONE_CLASS_SHARE,
                 "tied_top": a.get("tied_top", [])}
        if pd.notna(r.get("published_test")):
            # a run of fewer images than the published one is no reproduction of it: a reduced
            # run, or a model that held validation images out of its training
            why = "reduced run" if not comparable else "validation" if r.get("validation") else None
            entry["reproduction"] = reproduction(a["accuracies"], float(r["published_test"]),
                                                 n_test, why is None)
            if why:
                entry["reproduction"]["why"] = why
        per_model[m] = entry
    working = [m for m in answers if per_model[m]["degenerate"] is None]
    groups = [{"models": g, "same_training": all(same_training(rows[g[0]], rows[x]) for x in g[1:])}
              for g in identical_groups(answers)]
    return {"models": per_model, "identical": groups, "comparable": comparable,
            "n_test": int(n_test),
            "one_class_share": ONE_CLASS_SHARE,
            "claims": tested_claims(claims, rows, answers, n_train),
            "controls": tested_claims(list(controls), rows, answers, n_train),
            "families": family_bests(rows, answers, working, n_train)}


def family_bests(rows: dict[str, dict], answers: dict[str, dict], working: list[str],
                 n_train: int) -> dict:
    """The most accurate working model (mean test accuracy over seeds), the models a test does
    not tell apart from it (compare.compare at 5 %), the most accurate of each family, and each
    family's best tested against the overall best."""
    if not working:
        return {"best": None, "by_family": {}}
    mean = {m: float(np.nanmean(answers[m]["accuracies"])) for m in working}
    best = max(working, key=lambda m: mean[m])
    by_family = {}
    for m in working:
        fam = rows[m]["family"]
        if fam not in by_family or mean[m] > mean[by_family[fam]]:
            by_family[fam] = m
    out = {}
    for fam, m in by_family.items():
        entry = {"model": m, "mean": mean[m], "accuracies": answers[m]["accuracies"]}
        if m != best:
            # both models were chosen for their mean test accuracy: a test on the same test
            # set describes the gap and decides nothing (selection would bias any verdict)
            against = tested_claim({"a": best, "b": m, "expect": "worse"}, rows, answers, n_train)
            if against["verdict"] != "untestable":
                against["verdict"] = "described"
            entry["against_best"] = against
        out[fam] = entry
    # the best by its mean is one draw too: which others a test cannot tell from it
    tied = [m for m in working if m != best
            and not compare.significant(compare.compare(answers[best], answers[m]))]
    return {"best": best, "best_mean": mean[best], "by_family": out, "not_told_apart": tied}
