"""The predictions view: the model's top-5 classes with their scores beside the map (sigmoid scores on the
multi-label shapes model, softmax on an ImageNet one), the explained class highlighted, a click explains a class;
the target drop-down names the top-1 class and its score."""
from __future__ import annotations

import numpy as np
import torch

from workbench.models.zoo import as_model_entry
from workbench.ui.figures import EXPLAINED, PREDICTED


def _scores(model, image) -> np.ndarray:
    """The model's scores on the image, computed here independently: sigmoid of each logit (multi-label)."""
    entry = as_model_entry(model)
    with torch.no_grad():
        logits = entry.module.eval()(entry.preprocess(image).to(entry.device))[0]
    return torch.sigmoid(logits).cpu().numpy() if entry.multilabel else torch.softmax(logits, -1).cpu().numpy()


def test_the_view_shows_the_top_five_scores_best_on_top_and_the_explained_class_highlighted(bench, shapes, scene):
    bars = bench.predictions.figure.data[0]
    scores = _scores(shapes, scene.image)
    order = np.argsort(-scores)[:5]
    assert list(bars.customdata)[::-1] == order.tolist()
    np.testing.assert_allclose(list(bars.x)[::-1], scores[order], rtol=1e-5, atol=1e-6)
    assert shapes.multilabel and "sigmoid" in bench.predictions.figure.layout.title.text
    assert list(bars.marker.color) == [PREDICTED] * 4 + [EXPLAINED]     # top-1 explained, drawn on top
    assert bench.model.target.options[0][0] == f"top-1: {shapes.class_names[order[0]]} ({scores[order[0]]:.2f})"


def test_clicking_the_second_class_explains_it_and_highlights_it(bench, shapes, scene):
    first = bench.explanation
    second = int(bench.predictions.figure.data[0].customdata[-2])
    bench.predictions.choose(second)
    assert bench.wait(60)
    assert bench.state.target == second and bench.model.target.value == second
    assert bench.explanation is not first and bench.explanation.target == second
    assert list(bench.predictions.figure.data[0].marker.color) == [PREDICTED] * 3 + [EXPLAINED, PREDICTED]
    bench.predictions.choose(int(bench.predictions.figure.data[0].customdata[-1]))     # the top-1: automatic again
    assert bench.state.target is None and bench.model.target.value == -1


def test_the_default_photo_is_one_the_imagenet_model_gets_right_with_confidence():
    import workbench as wb
    from workbench.data.photos import DEFAULT_PHOTO, PHOTO_MODEL, photo_for

    model = wb.load_model(PHOTO_MODEL)
    scores = _scores(model, photo_for(DEFAULT_PHOTO, model))
    assert model.class_names[int(np.argmax(scores))] == "tiger cat"
    assert scores[281:286].sum() > 0.9          # tabby, tiger, Persian, Siamese, Egyptian cat: a cat, surely
