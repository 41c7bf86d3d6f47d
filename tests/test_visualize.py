"""Feature visualization: render raises its objective; regularizers change the result; the
border analysis finds untouched weights."""

import torch

from mnist_study.inspection import visualize as v
from mnist_study.networks import Network
from mnist_study.spec import ModelSpec
from mnist_study.train.engine import Member, train

SPEC = ModelSpec(hidden=(32,), epochs=2, batch_size=32, seeds=(0,), device="cpu")


def tiny_data(n=400, seed=0):
    """Digits-like blobs: class c lights a horizontal band at row 4 + 2c; a 3-pixel frame is
    never lit (like MNIST's border)."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 10
    images = torch.zeros(n, 28, 28)
    for i, c in enumerate(labels.tolist()):
        images[i, 4 + 2 * c:6 + 2 * c, 4:24] = 200 + 55 * torch.rand(1, generator=g)
    return {"train_images": images.to(torch.uint8), "train_labels": labels,
            "test_images": images.to(torch.uint8)[:100], "test_labels": labels[:100]}


_cache = {}


def trained(weight_decay=0.0):
    if weight_decay not in _cache:
        spec = ModelSpec(**{**SPEC.to_dict(), "weight_decay": weight_decay})
        results, _ = train(spec, [Member(0, 1e-2)], tiny_data(), log=lambda s: None)
        net = Network(spec)
        net.load_state_dict(results[0].state_dict)
        _cache[weight_decay] = (spec, net.eval().requires_grad_(False))
    return _cache[weight_decay]


def test_class_maximization_raises_the_target_logit():
    spec, net = trained()
    start = v.logits_of(net, torch.full((10, 28, 28), 0.5)).diagonal()
    x = v.class_maximization(net, v.Ascent(steps=30, lr=0.05))
    after = v.logits_of(net, x).diagonal()
    assert (after > start + 1.0).all()
    assert x.min() >= 0 and x.max() <= 1


def test_unclamped_ascent_leaves_the_pixel_range_and_clamped_ends_at_bounds():
    spec, net = trained()
    a = v.Ascent(steps=60, lr=0.05)
    clamped, free = v.class_maximization(net, a), v.class_maximization(net, a, clamp=False)
    assert free.max() > 1.5 or free.min() < -0.5
    assert v.fraction_at_bounds(clamped) > 0.5


def test_class_maximization_and_dream_in_one_batch_end_where_each_would_alone():
    spec, net = trained()
    a = v.Ascent(steps=30, lr=0.05)
    together = v.class_maximization_and_dream(net, a)
    for joint, alone in zip(together, (v.class_maximization(net, a), v.class_dream(net, a))):
        # the same ascent up to rounding: a batch of 20 sums its products in another order
        torch.testing.assert_close(joint, alone, rtol=0, atol=1e-4)
    assert not torch.allclose(*together)  # two different objectives, not one twice


def test_render_is_pure_and_deterministic():
    spec, net = trained()
    before = {k: t.clone() for k, t in net.state_dict().items()}
    obj, tr = v.class_logit(range(10)), (v.jitter(2),)
    x1 = v.render(net, obj, v.Pixels(), tr, steps=5, seed=3)
    x2 = v.render(net, obj, v.Pixels(), tr, steps=5, seed=3)
    assert torch.equal(x1, x2)
    assert all(torch.equal(before[k], t) for k, t in net.state_dict().items())


def test_regularized_variants_differ_from_naive():
    spec, net = trained()
    variants = v.regularized_variants(net, v.Ascent(steps=30), l2_weight=0.5, tv_weight=0.5,
                                      blur_sigma=1.0, jitter_px=2)
    naive = variants.pop("naive")
    for name, x in variants.items():
        assert (x - naive).abs().mean() > 0.01, name
    # the L2 penalty costs ink: less total ink than the naive render
    assert variants["L2 penalty"].sum() < naive.sum()
    # total variation makes neighbouring pixels more alike
    tv = v.total_variation()
    assert tv(None, variants["total variation"]).mean() < tv(None, naive).mean()


def test_objectives_compose():
    z, x = torch.randn(3, 10), torch.rand(3, 28, 28)
    obj = v.class_logit([1, 2, 3]) - 0.5 * v.l2()
    expected = z[[0, 1, 2], [1, 2, 3]] - 0.5 * x.pow(2).sum((1, 2))
    torch.testing.assert_close(obj(z, x), expected)


def test_border_analysis_finds_untouched_weights_and_controls_remove_the_frame():
    data = tiny_data()
    spec, net = trained()
    wd_spec, wd_net = trained(weight_decay=1e-2)
    maps, numbers = v.border_analysis(net, spec, 0, wd_net, wd_spec, 0, data, v.Ascent(steps=15))
    never = torch.as_tensor(maps["never"])
    assert numbers["n_never_used"] == int(never.sum()) > 0
    # no data gradient -> Adam never touches those weights
    assert numbers["n_never_used_unchanged"] == numbers["n_never_used"]
    assert numbers["renders"]["model"]["never_used_moved"] > 0.9
    # cut inputs: same accuracy, and the never-used pixels keep the start value
    assert numbers["accuracy"]["inputs cut"] == numbers["accuracy"]["model"]
    assert numbers["renders"]["inputs cut"]["never_used_moved"] == 0
    assert numbers["control_norm_never_used"] < 0.25 * numbers["norm_never_used"]
    assert maps["usage"].shape == (28, 28)
