"""Class activation maps (issue 35) against pytorch-grad-cam 1.5 (the ``grad-cam`` package, module
``pytorch_grad_cam``), on models no test trains: random-weight torchvision ResNet-18 and VGG-16 and the shipped
EfficientNet-Lite0, three targets each. Each map is compared twice: the raw ``h x w`` map (ReLU'd, before
upsampling) with pytorch-grad-cam's ``get_cam_image`` on the activations and gradients it captured, and the full
map after pytorch-grad-cam's own upsampling and normalisation with its ``__call__`` output; the largest difference
is at most 1e-4 of the largest value. Our bilinear upsampling is compared with ``cv2.resize`` too.

Image sizes keep the 2-core budget: 224 px for ResNet-18 and EfficientNet-Lite0, 112 px for VGG-16 (its last
block then gives 3 x 3 maps); Score-CAM (one pass per channel) reads an early layer of 16-64 channels on 64-112 px
images.
"""
from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest
import torch
import torchvision
from conftest import assert_same_state, model_state
from pytorch_grad_cam import EigenCAM, GradCAM, GradCAMPlusPlus, HiResCAM, LayerCAM, ScoreCAM
from pytorch_grad_cam.utils.image import scale_cam_image
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from pytorch_grad_cam.utils.svd_on_activations import get_2d_projection, get_2d_projection_with_sign_correction

import workbench as wb
from workbench.explainers.cam_layer import default_layer, feature_map_layers

GRADIENT_CAMS = {"grad_cam": GradCAM, "grad_cam_plus_plus": GradCAMPlusPlus, "hirescam": HiResCAM,
                 "layer_cam": LayerCAM}
TOLERANCE = 1e-4


def random_model(build):
    torch.manual_seed(0)
    return build(weights=None).eval()


@pytest.fixture(scope="module")
def models():
    """name -> (module, normalised input of one image (1,3,S,S), the image in [0,1], default layer name)."""
    out = {}
    effnet = wb.load_model("efficientnet_lite0", device="cpu")
    for name, module, size, entry in (("resnet18", random_model(torchvision.models.resnet18), 224, None),
                                      ("vgg16", random_model(torchvision.models.vgg16), 112, None),
                                      ("efficientnet_lite0", effnet.module, 224, effnet)):
        image = torch.rand(3, size, size, generator=torch.Generator().manual_seed(1))
        model = entry if entry is not None else module
        x = entry.preprocess(image) if entry is not None else image[None]
        out[name] = (model, module, image, x)
    return out


def normalised_like_reference(cam: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """pytorch-grad-cam's pipeline on one ReLU'd ``h x w`` map: scale to [0,1], ``cv2.resize``, ReLU, scale."""
    return scale_cam_image(np.maximum(scale_cam_image(cam[None], size[::-1]), 0))[0]


def assert_close(ours: np.ndarray, reference: np.ndarray, what: str) -> None:
    largest = np.abs(reference).max()
    difference = np.abs(ours - reference).max()
    assert largest > 0 and difference <= TOLERANCE * largest, f"{what}: {difference:.3g} of {largest:.3g}"


def top_targets(module, x) -> list[int]:
    with torch.no_grad():
        order = module(x)[0].argsort(descending=True).tolist()
    return [order[0], order[1], order[len(order) // 2]]


@pytest.mark.parametrize("model_name", ["resnet18", "vgg16", "efficientnet_lite0"])
def test_gradient_cams_equal_pytorch_grad_cam(models, model_name):
    model, module, image, x = models[model_name]
    size = tuple(image.shape[1:])
    layer_name = default_layer(module, size)
    assert layer_name == {"resnet18": "layer4", "vgg16": "features", "efficientnet_lite0": "head_act"}[model_name]
    layer = module.get_submodule(layer_name)
    targets = top_targets(module, x)
    batch = x.expand(len(targets), -1, -1, -1).contiguous()
    wanted = [ClassifierOutputTarget(t) for t in targets]
    # pytorch-grad-cam: one forward and backward pass, shared by its four gradient CAMs
    first = GradCAM(module, [layer])
    full = {"grad_cam": first(batch, wanted)}
    activations = first.activations_and_grads.activations[0].numpy()
    gradients = first.activations_and_grads.gradients[0].numpy()
    raw, kept = {}, []      # kept alive: a BaseCAM's __del__ would release the shared captures
    for name, cls in GRADIENT_CAMS.items():
        reference = first if name == "grad_cam" else cls(module, [layer])
        kept.append(reference)
        if reference is not first:
            reference.activations_and_grads.release()
            reference.activations_and_grads = first.activations_and_grads
            full[name] = reference.aggregate_multi_layers(reference.compute_cam_per_layer(batch, wanted, False))
        raw[name] = np.maximum(reference.get_cam_image(batch, layer, wanted, activations, gradients, False), 0)
    first.activations_and_grads.release()
    module.zero_grad(set_to_none=True)
    for name in GRADIENT_CAMS:
        for i, target in enumerate(targets):
            e = wb.explain(model, image, name, target=target)
            what = f"{name} {model_name} target {target}"
            assert e.extras["layer"] == layer_name and e.target == target and e.heatmap.shape == size
            assert (e.cost.forward_passes, e.cost.backward_passes) == (1, 1)
            assert_close(e.extras["cam"], raw[name][i], what + " raw")
            assert_close(normalised_like_reference(e.extras["cam"], size), full[name][i], what + " normalised")
            assert_close(e.heatmap, cv2.resize(e.extras["cam"], size[::-1]), what + " upsampled")
        if name == "grad_cam":   # the batched run (SpRAy) gives each image the map it gets alone
            maps = wb.explain_batch(model, [image, image], name, target=targets[1])
            np.testing.assert_allclose(maps[1], wb.explain(model, image, name, target=targets[1]).heatmap,
                                       rtol=1e-4, atol=1e-5 * np.abs(maps).max())


SCORE_LAYERS = {"resnet18": ("layer1", 112), "vgg16": ("features.4", 64), "efficientnet_lite0": ("_blocks.0", 112)}


@pytest.mark.slow
@pytest.mark.parametrize("model_name", ["resnet18", "vgg16", "efficientnet_lite0"])
def test_score_cam_equals_pytorch_grad_cam(models, model_name):
    model, module, _, _ = models[model_name]
    layer_name, side = SCORE_LAYERS[model_name]
    image = torch.rand(3, side, side, generator=torch.Generator().manual_seed(2))
    x = model.preprocess(image) if isinstance(model, wb.ModelEntry) else image[None]
    layer = module.get_submodule(layer_name)
    channels = dict((l.name, l.shape) for l in feature_map_layers(module, (side, side)))[layer_name][0]
    targets = top_targets(module, x)
    with ScoreCAM(module, [layer]) as reference:
        reference.batch_size = 8
        full = reference(x.expand(len(targets), -1, -1, -1).contiguous(), [ClassifierOutputTarget(t) for t in targets])
    for i, target in enumerate(targets):
        e = wb.explain(model, image, "score_cam", target=target, layer=layer_name)
        assert e.cost.forward_passes == 1 + channels and e.extras["layer"] == layer_name
        assert_close(normalised_like_reference(e.extras["cam"], (side, side)), full[i],
                     f"score_cam {model_name} target {target}")


@pytest.mark.parametrize("model_name", ["resnet18", "vgg16", "efficientnet_lite0"])
def test_eigen_cam_equals_pytorch_grad_cam_up_to_the_svd_sign(models, model_name):
    model, module, image, x = models[model_name]
    size = tuple(image.shape[1:])
    layer = module.get_submodule(default_layer(module, size))
    with EigenCAM(module, [layer]) as reference:
        full = reference(x, None)[0]
        activations = reference.activations_and_grads.activations[0].numpy()
    projection = get_2d_projection(activations)[0]
    corrected = get_2d_projection_with_sign_correction(activations)[0]
    assert np.array_equal(np.abs(projection), np.abs(corrected))      # the same map up to the sign
    for target in top_targets(module, x):   # the map does not depend on the class
        e = wb.explain(model, image, "eigen_cam", target=target)
        assert e.target == target and e.cost.forward_passes == 1
        assert_close(e.extras["cam"], np.maximum(corrected, 0), f"eigen_cam {model_name} raw")
    if np.array_equal(projection, corrected):   # numpy's SVD gave the corrected sign: pytorch-grad-cam's map too
        assert_close(normalised_like_reference(e.extras["cam"], size), full, f"eigen_cam {model_name} normalised")
    maps = wb.explain_batch(model, [image], "eigen_cam")
    np.testing.assert_allclose(maps[0], e.heatmap, rtol=1e-4, atol=1e-5 * np.abs(e.heatmap).max())


def test_bad_layers_are_value_errors_naming_the_accepted_layers(models):
    _, module, image, _ = models["resnet18"]
    before = model_state(module)
    with pytest.raises(ValueError, match=r"layer: the model has no module named 'layer9'; expected 'auto' or the name "
                                         r"of a feature-map layer \(\d+\): .*layer4"):
        wb.explain(module, image, "grad_cam", layer="layer9")
    with pytest.raises(ValueError, match=r"layer: 'fc' outputs a \(1, 1000\) tensor, not an \(N, C, h, w\) feature "
                                         r"map.*expected 'auto' or .*layer4"):
        wb.explain(module, image, "grad_cam", layer="fc")
    with pytest.raises(ValueError, match=r"layer: 'avgpool' outputs a \(1, 512, 1, 1\) tensor"):
        wb.explain(module, image, "eigen_cam", layer="avgpool")
    with pytest.raises(ValueError, match=r"layer: 'layer4.1.relu' runs 2 times in one forward pass"):
        wb.explain(module, image, "layer_cam", layer="layer4.1.relu")
    with pytest.raises(ValueError, match=r"layer: expected 'auto' or the name of a module of the model, got 4.5"):
        wb.explain(module, image, "hirescam", layer=4.5)
    assert_same_state(before, model_state(module))
    names = [layer.name for layer in feature_map_layers(module, (224, 224))]
    assert {"layer1", "layer4", "layer4.1.conv2"} <= set(names) and "fc" not in names and "avgpool" not in names
    assert "layer4.1.relu" not in names           # runs twice per pass


def test_cam_leaves_the_model_as_it_was_and_names_the_layer_in_extras(shapes):
    scene = wb.data.make_scene((35, 0), size=64)
    module = shapes.module
    module.train()
    module.classifier.weight.requires_grad_(False)
    before = model_state(module)
    try:
        for name in ("grad_cam", "grad_cam_plus_plus", "hirescam", "layer_cam", "eigen_cam"):
            e = wb.explain(shapes, scene.image, name)
            assert e.extras["layer"] == "features" and e.extras["layer_requested"] == "auto"
            assert np.isfinite(e.heatmap).all() and e.heatmap.min() >= 0 and e.heatmap.max() > 0
        assert_same_state(before, model_state(module))
    finally:
        module.classifier.weight.requires_grad_(True)
        module.eval()


def test_score_cam_scores_masks_through_the_engine(shapes):
    """Counted, reported and cancellable: one pass per channel of the layer after the clean pass."""
    scene = wb.data.make_scene((35, 1), size=64)
    layer = "features.2"
    channels = dict((l.name, l.shape) for l in feature_map_layers(shapes.module, (64, 64)))[layer][0]
    seen = []
    e = wb.explain(shapes, scene.image, "score_cam", layer=layer, batch_size=4,
                   progress=lambda done, total: seen.append((done, total)))
    assert e.cost.forward_passes == 1 + channels and e.cost.backward_passes == 0
    assert seen[-1] == (1 + channels, 1 + channels) and len(seen) >= channels // 4
    cancel = threading.Event()

    def stop_after_first_batch(done, total):
        if done > 1:
            cancel.set()

    with pytest.raises(wb.Cancelled):
        wb.explain(shapes, scene.image, "score_cam", layer=layer, batch_size=4, cancel=cancel,
                   progress=stop_after_first_batch)


def test_cams_go_through_every_entry_point(shapes, tmp_path, capsys):
    """SpRAy (batched), evaluation, a sweep over layers, the sanity check and the CLI take a CAM as any method."""
    import json

    from workbench import cli
    from workbench.evaluation import Item

    scenes = [wb.data.make_scene((35, i), size=64) for i in range(3)]
    pictures = [s.image for s in scenes]
    maps = wb.explain_batch(shapes, pictures, "grad_cam", target=0, layer="features.8")
    alone = np.stack([wb.explain(shapes, p, "grad_cam", target=0, layer="features.8").heatmap for p in pictures])
    np.testing.assert_allclose(maps, alone, rtol=1e-4, atol=1e-6 * np.abs(alone).max())
    result = wb.spray(shapes, pictures, 0, method="layer_cam", size=8, k=2, n_clusters=2, layout=False)
    assert result.heatmaps.shape == (3, 8, 8) and np.isfinite(result.heatmaps).all()
    scene = scenes[0]
    targets = tuple(sorted(set(scene.labels)))[:1]
    item = Item(image_id="s0", source=scene.image, targets=targets, masks={t: scene.class_mask(t) for t in targets})
    table = wb.run_evaluation(shapes, [item], ["grad_cam", "score_cam"], tmp_path / "eval.csv",
                              metrics=("aopc_morf", "pointing"), params={"score_cam": {"layer": "features.2"}},
                              steps=4, progress=False)
    assert (table["error"] == "").all() and table["value"].notna().all() and set(table["method"]) == {"grad_cam",
                                                                                                      "score_cam"}
    swept = wb.sweep(shapes, [item], "hirescam", "layer", ["features.8", "features"], metrics=("passes",),
                     keep_heatmaps=True)
    values, passes, _ = swept.series("passes")
    assert list(values) == ["features.8", "features"] and list(passes) == [2, 2]    # forward + partial backward
    sanity = wb.sanity_check(shapes, scene.image, "grad_cam")
    assert len(sanity.table) > 1
    out = tmp_path / "cam.npy"
    assert cli.main(["explain", "--image", "scene:3", "--method", "score_cam", "--param", "layer=features.2",
                     "--out", str(out)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["method"] == "score_cam" and report["forward_passes"] == 1 + 16 and np.load(out).shape == (224, 224)
