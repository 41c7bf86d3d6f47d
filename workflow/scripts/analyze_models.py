from mnist_study import files
from mnist_study.evaluate.metrics import by_model
from mnist_study.evaluate.tables import model_table
from mnist_study.logs import redirect_to_log
from mnist_study.spec import resolve_models

with redirect_to_log(snakemake.log[0]):
    metrics = by_model(files.read_table(snakemake.input.metrics))
    outcomes = files.read_table(snakemake.input.outcomes)
    failed = outcomes[outcomes["status"] == "failed"].set_index("model")
    table = model_table(resolve_models(snakemake.params.study), metrics,
                        failures=failed[["reason", "log"]].to_dict(orient="index"),
                        n_test=snakemake.params.n_test,
                        n_train=snakemake.params.n_train,
                        n_validation=snakemake.params.n_validation)
    files.write_csv(table, snakemake.output.table)
