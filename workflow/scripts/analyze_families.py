from mnist_study import files
from mnist_study.evaluate import choosing, trust
from mnist_study.evaluate.metrics import by_model
from mnist_study.logs import redirect_to_log
from mnist_study.report import provenance

with redirect_to_log(snakemake.log[0]):
    p, i = snakemake.params, snakemake.input
    models = files.read_table(i.models)
    accuracies = {m: t["test_accuracy"] for m, t in by_model(files.read_table(i.metrics)).items()}
    wall = provenance.job_times(p.benchmarks).set_index("job")["wall_s"].to_dict()
    table = choosing.families_table(models, accuracies, wall, p.n_test)
    files.write_csv(table, snakemake.output.table)
    found = files.read_json(i.findings)["families"]
    pick = choosing.choice(table, found["best"], found.get("not_told_apart", []))
    # plain numbers and ids: the report formats them when it renders (report.document)
    files.write_json({"pick": pick, "level": trust.LEVEL}, snakemake.output.context)
