"""The stored teaching notebooks stay small enough to read on GitHub and to clone quickly."""
import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 6


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_holds_no_saved_widget_state_and_stays_small(path):
    notebook = json.loads(path.read_text())
    # A saved FigureWidget state carries the whole plotly.js bundle (5 MB each); build.py must not store it.
    assert "widgets" not in notebook["metadata"], f"{path.name} stores widget state"
    assert path.stat().st_size < 3_000_000, f"{path.name} is {path.stat().st_size / 1e6:.1f} MB"
