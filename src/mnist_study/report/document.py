"""The report's context: the results tables and analysis files turned into what the
templates print, every number formatted here (report.formatting) and never typed into a
template. The Jinja environment is report.templates; data-dependent sentences are
report.claims."""

from __future__ import annotations

import pandas as pd

from mnist_study import families
from mnist_study.report import claims
from mnist_study.report.formatting import (
    LOSS_NAMES,
    _missing,
    escape_latex,
    fmt_count,
    fmt_int,
    fmt_list,
    fmt_loss,
    fmt_lr,
    fmt_num,
    fmt_p,
    fmt_pct_range,
    fmt_pm,
    fmt_range,
    fmt_si,
    fmt_sig,
    fmt_signed,
    significant,
)

SCHEDULE_WORDS = {"constant": "at a constant learning rate",
                  "one_cycle": "with a one-cycle learning-rate schedule~\\cite{smith2019}"}


def training_regimes(rows: list[dict]) -> list[str]:
    """How each family of the study trains, as the methods state it: epochs, schedule and
    batch sizes (the learning rates are in the model tables), e.g. 'the MLPs train for 10
    epochs at a constant learning rate, batch size 64 or 256'."""
    out = []
    for family in dict.fromkeys(r["family"] for r in rows):
        of = [r for r in rows if r["family"] == family]
        epochs = sorted({r["epochs"] for r in of})
        schedules = [SCHEDULE_WORDS.get(s, escape_latex(s)) for s in dict.fromkeys(r["schedule"] for r in of)]
        batches = sorted({r["batch_size"] for r in of})
        out.append(f"the {families.get(family).short}s train for "
                   f"{fmt_list(epochs, 'or')} epoch{'s' if epochs != [1] else ''} "
                   f"{fmt_list(schedules, 'or')}, batch size {fmt_list(batches, 'or')}")
    return out


MIXED_WORDS = ("in bfloat16, with the weights, Adam's state, the loss and the output activation "
               "in float32 (mixed precision)")


def precision_sentence(jobs: list[dict]) -> str:
    """What the methods say of the precision each training job computed in, from the jobs'
    records (provenance.job_times: `precision`, `precision_asked`; "" for a job without one)."""
    recorded = [j for j in jobs if j["precision"]]
    mixed = sum(j["precision"] == "bf16-mixed" for j in recorded)
    if not recorded:
        return ""
    products = "The products of training (dense layers and convolutions, forward and backward)"
    if mixed == 0:
        out = f"{products} were computed in float32."
    elif mixed == len(recorded):
        out = f"{products} were computed {MIXED_WORDS}."
    else:
        out = (f"{products} were computed {MIXED_WORDS} in {fmt_int(mixed)} of the {fmt_int(len(recorded))} "
               f"training jobs (Table~\\ref{{tab:jobs}}) and in float32 in the others.")
    fell_back = sum(j["precision_asked"] != j["precision"] for j in recorded)
    if fell_back:
        out += (f" On a machine without native bfloat16, {fmt_count(fell_back, 'job')} that "
                f"asked for it trained in float32.")
    return out + " Evaluation ran in float32."


def family_counts(rows: list[dict]) -> list[dict]:
    """How many models of each family, in the registry's order: `n`, the family's `plural`
    noun and the count as the text says it (`text`: '3 convolutional networks')."""
    counts = {name: sum(r["family"] == name for r in rows) for name in families.FAMILIES}
    return [{"n": n, "plural": families.get(name).noun + "s", "short": families.get(name).short,
             "description": families.get(name).description,
             "text": fmt_count(n, families.get(name).noun)} for name, n in counts.items() if n]


def study_facts(rows: list[dict]) -> dict:
    """What the text says about the study as a whole, from its models."""
    trained = [r for r in rows if not r["failed"]]
    return {
        "n_models": len(rows),
        "n_several_seeds": sum(r["n_seeds"] > 1 for r in rows),
        "families": family_counts(rows),
        # the families of models beyond the seed's tables, where the seed's tables have none
        "beyond_seed": family_counts([r for r in rows if r["family"] not in
                                      {s["family"] for s in rows if s["table"] is not None}]),
        "activations": sorted({r["hidden_activation"] for r in rows}),
        "losses": sorted({r["loss"] for r in rows}),
        "n_layers": sorted({len(r["hidden"]) for r in rows}),
        "epochs": sorted({r["epochs"] for r in rows}),
        "regimes": training_regimes(rows),
        "any_published": any(r["has_published"] for r in trained),
        # the models that hold validation images out of their training, and those that do not
        "validating": [r["label"] for r in rows if r["validation"]],
        "not_validating": [r["label"] for r in rows if not r["validation"]],
        "train_images_validating": sorted({r["train_images"] for r in rows if r["validation"]}),
        "seed_tables": sorted({r["table"] for r in rows if r["table"] is not None}),
    }


def fmt_accuracy(row: pd.Series, split: str) -> str:
    """Mean over seeds +- the half-width of its 95 % interval (Student t); the mean alone for
    one seed."""
    half = (row[f"{split}_accuracy_ci_high"] - row[f"{split}_accuracy_ci_low"]) / 2
    return fmt_pm(row[f"{split}_accuracy_mean"], half, None)


ACTIVATION_NAMES = {"relu": "ReLU", "sigmoid": "sigmoid", "tanh": "tanh", "softmax": "softmax",
                    "log_softmax": "log-softmax"}


# What a loss other than softmax cross-entropy does with the network's outputs: facts of the
# mathematics, so that the text can explain measured accuracies without guessing intentions.
LOSS_MECHANISMS = {
    ("nll", "none"): "The negative log-likelihood applied to the raw scores, without a "
                     "log-softmax, is minus the true class's score: unbounded below, it is "
                     "lowered without end by inflating that one score, which teaches nothing "
                     "about the other nine classes",
    ("nll", "log_softmax"): "The negative log-likelihood of log-softmax outputs is the "
                            "cross-entropy itself",
    ("nll", "softmax"): "The negative log-likelihood applied to probabilities rather than "
                        "log-probabilities is minus the true class's probability, a bounded "
                        "loss with weak gradients when the network is wrong",
    ("mse", "none"): "The mean squared error between one-hot targets and the raw scores asks "
                     "each score to be exactly 0 or 1: a regression onto the one-hot target, "
                     "whose largest score is still the class the network answers",
    ("mse", "softmax"): "The mean squared error between the softmax probabilities and one-hot "
                        "targets (the Brier score) is a proper scoring rule: minimized by the "
                        "true class probabilities",
    ("mse", "sigmoid"): "The mean squared error between sigmoid outputs and one-hot targets "
                        "treats the ten outputs as ten separate yes/no questions",
}


def loss_mechanism(loss: str, output_activation: str) -> str:
    return LOSS_MECHANISMS.get((loss, output_activation),
                               f"{LOSS_NAMES.get(loss, loss)} on {output_activation} outputs")


def hidden_sizes(r) -> list[int]:
    """The dense hidden layer sizes of a models-table row (a cnn may have none)."""
    return [int(h) for h in str(r["hidden"]).split("-") if h.strip()]


def spec_summary(r: pd.Series) -> str:
    """A model's training spec in a few words, as the text names what made a model diverge
    (LaTeX: its words escaped, its learning rate a number)."""
    activation = ACTIVATION_NAMES.get(r["activation"], r["activation"])
    words = escape_latex(f"{families.get(r['family']).noun}, layers {r['layers']}, {activation}, "
                         f"{LOSS_NAMES.get(r['loss'], r['loss'])} loss")
    return (f"{words}, Adam at learning rate {fmt_lr(r['lr'])}, "
            f"batch size {fmt_int(r['batch_size'])}")


def model_rows(table: pd.DataFrame, findings: dict, n_test: int) -> list[dict]:
    """The models table's rows, formatted: every hidden layer, the activations and loss as
    configured, the published accuracies where the study gives them with the interval a run of
    ours falls in and the verdict (mnist_study.evaluate.findings), and whether the model is
    degenerate."""
    rows = []
    for _, r in table.iterrows():
        found = findings["models"].get(str(r["model"]), {})
        rep = found.get("reproduction")
        failed = r.get("status") == "failed"
        hidden_activation = ACTIVATION_NAMES.get(r["activation"], r["activation"])
        output = ("" if r["output_activation"] == "none"
                  else ACTIVATION_NAMES.get(r["output_activation"], r["output_activation"]))
        activation = hidden_activation + (f", {output} out" if output else "")
        rows.append({
            "model": r["model"], "label": r["label"], "lr": fmt_lr(r["lr"]),
            "table": None if _missing(r["table"]) else int(r["table"]),
            "hidden": hidden_sizes(r), "layers": str(r["layers"]), "family": r["family"],
            "batch_size": int(r["batch_size"]), "schedule": r["schedule"],
            "activation": activation, "hidden_activation": hidden_activation, "output": output,
            "loss": LOSS_NAMES.get(r["loss"], r["loss"]),
            "has_published": not (_missing(r["published_train"]) and _missing(r["published_test"])),
            "loss_kind": r["loss"], "output_activation": r["output_activation"],
            "mechanism": loss_mechanism(r["loss"], r["output_activation"]),
            "train_loss": fmt_loss(r["train_loss_mean"]),
            "n_seeds": int(r["n_seeds"]), "epochs": int(r["epochs"]),
            "validation": bool(r["validation"]), "train_images": int(r["train_images"]),
            "train": "failed" if failed else fmt_accuracy(r, "train"),
            "test": "failed" if failed else fmt_accuracy(r, "test"),
            "published_train": fmt_num(r["published_train"]),
            "published_test": fmt_num(r["published_test"]),
            "delta_test": fmt_signed(r["delta_test"]),
            "verdict": rep["verdict"] if rep else None,
            "run_interval": fmt_range(rep["low"], rep["high"]) if rep else "--",
            "reproduction": claims.reproduction_sentence(r["label"], rep) if rep else "",
            "degenerate": found.get("degenerate"),
            "diverged": int(r["n_diverged"]),
            "diverged_at": "; ".join(f"seed {d['seed']} at epoch {d['epoch']}, step {d['step']}"
                                     for d in found.get("diverged_at", [])),
            "spec": spec_summary(r),
            "reason": "" if failed or not rep else claims.deviation_hypotheses(r, rep, n_test),
            "failed": failed,
            "failure": r["failure"] if failed else "",
            "log": r["failure_log"] if failed else "",
        })
    return rows


# --- choosing a network: the families table ---------------------------------------------------

def family_row(r) -> dict:
    """A families-table row (mnist_study.evaluate.choosing), formatted for the report; label,
    architecture and source stay free text, for the template to escape."""
    n_used, n_seeds = int(r["n_seeds_used"]), int(r["n_seeds"])
    source = r["literature_source"]
    return {
        "model": r["model"], "label": r["label"],
        "family": families.get(r["family"]).short,
        "architecture": str(r["architecture"]),
        "parameters": fmt_si(r["n_parameters"]), "flops": fmt_si(r["train_flops_per_member"]),
        "flops_text": fmt_si(r["train_flops_per_member"], unit="FLOP"),
        "n_used": n_used, "seeds": str(n_used) if n_used == n_seeds else f"{n_used}/{n_seeds}",
        # in percent, without the sign: the table's header and the text's template add it
        "error": fmt_num(100 * r["test_error_mean"], 2),
        "interval": fmt_pct_range(r["test_error_low"], r["test_error_high"], 2),
        "one_seed": r["interval_over"] == "test images",
        "wall": fmt_sig(r["wall_s_per_member"]), "has_wall": not _missing(r["wall_s_per_member"]),
        "literature": fmt_num(100 * r["literature_test_error"], 2),
        "source": "" if _missing(source) else str(source),
        "cite": "" if _missing(r.get("literature_cite")) else str(r["literature_cite"]),
    }


def training_words(r) -> str:
    """How a models-table row trained, as the text compares it with a paper's training:
    '10 epochs of Adam at a constant learning rate of 0.001, batch size 64'."""
    schedule = ("a constant learning rate of" if r["schedule"] == "constant"
                else f"{escape_latex(str(r['schedule']).replace('_', '-'))} learning rate peaking at")
    return (f"{fmt_count(r['epochs'], 'epoch')} of Adam at {schedule} {fmt_lr(r['lr'])}, "
            f"batch size {fmt_int(r['batch_size'])}")


def families_context(table: pd.DataFrame, models: pd.DataFrame, pick: dict | None,
                     n_test: int, level: float) -> dict:
    """What the report says about choosing a network: the families table's rows, numbered as
    the figure's points, the most accurate model and the cheapest to train within its interval
    (`pick`, from mnist_study.evaluate.choosing.choice), and what the table leaves out."""
    trained = models[models["status"] == "trained"]
    rows = [{**family_row(r), "number": k + 1} for k, (_, r) in enumerate(table.iterrows())]
    # each literature source once, under the table, named by a letter in the rows
    sources = list(dict.fromkeys(r["source"] for r in rows if r["source"]))
    cites = {r["source"]: r["cite"] for r in rows if r["source"]}
    keys = {s: chr(ord("a") + k) if k < 26 else str(k + 1) for k, s in enumerate(sources)}
    for r in rows:
        r["source_key"] = keys.get(r["source"], "")
    # beside each published error, how the model set against it trained here: the papers
    # trained their own way (optimizer, schedule, length), and a gap measures that difference too
    specs = models.set_index("model")
    trained_here = {r["source"]: training_words(specs.loc[r["model"]]) for r in rows if r["source"]}
    context = {
        "rows": rows, "sources": [{"key": keys[s], "text": s, "cite": cites[s],
                                   "here": trained_here[s]} for s in sources],
        "level": round(100 * level), "n_test": fmt_int(n_test),
        "left_out": [str(x) for x in trained.loc[~trained["model"].isin(table["model"]), "label"]],
        "n_without_wall": int(table["wall_s_per_member"].isna().sum()),
        "any_literature": bool(table["literature_test_error"].notna().any()),
        "any_one_seed": bool((table["interval_over"] == "test images").any()),
        "any_diverged": bool((table["n_seeds_used"] < table["n_seeds"]).any()),
        "pick": None,
    }
    if pick is not None:
        flops = table.set_index("model")["train_flops_per_member"]
        ratio = flops[pick["best"]] / flops[pick["cheapest"]]
        numbered = {r["model"]: r for r in rows}
        context["pick"] = {
            "best": numbered[pick["best"]], "cheapest": numbered[pick["cheapest"]],
            "same": pick["best"] == pick["cheapest"], "n_within": len(pick["within"]),
            "flops_ratio": fmt_sig(ratio, 2), "fewer_flops": significant(ratio, 2) != "1",
        }
    return context


# --- learning curves and the two protocols ----------------------------------------------------

def curves_context(curves: dict, labels: dict, left_out=()) -> dict:
    """What the learning-curves section says (mnist_study.evaluate.curves, via
    analyze_learning_curves): its two sentences, and the protocols table's rows, formatted."""
    rows = []
    for m in curves["order"]:
        c = curves["protocols"][m]
        t = c["test"]
        rows.append({"label": labels.get(m, m), "epochs": fmt_list(c["epochs"]),
                     "not_last": f"{c['n_not_last']} of {len(c['seeds'])}",
                     "last": fmt_num(c["last_mean"], 4), "chosen": fmt_num(c["chosen_mean"], 4),
                     "difference": fmt_signed(t["difference"] if t else
                                              c["chosen_mean"] - c["last_mean"], 4),
                     "interval": (f"[{fmt_signed(t['low'], 4)}, {fmt_signed(t['high'], 4)}]"
                                  if t else "--"),
                     "p": (f"{fmt_p(t['p'], bare=True)} ({fmt_p(t['p_adjusted'], bare=True)})"
                           if t else "--")})
    return {"late_drop": claims.late_drop_sentence(curves["late_drops"], labels, left_out),
            "protocol": claims.protocol_sentence({m: curves["protocols"][m] for m in curves["order"]},
                                                 labels),
            "rows": rows}
