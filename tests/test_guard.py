"""Nothing the user passed is changed: module flags, requires_grad, grads, hooks, weights and the image,
also when the call raises."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import workbench as wb
from conftest import RaisingModel, assert_same_state, model_state


def _prepare(module):
    """A module in train mode with a frozen layer, a stale grad and a user hook, as users leave them."""
    module.train()
    params = list(module.parameters())
    params[0].requires_grad_(False)
    params[-1].grad = torch.ones_like(params[-1])
    seen = []
    handle = module.register_forward_hook(lambda m, i, o: seen.append(1))
    return handle, seen


def test_explain_leaves_model_and_image_unchanged(scene):
    entry = wb.load_model("shapes", device="cpu")
    handle, seen = _prepare(entry.module)
    before = model_state(entry.module)
    image = scene.image.copy()
    wb.explain(entry, image, "occlusion", patch=56, stride=56)
    assert_same_state(before, model_state(entry.module))
    assert np.array_equal(image, scene.image)
    assert seen  # the user's hook stayed registered and ran
    handle.remove()


def test_model_in_eval_mode_during_the_call(scene):
    """BatchNorm must use running statistics: the heatmap is the same whether the user left train mode on."""
    entry = wb.load_model("shapes", device="cpu")
    e_eval = wb.explain(entry, scene.image, "occlusion", patch=56, stride=56)
    entry.module.train()
    e_train = wb.explain(entry, scene.image, "occlusion", patch=56, stride=56)
    assert entry.module.training
    np.testing.assert_array_equal(e_eval.heatmap, e_train.heatmap)


@pytest.mark.parametrize("ok_calls", [0, 2])  # fails on the clean pass / mid-run
def test_state_restored_when_the_model_raises(ok_calls):
    model = RaisingModel(ok_calls=ok_calls)
    handle, _ = _prepare(model)
    before = model_state(model)
    image = torch.rand(3, 16, 16)
    copy = image.clone()
    with pytest.raises(RuntimeError, match="model failed on purpose"):
        wb.explain(model, image, "occlusion", patch=4, stride=4, batch_size=1)
    assert_same_state(before, model_state(model))
    assert torch.equal(image, copy)
    handle.remove()


def test_tensor_input_keeps_requires_grad():
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 8 * 8, 2))
    image = torch.rand(3, 8, 8, requires_grad=True)
    wb.explain(model, image, "occlusion", patch=4, stride=4)
    assert image.requires_grad and image.grad is None
