"""The notebooks' words agree with their outputs: every decimal figure a markdown cell states is one the
notebook shows (printed by a cell, within one unit of the quoted figure's last digit) or a setting it uses
(written in its code, or a registered method's default). A sentence quoting a figure nobody printed, or one
that a changed computation no longer prints, fails here (issue 41: "the network is sure (0.95)" quoted a
probability no cell printed)."""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

import workbench as wb
from notebooks.compare import last_digit_unit

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
DECIMAL = re.compile(r"(?<![\w.])-?\d+\.\d+(?![\d.]*\d)")


def method_defaults() -> set[float]:
    return {float(p.default) for m in wb.methods().values() for p in m.params
            if isinstance(p.default, (int, float)) and not isinstance(p.default, bool)}


def printed_text(notebook) -> str:
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if output.get("output_type") == "stream":
                texts.append(output["text"])
            elif "text/plain" in output.get("data", {}):
                texts.append(output["data"]["text/plain"])
    return "\n".join(texts)


def quoted_figures(notebook) -> list[tuple[int, str]]:
    return [(index, m.group()) for index, cell in enumerate(notebook.cells) if cell.cell_type == "markdown"
            for m in DECIMAL.finditer(cell.source)]


def shown(figure: str, printed: list[str], written: set[float], defaults: set[float]) -> bool:
    value, unit = float(figure), last_digit_unit(figure)
    if value in written or value in defaults:
        return True
    return any(abs(float(p) - value) <= unit * (1 + 1e-9) for p in printed)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_figure_the_text_quotes_is_one_the_notebook_shows(path):
    notebook = nbformat.read(path, as_version=4)
    printed = DECIMAL.findall(printed_text(notebook))
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    written = {float(x) for x in re.findall(r"\d+\.\d+|\d+", code)}
    defaults = method_defaults()
    unshown = [(cell, figure) for cell, figure in quoted_figures(notebook)
               if not shown(figure, printed, written, defaults)]
    assert not unshown, f"{path.name}: markdown cells quote figures no cell prints or sets: {unshown}"


def test_the_check_fails_on_a_figure_nobody_printed():
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("print(0.5)", outputs=[
        nbformat.v4.new_output("stream", name="stdout", text="heat 0.61\n")]),
        nbformat.v4.new_markdown_cell("The heat is 0.62 here, 0.60 there, 0.95 in the text only.")]
    printed = DECIMAL.findall(printed_text(notebook))
    verdicts = {figure: shown(figure, printed, {0.5}, set()) for _, figure in quoted_figures(notebook)}
    assert verdicts == {"0.62": True, "0.60": True, "0.95": False}
