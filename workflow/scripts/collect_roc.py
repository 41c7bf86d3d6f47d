from mnist_study import analysis, io
from mnist_study.logs import redirect_to_log

with redirect_to_log(snakemake.log[0]):
    per_model = {m: io.read_json(f) for m, f in zip(snakemake.params.models, snakemake.input.summaries)}
    # JSON objects are written with sorted keys; `order` keeps the config's model order.
    io.write_json({"models": per_model, "order": list(snakemake.params.models),
                   **analysis.roc_overview(per_model)}, snakemake.output[0])
