from mnist_study import io
from mnist_study.logs import redirect_to_log
from mnist_study.visualize import Ascent, class_means, deep_dream, first_member, logits_of

with redirect_to_log(snakemake.log[0]):
    spec, seed, model = first_member(snakemake.input.weights)
    data = io.load_torch(snakemake.input.data)
    dreams = deep_dream(model, Ascent(**snakemake.params.ascent))
    means = class_means(data["train_images"], data["train_labels"])
    io.save_npz(snakemake.output[0], **{k: x.numpy() for k, x in dreams.items()},
                **{f"logits_{k}": logits_of(model, x.reshape(-1, 28, 28)).numpy() for k, x in dreams.items()},
                class_means=means.numpy(), mean_all=(data["train_images"].float().mean(0) / 255).numpy())
