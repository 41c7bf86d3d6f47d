from mnist_study import files
from mnist_study.data import read_dataset
from mnist_study.inspection.visualize import Ascent, border_analysis, first_member
from mnist_study.logs import redirect_to_log
from mnist_study.train.outcome import trained_model_file

with redirect_to_log(snakemake.log[0]):
    spec, seed, model = first_member(trained_model_file(snakemake.input.model, "weights"))
    control_spec, control_seed, control = first_member(snakemake.input.control)
    data = read_dataset(snakemake.input.data, as_torch=True)
    maps, numbers = border_analysis(model, spec, seed, control, control_spec, control_seed, data,
                                    Ascent(**snakemake.params.ascent))
    numbers["control_weight_decay"] = control_spec.weight_decay
    files.save_npz(snakemake.output.maps, **maps)
    files.write_json(numbers, snakemake.output.summary)
