"""End to end: the quick configuration builds a complete report.pdf."""

import json
import re
import subprocess

import pandas as pd
import pytest
import yaml
from conftest import (
    FAILING_MODEL,
    HOSTILE_LABEL,
    QUICK,
    REPO,
    SNAKEMAKE,
    pdf_text,
    quick_files,
    run_snakemake,
    seed_models,
)

pytestmark = pytest.mark.e2e


def test_quick_report_names_every_model(quick_run):
    text = " ".join(pdf_text(quick_run / "report.pdf").split())
    for model_id, entry in seed_models().items():
        label = HOSTILE_LABEL if model_id == "0" else entry.get("label", model_id)
        assert f" {label} " in text, f"model {label!r} missing from the report"
    assert "Reproducibility" in text


def test_each_other_loss_is_explained_once_beside_its_result(quick_run):
    # the losses section: the label as the study gives it, then the result and what the loss
    # does with the outputs (the label already names the loss: no second "(MSE)" after it)
    text = " ".join(pdf_text(quick_run / "report.pdf").split())
    section = text[text.rindex("Losses other than cross-entropy"):]  # the body, not the contents
    others = {m: e for m, e in seed_models().items() if e.get("loss", "cross_entropy") != "cross_entropy"}
    assert others
    for entry in others.values():
        assert f"Model {entry['label']}: test accuracy" in section, entry["label"]
    assert "The negative log-likelihood applied to the raw scores" in section


def test_quick_results_have_one_row_per_seed(quick_run):
    from mnist_study.evaluate.metrics import by_model
    from mnist_study.files import read_table

    models = seed_models()
    metrics = by_model(read_table(quick_run / "results" / "analysis" / "metrics.csv"))
    assert list(metrics) == list(models)  # every model that trained; the failed one has none
    for model_id, entry in models.items():
        assert sorted(metrics[model_id]["seed"]) == sorted(entry.get("seeds", [0]))
        assert metrics[model_id]["test_accuracy"].between(0, 1).all()
    table = pd.read_csv(quick_run / "results" / "tables" / "models.csv", dtype={"model": str})
    assert list(table["model"]) == [*models, FAILING_MODEL]


def test_stored_weights_give_the_stored_answers_for_every_family(quick_run):
    # what every analysis loads (networks.load_members) is the network that was trained: its
    # answers to the test images are the probabilities the training job stored, mlp and cnn
    import numpy as np

    from mnist_study.data import read_dataset
    from mnist_study.networks import in_chunks, load_members
    from mnist_study.train.metrics import probabilities

    data = read_dataset(quick_run / "results" / "data" / "mnist.npz", as_torch=True)
    x = data["test_images"].reshape(len(data["test_images"]), -1).float() / 255
    families = set()
    for model_id in seed_models():
        folder = quick_run / "results" / "models" / model_id
        spec, members = load_members(folder / "weights.pt")
        families.add(spec.family)
        stored = np.load(folder / "test_probs.npz")
        for i, seed in enumerate(stored["seeds"]):
            probs = probabilities(in_chunks(members[int(seed)], x), spec).numpy()
            if np.isfinite(stored["probs"][i]).all():
                np.testing.assert_allclose(probs, stored["probs"][i], atol=1e-5, err_msg=model_id)
    assert families == {"mlp", "cnn"}


def test_keep_going_reports_the_failed_model_and_why(quick_run):
    """The quick run adds a model too large to allocate and runs with --keep-going: every
    other model is in the report, and the failed one is marked with the reason."""
    folder = quick_run / "results" / "models" / FAILING_MODEL
    outcome = json.loads((folder / "outcome.json").read_text())
    assert outcome["status"] == "failed"
    assert "allocate" in outcome["reason"], outcome  # the allocator's own message
    # its partial files are gone (Snakemake's own .snakemake_timestamp aside)
    assert [p.name for p in folder.iterdir() if not p.name.startswith(".")] == ["outcome.json"]
    table = pd.read_csv(quick_run / "results" / "tables" / "models.csv", dtype={"model": str})
    failed = table.set_index("model").loc[FAILING_MODEL]
    assert failed["status"] == "failed" and pd.isna(failed["test_accuracy_mean"])
    assert (table["status"] == "trained").sum() == len(table) - 1
    text = " ".join(pdf_text(quick_run / "report.pdf").split())
    assert "Models that did not train" in text
    assert f"1 of {len(table)} models is missing from this report" in text
    assert f"logs/train_model/{FAILING_MODEL}.log" in text
    roc = json.loads((quick_run / "results" / "analysis" / "roc.json").read_text())
    assert FAILING_MODEL not in roc["models"] and FAILING_MODEL not in roc["order"]
    assert f"model {FAILING_MODEL} did not train" in (quick_run / "run.log").read_text()


def test_every_training_job_records_how_it_trained(quick_run):
    import torch

    # the device and thread count decide a job's last digits: each job says which it had, and
    # the report's job table shows them (the failed model left no record)
    provenance = json.loads((quick_run / "results" / "report" / "provenance.json").read_text())
    cores = provenance["machine"]["cores"]
    runs = [quick_run / "results" / "models" / m / "run.json" for m in seed_models()]
    runs += sorted((quick_run / "results" / "scan").glob("h*/run.json"))
    assert len(runs) > len(seed_models())  # the scan's rows too
    for path in runs:
        how = json.loads(path.read_text())
        assert how["trainer"] in ("handwritten", "general")
        assert how["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
        assert isinstance(how["torch_threads"], int) and 1 <= how["torch_threads"] <= cores, path
    jobs = {j["job"]: j for j in provenance["jobs"]}
    assert len(jobs) == len(runs) + 1
    assert pd.isna(jobs[f"train_model {FAILING_MODEL}"]["torch_threads"])
    assert provenance["training"]["n_unknown"] == 1
    text = " ".join(pdf_text(quick_run / "report.pdf").split())
    assert "Each training job recorded how it trained" in text
    assert "1 job left no record" in text


def test_the_end_of_a_run_says_where_the_time_went(quick_run):
    log = (quick_run / "run.log").read_text()
    summary = log[log.index("where the time went ("):]
    assert "no timing summary" not in log
    assert re.search(r"^  train_model \d+ jobs \d+ s \(start-up [\d.]+ s, work [\d.]+ s\)$", summary, re.M)


def test_the_start_of_a_run_says_how_long_and_training_jobs_show_their_epochs(quick_run):
    console = (quick_run / "run.log").read_text()
    # a fresh folder: no job has a time of its own yet, so training is timed by its FLOPs (the
    # model too big to train counts too: thousands of hours, would it fit)
    assert re.search(r"^Expected wall time: about [\d hmins]+ \(\d+ jobs on 2 cores\),\n"
                     r"  from FLOP counts at .* GFLOP/s ", console, re.M), console[:3000]
    epochs = [line for line in (quick_run / "logs/train_model/0.log").read_text().splitlines()
              if line.startswith("epoch ")]
    assert epochs and all(f"model 0: {line}" in console.splitlines() for line in epochs)


def test_a_rerun_is_timed_by_the_last_run_s_job_times(quick_run, tmp_path):
    import shutil

    copy = tmp_path / "quick"
    shutil.copytree(quick_run, copy, symlinks=True)
    rerun = run_snakemake(copy, "--cores", "2", "--forcerun=results/models/5", "results/models/5",
                          configfiles=[copy / "study.yaml", QUICK])
    console = rerun.stdout + rerun.stderr
    assert "(1 job on 2 cores),\n  from the last run's job times.\n" in console, console[-3000:]


def test_rerun_has_nothing_to_do_and_html_report_builds(quick_run):
    # a recorded failure is a result too: nothing to redo until the user retrains it
    dry = run_snakemake(quick_run, "-n", configfiles=quick_files(quick_run))
    assert "Nothing to be done" in dry.stdout + dry.stderr
    run_snakemake(quick_run, "--report", "report.html", configfiles=quick_files(quick_run))
    assert (quick_run / "report.html").stat().st_size > 10_000


def test_template_edit_reruns_only_the_report(quick_run):
    template = REPO / "report" / "sections" / "introduction.tex.j2"
    original = template.read_text()
    try:
        # Snakemake compares checksums, so the edit must change the text, not just the mtime
        template.write_text(original + "%# an edit\n")
        dry = run_snakemake(quick_run, "-n", configfiles=quick_files(quick_run))
    finally:
        template.write_text(original)
    jobs = set(re.findall(r"^(?:local)?rule (\w+):", dry.stdout, re.M))
    assert jobs == {"render_report", "compile_report", "all"}, dry.stdout[-3000:]


def dry_run_jobs(workdir, *extra_configfiles) -> set[str]:
    dry = run_snakemake(workdir, "-n", configfiles=[*quick_files(workdir), *extra_configfiles])
    return set(re.findall(r"^(?:local)?rule (\w+):", dry.stdout, re.M))


def test_label_edit_reruns_tables_figures_and_report_but_no_network(quick_run, tmp_path):
    study = yaml.safe_load((quick_run / "study.yaml").read_text())
    study["models"]["1"]["label"] = "one, renamed"
    edit = tmp_path / "study.yaml"
    edit.write_text(yaml.safe_dump(study, sort_keys=False))
    jobs = dry_run_jobs(quick_run, edit)
    assert {"analyze_models", "render_report", "compile_report"} <= jobs, jobs
    assert not [j for j in jobs if j.startswith(("fetch_", "load_", "train_", "inspect_"))], jobs


def test_a_new_metric_reruns_the_analysis_and_no_training(quick_run, tmp_path):
    # Every test metric is computed by analyze_metrics from the files training stored. A user
    # adds one in that job's script (Snakemake reruns a job whose script changed), in a copy
    # of the workflow run on the quick run's folder: the analyses, tables and report that read
    # the metrics are planned; no network is trained or inspected.
    import shutil

    copy = tmp_path / "workflow"
    copy.mkdir()
    for part in ("Snakefile", "config.yaml", "config", "workflow", "src", "report", "envs"):
        (shutil.copytree if (REPO / part).is_dir() else shutil.copy2)(REPO / part, copy / part)
    script = copy / "workflow" / "scripts" / "analyze_metrics.py"
    written = "    files.write_csv(table"
    assert script.read_text().count(written) == 1  # where the metrics table is written
    added = '    table["test_error"] = 1 - table["test_accuracy"]\n'
    script.write_text(script.read_text().replace(written, added + written))
    dry = subprocess.run([SNAKEMAKE, "-s", str(copy / "Snakefile"), "-d", str(quick_run), "-n",
                          "--configfile", *map(str, quick_files(quick_run))], capture_output=True,
                         text=True)
    assert dry.returncode == 0, dry.stderr[-3000:]
    jobs = set(re.findall(r"^(?:local)?rule (\w+):", dry.stdout, re.M))
    assert {"analyze_metrics", "analyze_models", "analyze_findings", "analyze_roc",
            "render_report", "compile_report"} <= jobs, jobs
    assert not [j for j in jobs if j.startswith(("fetch_", "load_", "train_", "inspect_"))], jobs


def planned_jobs(dry_run_output: str) -> list[tuple[str, str]]:
    """(rule, wildcards) of every job a dry run plans ("" where the rule has none)."""
    jobs = []
    for block in dry_run_output.split("\n\n"):
        rule = re.search(r"^(?:local)?rule (\w+):", block, re.M)
        if rule:
            wildcards = re.search(r"^\s+wildcards: (.*)$", block, re.M)
            jobs.append((rule.group(1), wildcards.group(1) if wildcards else ""))
    return jobs


def test_a_changed_and_an_added_model_train_alone_and_the_inspected_model_is_not_redone(
        quick_run, tmp_path):
    study = yaml.safe_load((quick_run / "study.yaml").read_text())
    study["models"]["1"]["lr"] = 0.002
    study["models"]["added"] = {"hidden": [20], "seeds": [0]}
    edit = tmp_path / "study.yaml"
    edit.write_text(yaml.safe_dump(study, sort_keys=False))
    dry = run_snakemake(quick_run, "-n", configfiles=[*quick_files(quick_run), edit])
    jobs = planned_jobs(dry.stdout)
    assert sorted(w for r, w in jobs if r == "train_model") == ["model=1", "model=added"], jobs
    # the inspected model (0) did not change: its deep dream, regularized renders, border
    # analysis and border control are not planned. (The answers to unfamiliar images and the
    # class maximizations are one job over every model, which reruns: README, "What the DAG
    # does", says why.)
    of_the_inspected_model = {"inspect_deep_dream", "inspect_regularized_maximization",
                              "inspect_border_analysis", "train_border_control"}
    assert not of_the_inspected_model & {r for r, _ in jobs}, jobs


def test_a_retrain_at_another_thread_count_updates_the_job_table(quick_run, tmp_path):
    # on a copy: model 5 retrained with 2 threads; its run.json is an input of the provenance,
    # so the report's job table follows in the same invocation
    import shutil

    copy = tmp_path / "quick"
    shutil.copytree(quick_run, copy, symlinks=True)
    run_snakemake(copy, "--cores", "2", "--forcerun", "results/models/5", "--set-threads",
                  "train_model=2", "--until", "collect_provenance",
                  configfiles=[copy / "study.yaml", QUICK])
    assert json.loads((copy / "results/models/5/run.json").read_text())["torch_threads"] == 2
    provenance = json.loads((copy / "results/report/provenance.json").read_text())
    threads = {j["job"]: j["torch_threads"] for j in provenance["jobs"]}
    assert threads["train_model 5"] == 2 and threads["train_model 6"] == 1
    assert provenance["training"]["torch_threads"] == [1, 2]


def test_style_edit_replots_without_recomputing(quick_run):
    style = REPO / "report" / "style.mplstyle"
    original = style.read_text()
    try:
        style.write_text(original + "# an edit\n")
        jobs = dry_run_jobs(quick_run)
    finally:
        style.write_text(original)
    plots = {j for j in jobs if j.startswith("plot_")}
    assert len(plots) >= 15 and jobs == plots | {"render_report", "compile_report", "all"}, jobs


def test_a_training_folder_of_an_older_version_is_named_with_how_to_retrain_it(quick_run, tmp_path):
    # a folder written before a file joined MODEL_FILES: Snakemake alone would only call the
    # file missing, since the training job's output is the folder
    import shutil

    copy = tmp_path / "quick"
    shutil.copytree(quick_run, copy, symlinks=True)
    (copy / "results/models/5/training.csv").unlink()
    result = run_snakemake(copy, "-n", configfiles=[copy / "study.yaml", QUICK], check=False)
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert ("results/models/5: trained by an older version of this workflow, without training.csv. "
            "Retrain them: snakemake --forcerun results/models/5") in out
