"""One progress/cancel contract (workbench.progress) for every long-running public function: each takes
``progress`` and ``cancel``, reports ``(done, total)`` with ``done`` rising to ``total``, stops on a set cancel
event with ``workbench.Cancelled`` (reporting nothing more) and names a bad argument. Tested as a class, on the
shapes model at 56 px."""
from __future__ import annotations

import threading

import pytest

import workbench as wb
from workbench.analysis.ablation_ca import ablation_ca, ablation_ca_sweep
from workbench.evaluation import Item, run_evaluation
from workbench.progress import Controls

OCCLUSION = {"patch": 28, "stride": 14}


@pytest.fixture(scope="module")
def images():
    return [wb.data.make_scene((777, i)).image[::4, ::4] for i in range(3)]   # 56 x 56


def _explanation(model, image):
    return wb.explain(model, image, "occlusion", **OCCLUSION)


# name -> call(model, images, tmp_path, progress, cancel); each makes at least two progress reports
CALLS = {
    "explain": lambda m, ims, tmp, p, c: wb.explain(m, ims[0], "occlusion", batch_size=2, progress=p, cancel=c,
                                                    **OCCLUSION),
    "explain[mask learning]": lambda m, ims, tmp, p, c: wb.explain(m, ims[0], "meaningful_perturbation",
                                                                   iterations=3, progress=p, cancel=c),
    "explain_batch[batched]": lambda m, ims, tmp, p, c: wb.explain_batch(m, ims, "gradient", batch_size=1,
                                                                         progress=p, cancel=c),
    "explain_batch[per image]": lambda m, ims, tmp, p, c: wb.explain_batch(m, ims[:2], "occlusion", progress=p,
                                                                           cancel=c, **OCCLUSION),
    "perturbation_curve": lambda m, ims, tmp, p, c: wb.perturbation_curve(
        m, ims[0], _explanation(m, ims[0]), region=14, steps=6, repeats=2, batch_size=4, progress=p, cancel=c),
    "evaluate": lambda m, ims, tmp, p, c: wb.evaluate(m, ims[0], _explanation(m, ims[0]), region=14, steps=4,
                                                      batch_size=4, progress=p, cancel=c),
    "run_evaluation": lambda m, ims, tmp, p, c: run_evaluation(
        m, [Item(image_id=f"i{i}", source=im, targets=(0,)) for i, im in enumerate(ims[:2])], ["gradient"],
        tmp / "r.csv", metrics=("passes",), progress=p, cancel=c),
    "sweep": lambda m, ims, tmp, p, c: wb.sweep(m, ims[:1], "occlusion", "stride", [14, 28], metrics=("passes",),
                                                params={"patch": 28}, progress=p, cancel=c),
    "sanity_check": lambda m, ims, tmp, p, c: wb.sanity_check(m, ims[0], "gradient", progress=p, cancel=c),
    "spray": lambda m, ims, tmp, p, c: wb.spray(m, ims, 0, method="gradient", size=4, k=2, layout=False,
                                                batch_size=1, progress=p, cancel=c),
    "ablation_ca": lambda m, ims, tmp, p, c: ablation_ca(m, ims[0], n_segments=6, contexts=8, batch_size=4,
                                                         progress=p, cancel=c),
    "ablation_ca_sweep": lambda m, ims, tmp, p, c: ablation_ca_sweep(m, ims[0], n_segments=[4, 6], contexts=8,
                                                                     progress=p, cancel=c),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_progress_rises_to_its_total(name, shapes, images, tmp_path):
    seen: list[tuple[int, int]] = []
    CALLS[name](shapes, images, tmp_path, lambda done, total: seen.append((done, total)), threading.Event())
    done = [d for d, _ in seen]
    assert len(seen) >= 2, seen
    assert done == sorted(done), seen                       # monotonic
    assert all(0 < d <= t for d, t in seen), seen
    assert seen[-1][0] == seen[-1][1], seen                 # ends at its total


@pytest.mark.parametrize("name", sorted(CALLS))
def test_cancel_stops_with_the_named_exception(name, shapes, images, tmp_path):
    cancel = threading.Event()
    seen: list[tuple[int, int]] = []

    def progress(done, total):
        seen.append((done, total))
        cancel.set()                                        # cancel after the first unit of work

    with pytest.raises(wb.Cancelled):
        CALLS[name](shapes, images, tmp_path, progress, cancel)
    assert len(seen) == 1, seen                             # stopped at the next check


@pytest.mark.parametrize("name", sorted(CALLS))
def test_bad_progress_and_cancel_are_named(name, shapes, images, tmp_path):
    with pytest.raises(TypeError, match="progress"):
        CALLS[name](shapes, images, tmp_path, 3, None)
    with pytest.raises(TypeError, match="cancel"):
        CALLS[name](shapes, images, tmp_path, None, True)


def test_progress_true_draws_a_bar_and_false_nothing(capsys):
    with Controls(True, desc="work") as controls:
        controls.report(1, 4)
        controls.report(4, 4)
    err = capsys.readouterr().err
    assert "work" in err and "4/4" in err
    with Controls(False) as controls:
        controls.report(4, 4)
    assert capsys.readouterr().err == ""
    assert not Controls(False).reporting and Controls(True).reporting
