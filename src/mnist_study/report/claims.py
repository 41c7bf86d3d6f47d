r"""Every conclusion the report can draw, in one place: each function takes the numbers a rule
computed and returns the sentence (LaTeX) that those numbers support, so that the data can make
any of them false. Templates hold no conclusion of their own; they place these sentences.
Each function is unit-tested on data on both sides of its decision (tests/test_claims.py).
"""

from __future__ import annotations

import math

import numpy as np

from mnist_study import families
from mnist_study.data import MNIST_IMAGES
from mnist_study.evaluate import compare
from mnist_study.evaluate.trust import LEVEL
from mnist_study.report.formatting import (
    LOSS_NAMES,
    escape_latex,
    fmt_count,
    fmt_int,
    fmt_list,
    fmt_lr,
    fmt_num,
    fmt_p,
    fmt_pct,
    fmt_signed,
)

VERDICTS = {
    "supported": "holds", "contradicted": "contradicted", "not shown": "not shown",
    "not contradicted": "no difference found", "untestable": "untestable",
    "described": "described (chosen on the test set)",
}
EXPECT_WORDS = {"better": "more accurate than", "worse": "less accurate than",
                "same": "as accurate as"}
TEST_NAMES = {"Welch": r"Welch's $t$-test over seeds", "paired": r"paired $t$-test over seeds",
              "McNemar": r"the first seeds' answers to the same test images, McNemar's exact test"}


def fmt_p_adjusted(result: dict) -> str:
    """'p = 0.029' and, where the test is one of several, its Holm-adjusted value."""
    text = fmt_p(result["p"])
    if "p_adjusted" in result:
        text += f" (Holm-adjusted: {fmt_p(result['p_adjusted'])})"
    return text


def label(labels: dict, m: str) -> str:
    return escape_latex(labels.get(m, m))


def tested_difference(result: dict, adjusted: bool = True) -> str:
    """'+0.073 (95 % interval +0.05 to +0.09; Welch's t-test over seeds, p = 0.003)'; with
    `adjusted` False, the p-value is said to be one test's alone."""
    level = round(100 * result["level"])
    p = fmt_p_adjusted(result) if adjusted else f"{fmt_p(result['p'])}, not adjusted"
    return (f"{fmt_signed(result['difference'])} ({level}\\,\\% interval "
            f"{fmt_signed(result['low'])} to {fmt_signed(result['high'])}; "
            f"{TEST_NAMES[result['test']]}, {p})")


SETTING_WORDS = {"lr": "learning rate", "batch_size": "batch size", "epochs": "number of epochs",
                 "schedule": "learning-rate schedule", "output_activation": "output activation",
                 "validation": "training images (one holds validation images out)"}


def confounds(claim: dict, labels: dict) -> str:
    """What else differs between the two models of a comparison, which the design cannot
    separate from the difference it names; '' when the two differ in one setting only."""
    differs = claim.get("differs", [])
    notes = []
    ratio = claim.get("steps_ratio", 1.0)
    times = max(ratio, 1 / ratio)
    # a ratio that rounds to 1.0 (10 epochs of batch 256 against 5 of batch 128) is no confound
    if "batch_size" in differs and "epochs" not in differs and round(times, 1) > 1:
        more, fewer = (claim["a"], claim["b"]) if ratio > 1 else (claim["b"], claim["a"])
        notes.append(f"at equal epochs model {label(labels, more)} takes "
                     f"{fmt_num(times, 1)} times the optimizer steps of model "
                     f"{label(labels, fewer)}, so batch size and step count are not separated")
    if len(differs) > 1:
        notes.append("the two differ in " + fmt_list(SETTING_WORDS.get(d, d.replace("_", " "))
                                                     for d in differs)
                     + ", which this comparison cannot separate")
    for m, (n, of) in claim.get("one_class_seeds", {}).items():
        notes.append(f"{n} of the {of} seeds of model {label(labels, m)} "
                     f"give{'s' if n == 1 else ''} one label to nearly every test image, and the "
                     f"test counts {'it' if n == 1 else 'them'} in")
    return "; ".join(notes)


UNTESTABLE_WORDS = {  # evaluate.findings.UNTESTABLE_REASONS, as the text says them
    "not trained": "model {m} did not train",
    "diverged": "every seed of model {m} diverged",
    "same answers": "the two give the same answer to every test image in every seed",
    "one seed": "model {m} has one seed (a verdict needs seeds)",
}


def untestable_reason(why: dict, labels: dict) -> str:
    return UNTESTABLE_WORDS[why["reason"]].format(m=label(labels, why["model"] or ""))


def claim_sentence(claim: dict, labels: dict) -> str:
    """The verdict on one claim of the study, with the difference it rests on and its test."""
    a, b = label(labels, claim["a"]), label(labels, claim["b"])
    said = f"model {b} is {EXPECT_WORDS[claim['expect']]} model {a}"
    if claim["verdict"] == "untestable":
        text = f"That {said} cannot be tested here: {untestable_reason(claim['why'], labels)}."
        if "result" in claim:  # what the two networks did, described, not decided
            r = claim["result"]
            text += (f" The two trained networks differ by {tested_difference(r, adjusted=False)} "
                     f"in test accuracy ({b} $-$ {a}), which speaks of those two networks, not of "
                     f"another run of either.")
        return text
    r = claim["result"]
    diff = f"the difference in test accuracy ({b} $-$ {a}) is {tested_difference(r)}"
    if claim["verdict"] == "described":
        return (f"Model {b} differs from model {a} by {tested_difference(r, adjusted=False)}; "
                f"both were chosen for their mean test accuracy, so this describes the gap on "
                f"the test set they were chosen on and decides nothing.")
    if claim["verdict"] == "supported":
        text = f"That {said} holds: {diff}."
    elif claim["verdict"] == "contradicted":
        direction = "more" if r["difference"] > 0 else "less"
        text = f"That {said} is contradicted: model {b} is {direction} accurate; {diff}."
    elif claim["verdict"] == "not shown":
        text = f"That {said} is not shown: {diff}, which does not tell the two apart."
    else:  # expected the same, no difference found
        text = (f"No difference between models {a} and {b} is found: {diff}; differences "
                f"smaller than that interval cannot be excluded.")
    if note := confounds(claim, labels):
        text += f" Note: {note}."
    return text


def reproduction_sentence(label_text: str, rep: dict) -> str:
    """One model's published test accuracy against the interval where a run of ours falls."""
    name = escape_latex(label_text)
    pub = f"{fmt_num(rep['published'])} (read as {fmt_num(rep['published_low'], 4)} to " \
          f"{fmt_num(rep['published_high'], 4)})"
    where = (f"{fmt_num(rep['low'], 4)} to {fmt_num(rep['high'], 4)}, "
             + (f"the {round(100 * LEVEL)}\\,\\% prediction interval of one more seed"
                if rep["over"] == "seeds" else "Wilson's interval of our one seed over the test images"))
    verdict = rep["verdict"]
    if verdict == "not comparable":
        if rep.get("why") == "validation":
            return (f"Model {name}: published {pub}; not comparable: this model held training "
                    f"images out to validate on, and so trained on fewer than the seed's.")
        return f"Model {name}: published {pub}; this reduced run is not comparable with it."
    if verdict == "one seed":
        return (f"Model {name}: published {pub}; our one seed gives {where}, which does not cover "
                f"another training run: one run cannot decide.")
    if verdict == "consistent":
        return f"Model {name}: published {pub} is consistent with a run of ours ({where})."
    side = "below" if verdict == "below" else "above"
    return f"Model {name}: published {pub} lies {side} the runs of ours ({where})."


def degenerate_note(models: dict, labels: dict, share: float) -> str:
    """Which models cannot stand for a working network and are left out of the best/worst
    examples and the averages over models; '' when none."""
    one = [m for m, v in models.items() if v["degenerate"] == "one class"]
    some = [m for m, v in models.items() if v["degenerate"] is None and v.get("one_class_seeds")]
    out = []
    if one:
        names = fmt_list(label(labels, m) for m in one)
        verb = "gives" if len(one) == 1 else "give"
        out.append(f"Model{'s' if len(one) > 1 else ''} {names} {verb} one label to at least "
                   f"{fmt_pct(share, 0)} of the test images in most of "
                   f"{'its' if len(one) == 1 else 'their'} seeds: "
                   f"{'it is' if len(one) == 1 else 'they are'} named in the tables but left out "
                   f"of the best and worst examples and of averages over models.")
    for m in some:
        v = models[m]
        first = (" Its first trained seed is one of them, so the analyses of one network (ROC, "
                 "reliability, calibration temperature) show its next seed that works "
                 "(Section~\\ref{sec:methods})." if v.get("first_seed_one_class") else "")
        out.append(f"In model {label(labels, m)}, {v['one_class_seeds']} of {v['n_answering']} "
                   f"seeds give{'s' if v['one_class_seeds'] == 1 else ''} one label to at least "
                   f"{fmt_pct(share, 0)} of the test images; its means over seeds include "
                   f"{'it' if v['one_class_seeds'] == 1 else 'them'}.{first}")
    return " ".join(out)


def tie_note(models: dict, labels: dict, n_test: int) -> str:
    """Models whose answers are partly a tie-break: on some test images two or more labels
    share the top probability (saturated outputs), and argmax gives the lowest of them."""
    out = []
    for m, v in models.items():
        tied = [n for n in v.get("tied_top", []) if n]
        if not tied:
            continue
        seeds = len(v["tied_top"])
        span = (fmt_int(tied[0]) if len(tied) == 1 else
                f"{fmt_int(min(tied))} to {fmt_int(max(tied))}")
        out.append(f"On {span} of the {fmt_int(n_test)} test images "
                   f"({f'in {len(tied)} of its {seeds} seeds' if seeds > 1 else 'in its one seed'}), "
                   f"two or more labels share model {label(labels, m)}'s top probability (its "
                   f"outputs saturate); such an answer counts as the lowest of the tied labels, "
                   f"so its accuracy rests partly on that rule.")
    return " ".join(out)


def identical_note(groups: list[dict], labels: dict) -> str:
    """Models that gave the same answer to every test image, and why where the specs say."""
    out = []
    for g in groups:
        names = " and ".join(label(labels, m) for m in g["models"])
        why = (" their losses are the same function of the network's scores (the negative "
               "log-likelihood of log-softmax outputs is the cross-entropy), trained from the "
               "same seeds" if g["same_training"] else " their specs differ, so this is a "
               "coincidence of the test set")
        out.append(f"Models {names} give the same answer to every test image in every seed:"
                   f"{why}.")
    return " ".join(out)


def tied(values: dict, best: str) -> list:
    """The keys whose value equals the extreme ('max' or 'min') of `values`."""
    finite = {k: v for k, v in values.items() if v is not None and not math.isnan(v)}
    target = (max if best == "max" else min)(finite.values())
    return [k for k, v in finite.items() if v == target]


def extreme_digits(errors: dict, digits: int = 1) -> str:
    """'digit 8 is the hardest (12.0 %) and digit 1 the easiest (1.1 %)', naming every digit
    of a tie ('digits 3 and 5 are the hardest (both 4.0 %)')."""
    parts = []
    for best, word in (("max", "hardest"), ("min", "easiest")):
        ks = tied(errors, best)
        value = fmt_pct(errors[ks[0]], digits)
        if len(ks) == 1:
            parts.append((f"digit {ks[0]}", f"the {word} ({value})", "is"))
        else:
            parts.append((f"digits {fmt_list(ks)}", f"the {word} (each {value})", "are"))
    (s1, p1, v1), (s2, p2, v2) = parts
    return f"{s1} {v1} {p1} and {s2} {p2}"


def hardest_counts(n_hardest: dict, most: list[int], n_models: int) -> str:
    """'digit 9 is the single hardest digit of 9 of the 21 models' (every digit of a tie)."""
    count = n_hardest[str(most[0])]
    if len(most) == 1:
        return f"digit {most[0]} is the single hardest digit of {count} of the {n_models} models"
    return f"digits {fmt_list(most)} are each the single hardest digit of {count} of the {n_models} models"


OOD_SETS = {"gaussian": "Gaussian noise", "uniform": "uniform noise",
            "unfamiliar": "the unfamiliar images", "digits": "scikit-learn's digits"}


def worse_than_chance(models: dict, order: list[str], left_out: list[str] = (),
                      n_tests: int | None = None) -> str:
    """Which models' largest class probability separates MNIST from a set of inputs that are
    not MNIST worse than guessing, by the test of AUC = 0.5 (trust.below_chance: Student's t
    over seeds, or DeLong's normal test for one seed), Holm-adjusted over every model and set
    tested (`n_tests`), and with a mean AUC under 0.5: the inputs that are not digits get the
    more confident answers. Models that give one label to nearly every image are not named."""
    found = []
    for m in order:
        if m in set(left_out):
            continue
        r = models[m]
        for key, words in OOD_SETS.items():
            d = r["ood"].get(key)
            if d and d.get("below_chance"):
                found.append((escape_latex(r["label"]), words, d, r.get("mnist", {})))
    tested = (f"the test of an AUC of 50, Holm-adjusted over the {n_tests} model and set pairs "
              f"tested" if n_tests else "the test of an AUC of 50")
    if not found:
        return (f"No model's confidence separates MNIST's test images from a set of non-digits "
                f"worse than guessing ({tested}, finds none below 50).")

    def why(d: dict, mnist: dict) -> str:
        """The measured mechanism: surer answers, from longer outputs, than on the digits."""
        if d.get("msp") is None or mnist.get("msp") is None:
            return ""
        out = (f"; mean largest probability {fmt_num(d['msp'], 3)} on them against "
               f"{fmt_num(mnist['msp'], 3)} on the test images")
        if d.get("norm") and mnist.get("norm"):
            out += f", from outputs {fmt_num(d['norm'] / mnist['norm'], 1)} times as long"
        return out

    items = fmt_list(f"model {name} on {words} (AUC {fmt_num(100 * d['auc'], 1)}, Holm-adjusted "
                     f"{fmt_p(d['p_adjusted_chance'])}{why(d, mnist)})"
                     for name, words, d, mnist in found)
    return (f"Worse than guessing by {tested}, so that the inputs that are not digits get the "
            f"more confident answers: {items}.")


def temperature_text(t: float, low: float, high: float) -> str:
    """A fitted temperature, or the search bound it stopped at ('$\\geq$20': at least that)."""
    if t >= high * (1 - 1e-3):
        return f"$\\geq${fmt_num(high, 0)}"
    if t <= low * (1 + 1e-3):
        return f"$\\leq${fmt_num(low, 2)}"
    return fmt_num(t, 2)


MOVED_MOST = 0.5  # "the frame" is there when most never-used pixels moved from the start


def border_control_sentence(model: dict, control: dict, what: str) -> str:
    """What a control did to the frame of never-used pixels around the ideal digits, from the
    share of those pixels that moved from the start and their share of the target logit."""
    moved, before = control["never_used_moved"], model["never_used_moved"]
    logit = control["logit_from_never_used"]
    if moved >= MOVED_MOST:
        return (f"{what}, {fmt_pct(moved)} of the never-used pixels still move from the start, so "
                f"the frame stays; they now supply {fmt_num(logit, 2)} of the target logit "
                f"(model: {fmt_num(model['logit_from_never_used'], 2)}).")
    return (f"{what}, only {fmt_pct(moved)} of the never-used pixels move from the start "
            f"(model: {fmt_pct(before)}): the frame disappears.")


def deviation_hypotheses(row, rep: dict, n_test: int) -> str:
    """Where a published accuracy lies outside the runs of ours, what could explain it, each
    reason chosen from this model's own numbers and spec, and said as a hypothesis. (Not the
    spread between our seeds: 'below' and 'above' are decided on the prediction interval over
    the seeds, which already holds it, and one seed gets no such verdict.)"""
    if rep["verdict"] not in ("below", "above"):
        return ""
    reasons = []
    if row["n_diverged"]:
        reasons.append(f"{int(row['n_diverged'])} of its {int(row['n_seeds'])} seeds diverged")
    if row["output_activation"] == "sigmoid":
        reasons.append("a sigmoid output bounds every score to (0, 1), so the loss cannot tell "
                       "a confident answer from a hesitant one and its gradients are weak")
    reasons.append("details the seed does not state (initialization, data order, input "
                   "scaling) may differ")
    return "Possible reasons (hypotheses, not tested here): " + "; ".join(reasons) + "."


def dead_units(table, labels: dict) -> dict:
    """What the report says of dead hidden units (inspect_dead_units' table, one row per member
    of every ReLU model that trained; a diverged member has no count): per model with a dead
    unit in some seed, a row of the appendix's table (each seed's count, the mean share of its
    units, and, where at least 4 seeds differ in the count, Spearman's rank correlation of the
    count with the seed's test accuracy, scipy, two-sided p); and for the text, how many such
    models there are and which has the largest share."""

    rows = []
    for model, members in table.groupby("model", sort=False):
        members = members[members["dead"].notna()]
        if not (members["dead"] > 0).any():
            continue
        share = float((members["dead"] / members["units"]).mean())
        row = {"model": model, "label": label(labels, model), "units": fmt_int(members["units"].iloc[0]),
               "counts": ", ".join(fmt_int(d) for d in members["dead"]), "share": share,
               "share_text": fmt_pct(share, 1), "rho": "--", "p": "--"}
        if len(members) >= 4 and members["dead"].nunique() > 1:
            rho, p = spearman_exact(members["dead"], members["test_accuracy"])
            row.update(rho=fmt_signed(rho, 2), p=fmt_p(p))
        rows.append(row)
    most = max(rows, key=lambda r: r["share"]) if rows else None
    return {"n_models": int(table["model"].nunique()), "rows": rows, "n_with": len(rows),
            "most": most}


# --- the whole study: abstract, findings at a glance, conclusion ---------------------------

def glance_row(claim: dict, labels: dict, question: str, source: str) -> dict:
    """One row of the 'Findings at a glance' table: the question, the measured difference with
    its interval, the test and p, and the verdict."""
    row = {"question": question, "source": escape_latex(source),
           "verdict": VERDICTS[claim["verdict"]]}
    if claim["verdict"] == "untestable":
        return {**row, "answer": "--", "test": untestable_reason(claim["why"], labels)}
    r = claim["result"]
    if confounds({**claim, "one_class_seeds": {}}, labels):  # settings or steps, not dead seeds
        row["verdict"] += " (confounded)"
    return {**row, "answer": f"{fmt_signed(r['difference'])} [{fmt_signed(r['low'])}, "
                             f"{fmt_signed(r['high'])}]",
            "test": f"{r['test']}, {fmt_p(r['p'])}"
                    + (f" (Holm: {fmt_p(r['p_adjusted'])})" if "p_adjusted" in r else "")}


def reproduction_counts(models: dict) -> dict:
    reps = [v["reproduction"] for v in models.values() if "reproduction" in v]
    count = {k: sum(r["verdict"] == k for r in reps)
             for k in ("consistent", "below", "above", "one seed", "not comparable")}
    return {"n": len(reps), **count}


def question(claim: dict, labels: dict) -> str:
    """A claim or control as its table row asks it: its words, quoted, where it has them, and
    what it says of b against a ('B less accurate than A')."""
    said = f"{label(labels, claim['b'])} {EXPECT_WORDS[claim['expect']]} {label(labels, claim['a'])}"
    return f"``{escape_latex(claim['says'])}'' ({said})" if claim.get("says") else said


def study_conclusions(findings: dict, labels: dict, table) -> dict:
    """Everything the frame of the report concludes (abstract, findings at a glance,
    conclusion), from the findings file and the models table."""
    rows = {str(r["model"]): r for r in table.to_dict("records")}
    claims = findings["claims"]
    glance = [glance_row(c, labels, question(c, labels), c.get("source") or "the study")
              for c in claims]
    fam = findings["families"]
    family_sentences, family_abstract = [], []
    for name, entry in fam["by_family"].items():
        if "against_best" not in entry:
            continue
        c = entry["against_best"]
        glance.append(glance_row(c, labels, f"best {escape_latex(name.upper())} "
                                 f"({label(labels, entry['model'])}) against the best model "
                                 f"({label(labels, fam['best'])})", "beyond the seed"))
        family_sentences.append(claim_sentence(c, labels))
        if c["verdict"] != "untestable":
            family_abstract.append(
                f"the {escape_latex(families.get(name).noun)} with the highest mean test "
                f"accuracy ({label(labels, entry['model'])}; not tested against the others of its "
                f"family) differs from it by {tested_difference(c['result'])}")
    rep = reproduction_counts(findings["models"])
    verdicts = [c["verdict"] for c in claims]
    controls = findings.get("controls", [])
    control_glance = [glance_row(c, labels, question(c, labels), "control") for c in controls]
    out = {
        "control_glance": control_glance,
        "control_sentences": [claim_sentence(c, labels) for c in controls],
        "loss_readings": loss_readings(claims, rows, labels),
        "glance": glance, "claim_sentences": [claim_sentence(c, labels) for c in claims],
        "family_sentences": family_sentences, "family_abstract": family_abstract,
        "reproduction": rep,
        "reproduction_summary": reproduction_summary(rep),
        "degenerate": degenerate_note(findings["models"], labels, findings["one_class_share"]),
        "degenerate_models": [m for m, v in findings["models"].items() if v["degenerate"]],
        # models that give the same answers as an earlier one: counted once over models
        "repeat_models": [m for g in findings["identical"] for m in g["models"][1:]
                          if not findings["models"].get(m, {}).get("degenerate")],
        "ties": tie_note(findings["models"], labels, findings["n_test"]),
        "one_class_labels": [label(labels, m) for m, v in findings["models"].items()
                             if v["degenerate"] == "one class"],
        "identical": identical_note(findings["identical"], labels),
        "n_claims": len(claims), "n_holds": verdicts.count("supported"),
        "n_contradicted": verdicts.count("contradicted"),
        "n_open": verdicts.count("not shown") + verdicts.count("not contradicted"),
        "n_untestable": verdicts.count("untestable"),
        # the claims by verdict, as the conclusion lists them (each rests on seeds: a claim
        # with one seed on a side is untestable, evaluate.findings.tested_claim)
        "by_verdict": {v: [g["question"] for g, c in zip(glance, claims) if c["verdict"] == v]
                       for v in ("supported", "contradicted")},
        "reduced": findings["reduced"],
        "limitations": limitations(findings, table, findings["n_test"]),
    }
    best = fam.get("best")
    if best:
        from mnist_study.evaluate.trust import wilson_interval

        r, level = rows[best], f"{round(100 * LEVEL)}\\,\\%"
        if r["n_seeds"] > 1 and not math.isnan(r["test_accuracy_ci_low"]):
            interval = (f"{fmt_num(r['test_accuracy_ci_low'], 4)}--"
                        f"{fmt_num(r['test_accuracy_ci_high'], 4)}, {level} interval of the mean "
                        f"over {int(r['n_seeds'])} seeds")
        else:
            low, high = wilson_interval(float(r["test_accuracy_mean"]), findings["n_test"])
            interval = (f"{fmt_num(low, 4)}--{fmt_num(high, 4)}, Wilson's {level} interval of "
                        f"its one seed over the test images")
        tied = fam.get("not_told_apart", [])
        out["best"] = {"label": label(labels, best), "accuracy": fmt_num(r["test_accuracy_mean"], 4),
                       "interval": interval, "tied": best_ties(tied, labels)}
    return out


def limitations(findings: dict, table, n_test: int) -> list[str]:
    """What this design cannot tell, each item only where this study has the case."""
    full = MNIST_IMAGES["test"]
    test_set = (f"MNIST's one test set of {fmt_int(n_test)} images" if n_test == full else
                f"{fmt_int(n_test)} images of MNIST's test set of {fmt_int(full)}")
    records = table.to_dict("records")
    unvalidated = [str(r["label"]) for r in records if not r["validation"]]
    out = [f"Every accuracy is measured on {test_set}."
           + (f" {fmt_count(len(unvalidated), 'model')} ({fmt_list(escape_latex(x) for x in unvalidated)}) "
              f"{'trains' if len(unvalidated) == 1 else 'train'} on every training image, as the "
              f"seed did: nothing is held out to choose or fit anything for "
              f"{'it' if len(unvalidated) == 1 else 'them'}, so "
              f"{'it has' if len(unvalidated) == 1 else 'they have'} no calibration temperature "
              f"and {'its' if len(unvalidated) == 1 else 'their'} last epoch is reported whatever "
              f"the epochs before it reached (Section~\\ref{{sec:trust}})."
              if unvalidated else "")]
    one_seed = [str(r["label"]) for r in records if r["n_seeds"] == 1]
    if one_seed:
        out.append(f"Model{'s' if len(one_seed) > 1 else ''} "
                   f"{fmt_list(escape_latex(x) for x in one_seed)} "
                   f"{'have' if len(one_seed) > 1 else 'has'} one seed: "
                   f"{'their' if len(one_seed) > 1 else 'its'} intervals cover only the test "
                   f"images, which says nothing of how far another run would land, so no claim "
                   f"about {'them' if len(one_seed) > 1 else 'it'} is decided.")
    if any("batch_size" in c.get("differs", []) for c in findings["claims"]):
        out.append("Models compared at equal epochs but different batch sizes also differ in "
                   "the number of optimizer steps; this design does not separate the two.")
    if any(v.get("reproduction", {}).get("verdict") not in (None, "not comparable")
           for v in findings["models"].values()):
        out.append("Each published value is one run, rounded to three decimals; it is compared "
                   "as the interval its rounding stands for, against the interval in which one "
                   "run of ours would fall.")
    if findings["reduced"]:
        out.append(f"This reduced run ({', '.join(findings['reduced'])}) trains far less than "
                   f"the study specifies: its accuracies, and so its verdicts, are those of the "
                   f"reduced training.")
    return out


def batch_lr_sentence(group: dict) -> str:
    """One learning rate of the batch-size question: the accuracies by batch size, the tested
    change from the smallest to the largest batch, and the step-count confound."""
    points = []
    for p in group["points"]:
        spread = (f", seeds from {fmt_num(p['test_accuracy_min'])} to "
                  f"{fmt_num(p['test_accuracy_max'])}" if p["n_seeds"] > 1 else "")
        diverged = f", {p['n_diverged']} diverged" if p["n_diverged"] else ""
        points.append(f"{fmt_num(p['test_accuracy_mean'])} at batch size {p['batch_size']} "
                      f"(model {escape_latex(p['label'])}{spread}{diverged})")
    text = (f"At learning rate {fmt_lr(group['lr'])} the mean test accuracy is "
            + ", ".join(points) + ".")
    small, large = group["points"][0], group["points"][-1]
    if group["test"] is None:
        return text + " The two ends cannot be tested against each other."
    # no verdict here: the verdicts on these pairs are the claims', adjusted for all of them
    # (Table 1), and one comparison gets one verdict
    text += (f" From batch size {small['batch_size']} to {large['batch_size']} it changes by "
             f"{tested_difference(group['test'], adjusted=False)}.")
    if group["steps_ratio"] != 1:
        text += (f" At equal epochs, batch size {small['batch_size']} takes "
                 f"{fmt_num(group['steps_ratio'], 1)} times the optimizer steps of batch size "
                 f"{large['batch_size']}, so batch size and step count are not separated.")
    return text


def reproduction_summary(counts: dict) -> str:
    """How many published test accuracies a run of ours is consistent with, one sentence."""
    n = counts["n"]
    if not n:
        return ""
    if counts["not comparable"]:
        return (f"This reduced run is not compared with the {n} published test "
                f"accurac{'y' if n == 1 else 'ies'}: it trained on fewer images or epochs.")
    parts = [f"{counts['consistent']} {'is' if counts['consistent'] == 1 else 'are'} consistent "
             f"with a run of ours"]
    for side in ("below", "above"):
        if counts[side]:
            parts.append(f"{counts[side]} lie{'s' if counts[side] == 1 else ''} {side} the runs "
                         f"we would expect")
    if counts["one seed"]:
        parts.append(f"{counts['one seed']} {'is' if counts['one seed'] == 1 else 'are'} not "
                     f"decided (one seed of ours, which cannot show where another run would land)")
    return (f"Of the {n} published test accurac{'y' if n == 1 else 'ies'}, "
            + ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1] + ".")


def best_ties(tied: list[str], labels: dict, most: int = 4) -> str:
    """'', or the clause saying which models a test does not tell from the best one."""
    if not tied:
        return ""
    shown = [label(labels, m) for m in tied[:most]]
    if len(tied) > most:
        shown.append(f"{len(tied) - most} more")
    names, more = fmt_list(shown), ""
    return (f"; a test at the 5\\,\\% level does not tell it apart from "
            f"{'model' if len(tied) == 1 else 'models'} {names}{more}")


def calibration_sentence(models: dict, left_out: list[str] = (), repeats: list[str] = ()) -> str:
    """What the calibration table shows across the models that work (those in `left_out`
    give one label to nearly every image) and held out validation images to fit a temperature
    on: how many were over- or under-confident (every seed's temperature above or below 1; a fit
    stopped at the search bound is neither, and is counted apart), and for how many temperature
    scaling gave a lower mean ECE (a comparison of two means, not a test). The models without
    validation images are counted apart: nothing is fitted for them."""
    rows = [r for m, r in models.items() if m not in {*left_out, *repeats}]
    if not rows:
        return ""
    unfitted = [r for r in rows if r["temperatures"] is None]
    rows = [r for r in rows if r["temperatures"] is not None]
    text = ""
    if unfitted:
        n = len(unfitted)
        counted = (" that do not give one label to nearly every image" if left_out else "") + (
            " (models with the same answers counted once)" if repeats else "")
        text = (f"Of the {fmt_count(n + len(rows), 'model')}{counted}, {n} trained on every "
                f"training image ({'it has' if n == 1 else 'they have'} no validation images) "
                f"and so no temperature. ")
    if not rows:
        return text.strip()
    low, high = rows[0]["temperature_bounds"]

    def at_bound(r):
        return any(t >= high * (1 - 1e-3) or t <= low * (1 + 1e-3) for t in r["temperatures"])

    fitted = [r for r in rows if not at_bound(r)]
    over = sum(all(t > 1 for t in r["temperatures"]) for r in fitted)
    under = sum(all(t < 1 for t in r["temperatures"]) for r in fitted)
    better = sum(r["ece_after"] < r["ece"] for r in rows)
    worse = [escape_latex(r["label"]) for r in rows if r["ece_after"] > r["ece"]]
    n = len(rows)
    text += (f"Of the {n} model{'s' if n != 1 else ''} with a fitted temperature"
             + (" that do not give one label to nearly every image" if left_out else "")
             + (" (models with the same answers counted once)" if repeats else "")
             + f", {over} {'was' if over == 1 else 'were'} over-confident in every seed "
             f"($T > 1$) and {under} under-confident ($T < 1$); "
             f"temperature scaling gave a lower mean test ECE for {better}"
             + (f" and a higher one for {fmt_list(worse)}" if worse else "")
             + " (a comparison of the two means, not a test).")
    if bound := n - len(fitted):
        text += (f" For {bound} the fit stopped at the edge of its range: no single temperature "
                 f"makes such a network calibrated.")
    return text


# --- learning curves and the two protocols ----------------------------------------------------

def late_drop_sentence(drops: dict[str, dict], labels: dict, left_out=()) -> str:
    """How many models' last epoch is below an earlier one in mean test accuracy, and the
    largest such fall (a description of this run, from curves.late_drop); models in `left_out`
    (one label for nearly every image) are not counted."""
    rows = {m: d for m, d in drops.items() if m not in left_out}
    if not rows:
        return ""
    fell = {m: d for m, d in rows.items() if d["drop"] > 0}
    n = len(rows)
    text = (f"For {len(fell) if fell else 'none'} of the {n} model{'s' if n != 1 else ''} "
            f"trained for more than one epoch, the mean test accuracy of the last epoch is "
            f"below that of an earlier epoch")
    if fell:
        m, d = max(fell.items(), key=lambda kv: kv[1]["drop"])
        text += (f"; the largest fall is model {label(labels, m)}'s, from {fmt_num(d['best'], 4)} "
                 f"after epoch {d['best_epoch']} to {fmt_num(d['last'], 4)} after epoch "
                 f"{d['last_epoch']}")
    return text + (". The seed's protocol reports the last epoch whatever came before it; "
                   "the best epoch here is read from the test set, so these falls describe this "
                   "run and choose nothing.")


def protocol_sentence(protocols: dict[str, dict], labels: dict) -> str:
    """What keeping each seed's epoch of highest validation accuracy did to the mean test
    accuracy, against the last epoch (curves.validated_choice), and for how many models the
    paired test (Holm-adjusted over the models) finds a difference."""
    if not protocols:
        return ""
    diffs = [c["chosen_mean"] - c["last_mean"] for c in protocols.values()]
    tested = {m: c["test"] for m, c in protocols.items() if c["test"] is not None}
    found = [label(labels, m) for m, t in tested.items()
             if compare.significant({**t, "p": t.get("p_adjusted", t["p"])})]
    n, k = len(protocols), len(tested)
    kept_last = sum(c["n_not_last"] == 0 for c in protocols.values())
    text = (f"For the {fmt_count(n, 'model')} that validate{'s' if n == 1 else ''}, keeping each "
            f"seed's epoch of highest validation accuracy instead of its last changed the mean "
            f"test accuracy by {fmt_signed(min(diffs), 4)}"
            + (f" to {fmt_signed(max(diffs), 4)}" if n > 1 else "")
            + (f" (for {kept_last} of them every seed's best epoch was its last)" if kept_last else ""))
    if k:
        text += ("; the paired $t$-test over seeds"
                 + (f", Holm-adjusted over the {k} models," if k > 1 else "")
                 + (f" finds a difference for {fmt_list(found)}" if found
                    else f" finds a difference for none of {'them' if k > 1 else 'it'}"))
    return text + "."


# --- the seed's failed losses: which set-up its "performed quite poorly" fits ------------------

def loss_readings(claims: list[dict], rows: dict[str, dict], labels: dict) -> list[str]:
    """Per loss that a claim says does worse than cross-entropy (the seed's MSE and NLL), which
    of the study's set-ups of that loss the claim's test supports and which it does not (or
    that trains the very network cross-entropy trains: the same answers): the seed's result
    fits the first, and the paragraph says so as a reading of the data, not a proof. One
    sentence per loss with a set-up on either side."""
    by_loss: dict[str, dict[str, list[str]]] = {}
    for c in claims:
        a, b = rows.get(c["a"]), rows.get(c["b"])
        if (c["expect"] != "worse" or a is None or b is None
                or a.get("loss") != "cross_entropy" or b.get("loss") in (None, "cross_entropy")):
            continue
        why = c.get("why") or {}
        if c["verdict"] == "supported":
            side = "fits"  # less accurate by the claim's test
        elif c["verdict"] != "untestable" or why.get("reason") == "same answers":
            side = "does not fit"  # not shown worse, or the same network as cross-entropy's
        else:
            continue
        by_loss.setdefault(b["loss"], {"fits": [], "does not fit": []})[side].append(c["b"])
    out = []
    for loss, sides in by_loss.items():
        name = LOSS_NAMES.get(loss, escape_latex(loss))
        fits = [f"model {label(labels, m)}" for m in sides["fits"]]
        not_fit = [f"model {label(labels, m)}" for m in sides["does not fit"]]
        text = f"The seed's report that {name} ``performed quite poorly'' "
        if fits and not_fit:
            text += (f"fits {fmt_list(fits)} (less accurate than cross-entropy by the claim's "
                     f"test) and not {fmt_list(not_fit)}: "
                     f"its author most likely trained "
                     f"{name} as {'that model is' if len(fits) == 1 else 'those models are'} "
                     f"set up here, a reading of these results, not a proof.")
        elif fits:
            text += (f"fits every set-up of it here ({fmt_list(fits)}): these results do not "
                     f"tell how its author set it up.")
        else:
            text += (f"fits none of its set-ups here ({fmt_list(not_fit)}): none of them is "
                     f"shown to be less accurate than cross-entropy, so the seed's result is "
                     f"not reproduced by any of them.")
        out.append(text)
    return out


# --- batch norm on noise ------------------------------------------------------------------------

BN_SET_WORDS = {"gaussian": "Gaussian noise", "uniform": "uniform noise"}


def batch_norm_sentences(table, labels: dict, far: float = 1.0) -> list[str]:
    """Per model with batch norm (inspection.batch_norm's table): in its first batch-norm layer,
    how far each noise set's channel means lie from the running statistics, in running standard
    deviations, and their spread against the running one, beside the test digits' (means over
    seeds). Where a noise set lies more than `far` running sds away, and farther than the
    digits, the sentence says what follows: the layer does not normalize it."""
    out = []
    if table is None or not len(table):
        return out
    first = table[table["layer"] == 0].groupby(["model", "set"])[["shift", "scale"]].mean()
    for m in dict.fromkeys(table["model"]):
        rows = first.loc[m]
        if "digits" not in rows.index:
            continue
        digits = rows.loc["digits"]
        parts, unnormalized = [], []
        for key, words in BN_SET_WORDS.items():
            if key not in rows.index:
                continue
            r = rows.loc[key]
            parts.append(f"on {words} they lie {fmt_num(r['shift'], 2)} running standard "
                         f"deviations from them, with {fmt_num(r['scale'], 2)} times the running "
                         f"spread")
            if r["shift"] > far and r["shift"] > digits["shift"]:
                unnormalized.append(words)
        if not parts:
            continue
        text = (f"In the first batch-norm layer of model {label(labels, m)} (means over its "
                f"seeds), the channel means of the test digits lie {fmt_num(digits['shift'], 2)} "
                f"running standard deviations from the statistics kept in training, with "
                f"{fmt_num(digits['scale'], 2)} times the running spread; " + "; ".join(parts) + ".")
        if unnormalized:
            text += (f" For {fmt_list(unnormalized)} the layer's fixed statistics do not "
                     f"normalize, so the layers after it receive inputs unlike those they were "
                     f"trained on.")
        out.append(text)
    return out


def spearman_exact(x, y) -> tuple[float, float]:
    """Spearman's rho with its two-sided p-value from every pairing of the values (a handful
    of seeds: the t approximation scipy's spearmanr uses is far off there; with 5 pairs the
    smallest p is 2/120, not 1e-24)."""
    from scipy import stats

    x, y = np.asarray(x, float), np.asarray(y, float)
    result = stats.permutation_test((x, y), lambda a, b: stats.spearmanr(a, b).statistic,
                                    permutation_type="pairings", n_resamples=np.inf,
                                    alternative="two-sided")
    return float(result.statistic), float(result.pvalue)
