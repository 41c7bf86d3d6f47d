from mnist_study import files
from mnist_study.data import read_dataset
from mnist_study.logs import redirect_to_log
from mnist_study.report import provenance

with redirect_to_log(snakemake.log[0]):
    p = snakemake.params
    data = read_dataset(snakemake.input.data)
    times = provenance.job_times(p.benchmarks, p.runs)
    files.write_json({
        "machine": provenance.machine(),
        "packages": provenance.package_versions(),
        "git_revision": provenance.git_revision(p.repo),
        "config_digest": p.config_digest,
        "n_train": len(data["train_labels"]),
        "n_test": len(data["test_labels"]),
        "jobs": times.to_dict(orient="records"),
        "training": provenance.training_settings(times),
        "total_job_s": float(times["wall_s"].sum()),  # of the recorded jobs
        "n_unrecorded": int((~times["recorded"]).sum()),
    }, snakemake.output.context)
