"""Typed parameter specs: one frozen dataclass per method whose fields carry default, bounds, step,
label and doc. Specs validate themselves (the bad value and the parameter name in the message),
round-trip through a dict, and are what the UI generates its controls from.

>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Demo(Spec):
...     window: int = param(16, low=1, high=512, doc="Occluder side in pixels.")
>>> Demo(window=8).to_dict()
{'window': 8}
>>> Demo(window=0)
Traceback (most recent call last):
...
ValueError: window: expected an integer >= 1 and <= 512, got 0
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

_KINDS = ("int", "float", "bool", "choice", "schedule", "floats", "array", "layer")


@dataclass(frozen=True)
class ParamInfo:
    """What one parameter is: its kind, default, bounds and documentation."""

    name: str
    kind: str
    default: Any
    low: float | None = None
    high: float | None = None
    step: float | None = None
    choices: tuple = ()
    label: str = ""
    doc: str = ""
    open_low: bool = False
    open_high: bool = False
    log: bool = False

    def _range_text(self) -> str:
        parts = []
        if self.low is not None:
            parts.append(f"{'>' if self.open_low else '>='} {self.low:g}")
        if self.high is not None:
            parts.append(f"{'<' if self.open_high else '<='} {self.high:g}")
        return " and ".join(parts)

    def _check_number(self, value: float, what: str, original: Any) -> None:
        bad = (not math.isfinite(value)
               or (self.low is not None and (value < self.low or (self.open_low and value == self.low)))
               or (self.high is not None and (value > self.high or (self.open_high and value == self.high))))
        if bad:
            raise ValueError(f"{self.name}: expected {what} {self._range_text()}".rstrip() + f", got {original!r}")

    def _number(self, value: Any, integer: bool) -> int | float:
        what = "an integer" if integer else "a number"
        if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "__index__") \
                and not hasattr(value, "__float__"):
            raise TypeError(f"{self.name}: expected {what}, got {type(value).__name__} {value!r}")
        if integer:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(f"{self.name}: expected an integer, got {value!r}")
            number = int(value)
        else:
            number = float(value)
        self._check_number(number, what, value)
        return number

    def validate(self, value: Any) -> Any:
        """Return ``value`` coerced to this parameter's type, or raise naming the parameter."""
        if value is None and self.default is None:
            return None  # optional parameter left to its automatic value
        if self.kind == "int":
            return self._number(value, integer=True)
        if self.kind == "float":
            return self._number(value, integer=False)
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise TypeError(f"{self.name}: expected True or False, got {value!r}")
            return value
        if self.kind == "choice":
            if value not in self.choices:
                raise ValueError(f"{self.name}: expected one of {list(self.choices)}, got {value!r}")
            return value
        if self.kind == "floats":
            if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
                raise TypeError(f"{self.name}: expected a list of numbers, got {value!r}")
            values = tuple(value)
            if not values:
                raise ValueError(f"{self.name}: expected a non-empty list of numbers, got {value!r}")
            return tuple(self._number(v, integer=False) for v in values)
        if self.kind == "schedule":
            return _validate_schedule(self.name, value)
        if self.kind == "layer":  # a module of the model by name; checked against the model when it runs
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)          # a child of an nn.Sequential: "0", "1", ...
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{self.name}: expected 'auto' or the name of a module of the model, got {value!r}")
            return value
        if self.kind == "array":  # data given by the caller (e.g. a fixed segmentation); not a UI control
            return np.asarray(value)
        raise AssertionError(self.kind)  # pragma: no cover

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v not in (None, (), "", False) or k == "default"}


def _validate_schedule(name: str, value: Any) -> tuple[tuple[int, int], ...]:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise TypeError(f"{name}: expected a list of (patch, stride) pairs, got {value!r}")
    levels = []
    for i, level in enumerate(value):
        try:
            patch, stride = level
        except (TypeError, ValueError):
            raise ValueError(f"{name}: level {i + 1} must be a (patch, stride) pair, got {level!r}") from None
        for label, number in (("patch", patch), ("stride", stride)):
            if isinstance(number, bool) or not float(number).is_integer() or int(number) <= 0:
                raise ValueError(f"{name}: level {i + 1} {label} must be a positive integer, got {number!r}")
        levels.append((int(patch), int(stride)))
    if not levels:
        raise ValueError(f"{name}: expected at least one (patch, stride) level, got an empty list")
    return tuple(levels)


def param(default: Any, *, kind: str | None = None, low: float | None = None, high: float | None = None,
          step: float | None = None, choices: tuple | list = (), label: str = "", doc: str = "",
          open_low: bool = False, open_high: bool = False, log: bool = False) -> Any:
    """A spec field: ``name: int = param(16, low=1, doc=...)``. ``kind`` is inferred from the default."""
    if kind is None:
        if choices:
            kind = "choice"
        elif isinstance(default, bool):
            kind = "bool"
        elif isinstance(default, int):
            kind = "int"
        elif isinstance(default, float):
            kind = "float"
        elif isinstance(default, tuple) and default and all(isinstance(v, (int, float)) for v in default):
            kind = "floats"
        else:
            raise TypeError(f"param: cannot infer the kind of default {default!r}; pass kind=")
    if kind not in _KINDS:
        raise ValueError(f"kind: expected one of {_KINDS}, got {kind!r}")
    meta = dict(kind=kind, low=low, high=high, step=step, choices=tuple(choices), label=label, doc=doc,
                open_low=open_low, open_high=open_high, log=log)
    # arrays do not compare with ==; a spec holding one compares (and hashes) by its other fields
    return dataclasses.field(default=default, metadata={"param": meta}, compare=kind != "array")


@dataclass(frozen=True)
class Spec:
    """Base of every method's parameters. Subclasses are frozen dataclasses whose fields use :func:`param`.

    Override :meth:`check` for rules that tie several fields together and :meth:`check_image` for rules
    that depend on the image size.
    """

    citation: ClassVar[str] = ""
    description: ClassVar[str] = ""   # what is perturbed or propagated, and what a bright pixel means
    heading: ClassVar[str] = ""       # a title the Workbench shows above the parameters' controls
    learns_mask: ClassVar[bool] = False   # the method optimises a mask and records its loss history

    def __post_init__(self):
        for info in self.params():
            object.__setattr__(self, info.name, info.validate(getattr(self, info.name)))
        self.check()

    def check(self) -> None:
        """Cross-field validation; raise ``ValueError`` naming the parameter."""

    def check_image(self, height: int, width: int) -> None:
        """Validation against the image size; raise ``ValueError`` naming the parameter."""

    def planned_passes(self, height: int, width: int) -> int | None:
        """The forward passes of the model a run at these settings makes on a ``height x width`` image, the
        clean pass included, known before it runs (at most that many where the method stops early or adapts;
        about that many where it depends on a segmentation); None when only the run can tell (the default).
        A run's time is estimated from it (:mod:`workbench.estimate`)."""
        return None

    @classmethod
    def params(cls) -> tuple[ParamInfo, ...]:
        infos = []
        for f in dataclasses.fields(cls):
            meta = f.metadata.get("param")
            if meta is not None:
                infos.append(ParamInfo(name=f.name, default=f.default, **{**meta, "label": meta["label"] or
                                                                           f.name.replace("_", " ")}))
        return tuple(infos)

    def to_dict(self) -> dict[str, Any]:
        return {info.name: getattr(self, info.name) for info in self.params()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "Spec":
        known = {info.name for info in cls.params()}
        unknown = sorted(set(values) - known)
        if unknown:
            raise TypeError(f"{unknown[0]}: not a parameter of this method; expected one of {sorted(known)}")
        return cls(**values)
