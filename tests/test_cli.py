"""The command line and the overlay renderer."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from workbench import cli
from workbench.render import colourise, overlay


def test_explain_writes_an_overlay_png(tmp_path, capsys):
    out = tmp_path / "heat.png"
    assert cli.main(["explain", "--image", "scene:3", "--method", "occlusion", "--param", "patch=56",
                     "--param", "stride=56", "--out", str(out)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["forward_passes"] == 17 and report["method"] == "occlusion"
    assert np.asarray(Image.open(out)).shape == (224, 224, 3)


def test_explain_writes_the_raw_heatmap(tmp_path, capsys):
    out = tmp_path / "heat.npy"
    assert cli.main(["explain", "--image", "scene:3", "--method", "gradient", "--target", "star",
                     "--out", str(out)]) == 0
    assert np.load(out).shape == (224, 224)


def test_bad_parameter_is_reported_not_raised(tmp_path, capsys):
    code = cli.main(["explain", "--image", "scene:3", "--method", "occlusion", "--param", "stride=0",
                     "--out", str(tmp_path / "x.png")])
    assert code == 2 and "stride: expected an integer >= 1" in capsys.readouterr().err


def test_methods_lists_every_method(capsys):
    import workbench as wb

    assert cli.main(["methods"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in wb.methods())


def test_colour_tables_pass_through_their_anchors_and_are_read_only():
    from workbench.render import _ANCHORS, TABLE_SIZE, colour_table

    for name, anchors in _ANCHORS.items():
        table = colour_table(name)
        assert table.shape == (TABLE_SIZE, 3) and table.dtype == np.uint8 and not table.flags.writeable
        for position, colour in anchors:
            assert tuple(table[round(position * (TABLE_SIZE - 1))]) == colour
        assert (np.abs(np.diff(table.astype(int), axis=0)) <= 4).all()   # linear between anchors: small steps
    with pytest.raises(ValueError, match="cmap: expected one of"):
        colour_table("jet")


def test_colour_maps():
    signed = colourise(np.array([[-1.0, 0.0, 1.0]]))
    assert tuple(signed[0, 1]) == (247, 247, 247)        # zero is white on the diverging map
    assert signed[0, 0, 2] > signed[0, 0, 0] and signed[0, 2, 0] > signed[0, 2, 2]  # blue < 0 < red
    image = np.zeros((1, 3, 3), np.uint8)
    assert (overlay(image, np.array([[0.0, 0.5, 1.0]]), opacity=0.0) == 0).all()
    with pytest.raises(ValueError, match="opacity"):
        overlay(image, np.zeros((1, 3)), opacity=2)
