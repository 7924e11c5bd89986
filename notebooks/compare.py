"""How nbval compares the teaching notebooks' printed numbers: within what the computation guarantees.

A decimal number a cell prints agrees with the stored one when the two differ by at most one unit in the last
printed digit (a value near a rounding boundary prints either way on another CPU, thread count or device), or
by the tolerance the cell states in a comment line such as ``# tolerance ±0.05: 60 optimisation steps amplify
rounding``. Integers and all other text must match exactly (runs of white space count as one), so a real
regression still fails and rounding never does. Stored images are never compared: nbval skips ``image/png``
unless it runs with nbdime.

Loaded as a pytest plugin by the root ``conftest.py``: it wraps nbval's ``IPyNbCell.compare_outputs`` so that
a printed text which agrees within tolerance is compared as the stored text; any other difference reaches
nbval's own comparison and report unchanged.
"""
from __future__ import annotations

import copy
import re

NUMBER = re.compile(r"[-+]?\d+\.\d+")
STATED = re.compile(r"#.*?\btolerance\s*(?:±|\+-|\+/-)\s*(\d+(?:\.\d*)?)")
SPACE = re.compile(r"\s+")


def stated_tolerance(source: str) -> float:
    """The absolute tolerance a cell states for its printed decimals (``# tolerance ±X``), or 0."""
    found = [float(m.group(1)) for line in source.splitlines() if (m := STATED.search(line))]
    return max(found, default=0.0)


def last_digit_unit(text: str) -> float:
    """One unit in the last printed digit of a decimal: ``0.61`` -> 0.01."""
    return 10.0 ** -len(text.split(".")[1])


def numbers_agree(stored: str, fresh: str, tolerance: float = 0.0) -> bool:
    """Whether two printed texts are the same but for decimals within ``tolerance`` (or one last-digit unit).

    Decimals must be printed with the same number of digits; text between them (with white space folded, so a
    column whose sign changes still lines up) and integers must be equal.
    """
    stored_parts, fresh_parts = NUMBER.split(stored), NUMBER.split(fresh)
    if [SPACE.sub(" ", p) for p in stored_parts] != [SPACE.sub(" ", p) for p in fresh_parts]:
        return False
    for a, b in zip(NUMBER.findall(stored), NUMBER.findall(fresh)):
        unit = last_digit_unit(a)
        if unit != last_digit_unit(b):
            return False
        if abs(float(a) - float(b)) > max(tolerance, unit) * (1 + 1e-9):
            return False
    return True


def _texts(output) -> list[tuple[object, str]]:
    """(container, key) pairs of the compared text fields of one output: a stream's text, a result's plain text."""
    if output.get("output_type") == "stream":
        return [(output, "text")]
    data = output.get("data", {})
    return [(data, "text/plain")] if "text/plain" in data else []


def align_within_tolerance(fresh_outputs: list, stored_outputs: list, tolerance: float, sanitize) -> list:
    """A copy of ``fresh_outputs`` in which each text that agrees with its stored twin within ``tolerance``
    (after nbval's sanitising) is replaced by the stored text; every other output is left as it ran."""
    fresh_outputs = copy.deepcopy(fresh_outputs)
    for fresh, stored in zip(fresh_outputs, stored_outputs):
        if fresh.get("output_type") != stored.get("output_type") or fresh.get("name") != stored.get("name"):
            continue
        for (fresh_box, key), (stored_box, _) in zip(_texts(fresh), _texts(stored)):
            a, b = sanitize(stored_box[key]), sanitize(fresh_box[key])
            if a != b and numbers_agree(a, b, tolerance):
                fresh_box[key] = stored_box[key]
    return fresh_outputs


def pytest_configure(config) -> None:
    from nbval.plugin import IPyNbCell

    original = IPyNbCell.compare_outputs
    if getattr(original, "within_tolerance", False):
        return

    def compare_outputs(self, test, ref, skip_compare=None):
        source = self.cell.source if isinstance(self.cell.source, str) else "".join(self.cell.source)
        test = align_within_tolerance(test, ref, stated_tolerance(source), self.sanitize)
        return original(self, test, ref, skip_compare)

    compare_outputs.within_tolerance = True
    IPyNbCell.compare_outputs = compare_outputs
