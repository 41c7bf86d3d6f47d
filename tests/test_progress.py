"""What a run says at its start: the plan's expected wall time, from the last run's job times or
from FLOP counts at the benchmark's rate, and which of them it used."""

import pytest

from mnist_study.progress import (
    OTHER_JOB_S,
    TRAINING_STARTUP_S,
    WALL_OVER_FLOP_FLOOR,
    PlannedJob,
    duration_text,
    expected_wall_time,
    measured_rate,
    plan_text,
)

ROOF = 200e9  # FLOP/s on 2 threads, as the fake benchmark below records it
PER_THREAD = ROOF / 2 / WALL_OVER_FLOP_FLOOR


@pytest.fixture
def benchmarks(tmp_path):
    folder = tmp_path / "benchmarks"
    folder.mkdir()
    (folder / "results.csv").write_text("metric,value,unit,target,met\n"
                                        "roof_before,190.0,GFLOP/s,,\nroof,200.0,GFLOP/s,,\n")
    (folder / "results.md").write_text("# Training-path benchmark\n\n## Machine\n\n- cpu: AMD EPYC\n"
                                       "- cores: 2\n- torch threads: 2\n"
                                       "- date: 2026-12-04T19:59:50+00:00\n")
    return folder


def job_log(path, *runs):
    """A job log holding these runs' [timing] lines, oldest first (dicts: start-up, flops, work)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for run in runs:
        lines.append(f"[timing] start-up {run['start-up']} s")
        lines += [f"[timing] flops {run['flops']:.6g}"] if "flops" in run else []
        lines.append("some output of the job")
        lines += [f"[timing] work {run['work']} s"] if "work" in run else []
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_without_a_previous_run_training_is_timed_by_its_flops_at_the_benchmark_rate(
        tmp_path, benchmarks):
    planned = [PlannedJob("train_model", str(tmp_path / "logs/train_model/0.log"), 55 * PER_THREAD),
               PlannedJob("train_model", str(tmp_path / "logs/train_model/1.log"), 50 * PER_THREAD),
               PlannedJob("plot_roc", str(tmp_path / "logs/plot_roc.log")),
               PlannedJob("analyze_roc", None)]
    e = expected_wall_time(planned, cores=2, rate=measured_rate(benchmarks))
    training = [TRAINING_STARTUP_S + 55, TRAINING_STARTUP_S + 50]
    # the jobs' sum over the cores is longer than the longest job: it sets the wall time
    assert e.wall_s == pytest.approx((sum(training) + 2 * OTHER_JOB_S) / 2)
    assert (e.from_last_run, e.from_flops, e.other) == (0, 2, 2)
    text = plan_text(e)
    assert text.startswith(f"Expected wall time: about {duration_text(e.wall_s)} (4 jobs on 2 cores)")
    assert ("from FLOP counts at 200 GFLOP/s measured by `make bench` (2026-12-04, AMD EPYC, "
            "2 threads), at 1.8x that floor as the default study ran (2 training jobs)") in text
    assert "3 s for each other job (2)" in text and "last run" not in text
    assert len(text.splitlines()) == 2


def test_with_a_previous_run_each_job_takes_its_last_time_training_scaled_by_its_flops(
        tmp_path, benchmarks):
    # model 0 ran twice before: the second run's numbers count; it now trains 3x the FLOPs
    # (a study grown from the quick configuration in the same folder)
    model = job_log(tmp_path / "logs/train_model/0.log",
                    {"start-up": 9.0, "flops": 1e9, "work": 99.0},
                    {"start-up": 2.0, "flops": 1e10, "work": 10.0})
    plot = job_log(tmp_path / "logs/plot_roc.log", {"start-up": 1.0, "work": 4.0})
    planned = [PlannedJob("train_model", model, 3e10), PlannedJob("plot_roc", plot)]
    e = expected_wall_time(planned, cores=2, rate=measured_rate(benchmarks))
    assert (e.from_last_run, e.from_flops, e.other) == (2, 0, 0)
    # the longest job is longer than the jobs' sum over the cores: it sets the wall time
    assert e.wall_s == pytest.approx(2.0 + 3 * 10.0)
    text = plan_text(e)
    assert text.endswith("from the last run's job times.") and "FLOP" not in text


def test_a_job_whose_last_run_did_not_finish_is_timed_as_one_never_run(tmp_path, benchmarks):
    failed = job_log(tmp_path / "logs/train_model/0.log",
                     {"start-up": 2.0, "flops": 1e10, "work": 10.0},
                     {"start-up": 2.0, "flops": 1e10})  # the last run died mid-way
    done = job_log(tmp_path / "logs/plot_roc.log", {"start-up": 1.0, "work": 1.0})
    e = expected_wall_time([PlannedJob("train_model", failed, 10 * PER_THREAD),
                            PlannedJob("plot_roc", done)], cores=1, rate=measured_rate(benchmarks))
    assert (e.from_last_run, e.from_flops, e.other) == (1, 1, 0)
    assert e.wall_s == pytest.approx(TRAINING_STARTUP_S + 10 + 2.0)
    text = plan_text(e)
    assert "the last run's job times (1 job); FLOP counts at" in text
    assert "(1 training job)" in text and "on 1 core)" in text


def test_without_a_benchmark_the_rate_is_said_to_be_a_guess(tmp_path):
    rate = measured_rate(tmp_path / "no-benchmarks")
    assert "a guess" in rate.source and "make bench" in rate.source
    e = expected_wall_time([PlannedJob("train_model", None, 1e12)], cores=2, rate=rate)
    assert "a guess" in plan_text(e)


@pytest.mark.parametrize("seconds, text", [(4, "4 s"), (89, "89 s"), (90, "2 min"),
                                           (4666, "78 min"), (5400, "1 h 30 min")])
def test_durations_read_as_a_person_says_them(seconds, text):
    assert duration_text(seconds) == text
