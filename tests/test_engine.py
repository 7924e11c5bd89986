"""Engine: composition, batching, pass counting, progress, cancellation, out-of-memory halving."""
from __future__ import annotations

import threading

import pytest
import torch
from torch import nn

import workbench as wb
from workbench.engine import Engine


def test_composes_mask_and_baseline_exactly():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 5 * 6, 4))
    x = torch.rand(1, 3, 5, 6)
    masks = (torch.rand(9, 1, 5, 6) > 0.5).float()
    baseline = torch.rand(1, 3, 1, 1)
    engine = Engine(model, batch_size=4)
    got = engine.score_masks(x, masks, baseline=baseline, target=2)
    with torch.no_grad():
        expected = model(x * masks + baseline * (1 - masks))[:, 2]
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-6)
    assert engine.forward_passes == 9


def test_mask_function_is_called_in_chunks_of_the_batch_size():
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 2))
    calls = []

    def masks(start, stop):
        calls.append((start, stop))
        return torch.ones(stop - start, 1, 2, 2)

    Engine(model, batch_size=3).score_masks(torch.rand(1, 3, 2, 2), masks, n=8)
    assert calls == [(0, 3), (3, 6), (6, 8)]


def test_progress_counts_increase_to_the_total():
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 2))
    seen = []
    Engine(model, batch_size=4, progress=lambda done, total: seen.append((done, total))).score_masks(
        torch.rand(1, 3, 2, 2), torch.ones(10, 1, 2, 2))
    assert [d for d, _ in seen] == [4, 8, 10]
    assert all(t == 10 for _, t in seen)


def test_explain_progress_ends_at_total(shapes, scene):
    seen = []
    e = wb.explain(shapes, scene.image, "occlusion", patch=32, stride=16, batch_size=16,
                   progress=lambda d, t: seen.append((d, t)))
    done = [d for d, _ in seen]
    assert done == sorted(done) and len(set(done)) == len(done)
    assert seen[-1][0] == seen[-1][1] == e.cost.forward_passes


def test_cancel_stops_within_one_batch(shapes, scene):
    cancel = threading.Event()
    batches = []

    def progress(done, total):
        batches.append(done)
        if len(batches) == 3:
            cancel.set()

    with pytest.raises(wb.Cancelled):
        wb.explain(shapes, scene.image, "occlusion", patch=16, stride=8, batch_size=8, progress=progress,
                   cancel=cancel)
    assert len(batches) <= 4  # the batch running when cancel was set, at most one more


def test_cancel_set_before_start_runs_nothing():
    cancel = threading.Event()
    cancel.set()
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 2))
    engine = Engine(model, cancel=cancel)
    with pytest.raises(wb.Cancelled):
        engine.score_masks(torch.rand(1, 3, 2, 2), torch.ones(5, 1, 2, 2))
    assert engine.forward_passes == 0


class RunsOutOfMemory(nn.Module):
    """Raises an out-of-memory error for batches above ``limit`` images."""

    def __init__(self, limit):
        super().__init__()
        self.linear = nn.Linear(12, 3)
        self.limit = limit
        self.sizes = []

    def forward(self, x):
        self.sizes.append(x.shape[0])
        if x.shape[0] > self.limit:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return self.linear(x.flatten(1))


def test_out_of_memory_halves_the_batch_and_gives_the_same_scores():
    torch.manual_seed(0)
    model = RunsOutOfMemory(limit=5)
    x = torch.rand(1, 3, 2, 2)
    masks = torch.rand(23, 1, 2, 2)
    engine = Engine(model, batch_size=16)
    got = engine.score_masks(x, masks, target=1)
    with torch.no_grad():
        expected = model.linear((x * masks).flatten(1))[:, 1]
    torch.testing.assert_close(got, expected)
    assert model.sizes == [16, 8, 4, 4, 4, 4, 4, 3]  # 16 and 8 fail, then 4 per batch: 4*5 + 3 = 23
    assert engine.forward_passes == 23


def test_errors_that_are_not_out_of_memory_propagate():
    class Broken(nn.Module):
        def forward(self, x):
            raise RuntimeError("shape mismatch")

    with pytest.raises(RuntimeError, match="shape mismatch"):
        Engine(Broken(), batch_size=4).score_masks(torch.rand(1, 3, 2, 2), torch.ones(3, 1, 2, 2))


def test_default_batch_size_on_cpu_scales_with_image_size():
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 2))
    engine = Engine(model)
    assert engine.default_batch_size(torch.zeros(1, 3, 224, 224)) == 8
    assert engine.default_batch_size(torch.zeros(1, 3, 64, 64)) == 64
    assert engine.default_batch_size(torch.zeros(1, 3, 2048, 2048)) == 1


def test_bad_engine_arguments():
    model = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="batch_size"):
        Engine(model, batch_size=0)
    with pytest.raises(TypeError, match="cancel"):
        Engine(model, cancel=True)
    with pytest.raises(TypeError, match="progress"):
        Engine(model, progress=3)


def test_channels_last_only_during_the_block_also_on_error():
    from workbench.memory_format import channels_last

    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.Conv2d(4, 2, 1))
    weights = [p for p in model.parameters() if p.dim() == 4]
    before = [(p.data_ptr(), p.stride(), p.detach().clone()) for p in weights]
    x = torch.rand(2, 3, 8, 8)
    expected = model(x)
    with channels_last(model) as converted:
        assert converted and all(p.is_contiguous(memory_format=torch.channels_last) for p in weights)
        torch.testing.assert_close(model(x.contiguous(memory_format=torch.channels_last)), expected)
    with pytest.raises(RuntimeError, match="on purpose"):
        with channels_last(model):
            raise RuntimeError("on purpose")
    assert [(p.data_ptr(), p.stride()) for p in weights] == [b[:2] for b in before]
    assert all(torch.equal(p, b[2]) for p, b in zip(weights, before))
    with channels_last(torch.nn.Linear(3, 2)) as converted:    # nothing to convert
        assert not converted


@pytest.mark.parametrize("channels_last", [False, True])
def test_window_occluders_score_as_the_window_masks(shapes, scene, channels_last):
    """score_windows (the clean image copied, each window written) gives score_masks' scores for the same 0/1
    window masks: bit for bit with the default fill 0, within rounding for an image fill (x*m + b*(1-m) with
    m = 1 is b + (x - b), one rounding off x); channels-last does not change the scores."""
    from workbench.explainers.windows import WindowGrid

    x = shapes.preprocess(scene.image)
    grid = WindowGrid(224, 224, 64, 48, edges="truncate")   # 5 x 5 windows, the last ones truncated
    flat = torch.arange(grid.count)
    fill = torch.rand(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    engine = Engine(shapes.module.eval(), batch_size=8)
    with engine.channels_last(channels_last):
        for baseline, exact in ((0.0, True), (fill, False)):
            expected = engine.score_masks(x, lambda a, b: grid.keep_masks(flat[a:b]), n=grid.count,
                                          baseline=baseline, target=0)
            got = engine.score_windows(x, grid.boxes(flat), baseline, target=0)
            assert got.dtype == torch.float32
            if exact:
                assert torch.equal(got, expected)
            else:
                torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-4)
    assert engine.forward_passes == 4 * grid.count


def test_window_boxes_must_be_n_by_4():
    with pytest.raises(ValueError, match="boxes"):
        Engine(nn.Flatten()).score_windows(torch.rand(1, 3, 4, 4), torch.zeros(3, 2, dtype=torch.long))


def test_window_occluders_survive_a_model_that_writes_into_its_input():
    """The reused batch of clean copies is remade when the model changed it in place (version counter)."""
    class Overwrites(nn.Module):
        def forward(self, x):
            out = x.sum(dim=(1, 2, 3))[:, None]
            x.mul_(0)        # destroys its input after reading it
            return out

    x = torch.rand(1, 3, 6, 6)
    boxes = torch.tensor([[0, 0, 2, 2], [1, 1, 3, 3], [0, 2, 6, 6], [4, 0, 6, 6], [3, 3, 4, 4]])   # (x0, y0, x1, y1)
    masks = torch.ones(5, 1, 6, 6)
    for mask, (x0, y0, x1, y1) in zip(masks, boxes.tolist()):
        mask[:, y0:y1, x0:x1] = 0
    expected = Engine(nn.Flatten(), batch_size=2).score_inputs(x * masks, 5)   # ... by a model that does not
    got = Engine(Overwrites(), batch_size=2).score_windows(x, boxes, 0.0)
    torch.testing.assert_close(got[:, 0], expected.sum(1), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("channels_last", [False, True])
def test_window_occluders_composed_by_masks_equal_those_written_image_by_image(channels_last):
    """The CUDA composition (one ``where`` of masks built on the device a batch) feeds the model the same
    images, bit for bit and in the same layout, as the CPU's writes image by image; forced here on the CPU."""
    class Records(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.seen = nn.Conv2d(3, 2, 1), []

        def forward(self, x):
            self.seen.append((x.clone(), x.is_contiguous(memory_format=torch.channels_last)))
            return self.conv(x).mean(dim=(2, 3))

    x = torch.rand(1, 3, 9, 11, generator=torch.Generator().manual_seed(1))
    fill = torch.rand(1, 3, 9, 11, generator=torch.Generator().manual_seed(2))
    boxes = torch.tensor([[0, 0, 2, 2], [1, 1, 3, 3], [0, 2, 11, 9], [4, 0, 11, 9], [3, 3, 4, 4], [10, 7, 11, 9]])
    fed, model = {}, Records()
    for by_masks in (False, True):
        model.seen = []
        engine = Engine(model, batch_size=4)
        engine.windows_by_masks = by_masks
        with engine.channels_last(channels_last):
            scores = engine.score_windows(x, boxes, fill, target=1)
        fed[by_masks] = (model.seen, scores)
    (written, written_scores), (masked, masked_scores) = fed[False], fed[True]
    assert len(written) == len(masked) == 2
    for (a, a_layout), (b, b_layout) in zip(written, masked):
        assert torch.equal(a, b) and a_layout == b_layout == channels_last
    assert torch.equal(written_scores, masked_scores)
    expected = x.expand(6, -1, -1, -1).clone()
    for image, (x0, y0, x1, y1) in zip(expected, boxes.tolist()):
        image[:, y0:y1, x0:x1] = fill[0, :, y0:y1, x0:x1]
    assert torch.equal(torch.cat([b for b, _ in masked]), expected)


def test_window_occluders_are_composed_by_masks_on_cuda_only():
    assert not Engine(nn.Flatten(), device="cpu").windows_by_masks
    assert Engine(nn.Flatten(), device="meta").windows_by_masks is False


def test_the_cuda_batch_size_is_probed_once_per_image_shape():
    """FMO's levels call the engine once each: the memory probe (a forward pass of two images and a device
    synchronisation) runs once per image shape. The device is named CUDA and the probe counted (no GPU here)."""
    engine = Engine(nn.Flatten(), device="cpu")
    engine.device = torch.device("cuda")
    probed = []
    engine._cuda_batch_size = lambda example, per_image: probed.append(tuple(example.shape)) or 100 + len(probed)
    assert engine.default_batch_size(torch.zeros(1, 3, 8, 8)) == 101
    assert engine.default_batch_size(torch.zeros(2, 3, 8, 8)) == 101
    assert engine.default_batch_size(torch.zeros(1, 3, 4, 4)) == 102
    assert probed == [(1, 3, 8, 8), (1, 3, 4, 4)]
