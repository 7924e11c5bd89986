"""Your own images as evaluation items: an ImageFolder tree, a CSV list, PNG masks.

Every source returns :class:`~workbench.data.items.Item` s that hold file paths (images and masks are read
when an item is evaluated, by whichever process evaluates it). Class names are matched to the model's:
through a mapping file first, then exactly, then ignoring case, ``_``, ``-`` and spaces. A class the model
does not know, a missing mask or a malformed row becomes the item's ``error`` (error rows in the results),
never an exception that stops the run.

>>> import workbench as wb
>>> items = wb.data.image_folder("my_photos/", wb.load_model("shapes").class_names)   # doctest: +SKIP
"""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Sequence

from .items import NO_TARGET, Item

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm")


def _normal(name: str) -> str:
    return " ".join(str(name).lower().replace("_", " ").replace("-", " ").split())


def read_class_map(path: str | Path) -> dict[str, str]:
    """A mapping file from data set class names to model class names (or indices): JSON ``{"dog": "beagle"}``
    or CSV rows ``dataset_name,model_name``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"class_map: no file at {str(path)!r}")
    if path.suffix.lower() == ".json":
        mapping = json.loads(path.read_text())
        if not isinstance(mapping, dict):
            raise ValueError(f"class_map: expected a JSON object {{data set name: model name}} in {str(path)!r}")
        return {str(k): str(v) for k, v in mapping.items()}
    mapping = {}
    with open(path, newline="") as handle:
        for number, row in enumerate(csv.reader(handle), start=1):
            if not row or row[0].startswith("#"):
                continue
            if len(row) != 2:
                raise ValueError(f"class_map: expected 'data set name,model name' on line {number} of "
                                 f"{str(path)!r}, got {row!r}")
            mapping[row[0].strip()] = row[1].strip()
    return mapping


class ClassMatcher:
    """Data set class name -> model class index: the mapping first, then the exact name, then the name
    ignoring case, ``_``, ``-`` and spaces; a bare integer is an index. ``None`` when nothing matches."""

    def __init__(self, class_names: Sequence[str], class_map: dict[str, str] | str | Path | None = None):
        self.class_names = tuple(str(n) for n in class_names)
        if not self.class_names:
            raise ValueError("class_names: the model has no class names to match the data set's classes to")
        self.mapping = read_class_map(class_map) if isinstance(class_map, (str, Path)) else dict(class_map or {})
        self._exact = {n: i for i, n in enumerate(self.class_names)}
        self._normal: dict[str, int] = {}
        for i, n in enumerate(self.class_names):
            self._normal.setdefault(_normal(n), i)

    def index(self, name: str) -> int | None:
        name = str(name).strip()
        name = self.mapping.get(name, name)
        if name in self._exact:
            return self._exact[name]
        if _normal(name) in self._normal:
            return self._normal[_normal(name)]
        if name.isdigit() and int(name) < len(self.class_names):
            return int(name)
        return None

    def unknown(self, names: Sequence[str]) -> str:
        """The error message for class names the model does not know."""
        shown = ", ".join(repr(n) for n in sorted(set(names)))
        return (f"class: {shown} not among the model's {len(self.class_names)} classes; pass a class map "
                f"(data set name -> model name)")


def image_files(root: Path) -> list[Path]:
    """Image files under ``root`` (recursively, by suffix), sorted."""
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def _folder(path: str | Path, argument: str = "images") -> Path:
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"{argument}: no folder at {str(root)!r}")
    return root.resolve()   # absolute: items are read by Dask workers wherever they were started


def image_folder(path: str | Path, class_names: Sequence[str], class_map=None, masks: str | Path | None = None
                 ) -> list[Item]:
    """Items from torchvision's ImageFolder layout, ``path/<class>/<image>``: each image's target is its
    folder's class. ``masks``: a folder of PNG masks, one per image (``masks/<class>/<image stem>.png``) or
    one per image and class (``masks/<class>/<image stem>/<class name>.png``, which also adds that class as
    a target); see :func:`mask_files`."""
    root = _folder(path)
    matcher = ClassMatcher(class_names, class_map)
    files = image_files(root)
    if not any(len(f.relative_to(root).parts) > 1 for f in files):
        raise ValueError(f"images: no class sub-folders with images in {str(root)!r}; expected the ImageFolder "
                         f"layout DIR/<class>/<image>, or pass annotations (voc:, coco:, masks:, list:)")
    return _folder_items(root, files, matcher, masks)


def image_list(path: str | Path, class_names: Sequence[str], class_map=None, root: str | Path | None = None
               ) -> list[Item]:
    """Items from a CSV file of ``path,label[,mask]`` rows (an optional header row starting with ``path``);
    relative paths are taken from ``root`` (default: the CSV's folder). Rows of the same image merge into
    one item with several targets. A malformed row or unknown label gives an error item."""
    csv_path = Path(path)
    if not csv_path.is_file():
        raise FileNotFoundError(f"annotations: no image list at {str(csv_path)!r}")
    base = (Path(root) if root is not None else csv_path.parent).resolve()
    matcher = ClassMatcher(class_names, class_map)
    rows: dict[str, dict] = {}
    with open(csv_path, newline="") as handle:
        for number, row in enumerate(csv.reader(handle), start=1):
            row = [cell.strip() for cell in row]
            if not row or not any(row) or row[0].startswith("#") or (number == 1 and row[0].lower() == "path"):
                continue
            key = row[0] or f"{csv_path.name}:{number}"
            entry = rows.setdefault(key, {"labels": [], "masks": {}, "errors": []})
            if len(row) not in (2, 3) or not row[0] or not row[1]:
                entry["errors"].append(f"annotations: expected 'path,label[,mask]' on line {number} of "
                                       f"{csv_path.name}, got {row!r}")
                continue
            entry["labels"].append(row[1])
            if len(row) == 3 and row[2]:
                entry["masks"][row[1]] = base / row[2]
    items = []
    for key, entry in rows.items():
        item = _item(key, base / key, entry["labels"], matcher, entry["masks"])
        if entry["errors"]:
            item = _with_error(item, "; ".join(entry["errors"]))
        items.append(item)
    return items


def mask_files(masks: Path, rel: Path, labels: Sequence[str]) -> tuple[dict[str, Path], list[str]]:
    """The PNG masks of the image at ``rel`` (relative to its data set's folder) in the folder ``masks``:
    ``masks/<rel without suffix>.png`` is the mask of every label of the image; ``masks/<rel without
    suffix>/<class>.png`` the mask of one class. Returns ``{class name: path}`` and the errors (labels
    without a mask)."""
    stem = rel.with_suffix("")
    per_class = masks / stem
    found: dict[str, Path] = {}
    if per_class.is_dir():
        found.update({p.stem: p for p in sorted(per_class.glob("*.png"))})
    single = masks / stem.with_suffix(".png")
    for label in labels:
        if label not in found and single.is_file():
            found[label] = single
    missing = [label for label in labels if label not in found]
    errors = [f"annotations: no mask for class {label!r} ({str(single)!r} or {str(per_class / label)}.png)"
              for label in missing]
    if not found and not labels:
        errors.append(f"annotations: no mask at {str(single)!r} nor in {str(per_class)!r}")
    return found, errors


def mask_folder(images: str | Path, masks: str | Path, class_names: Sequence[str], class_map=None) -> list[Item]:
    """Items from a folder of images (flat or ImageFolder layout) and a folder of PNG masks (see
    :func:`mask_files`): an image's targets are its folder's class, if any, and every class it has a mask
    for. Images without any mask give error items."""
    root, mask_root = _folder(images), _folder(masks, "annotations")
    return _folder_items(root, image_files(root), ClassMatcher(class_names, class_map), mask_root)


def _folder_items(root: Path, files: list[Path], matcher: ClassMatcher, masks) -> list[Item]:
    """One item per file: labelled by its top sub-folder (if any) and by the classes it has masks for."""
    items = []
    for file in files:
        rel = file.relative_to(root)
        labels = [rel.parts[0]] if len(rel.parts) > 1 else []
        errors: list[str] = []
        found: dict[str, Path] = {}
        if masks is not None:
            found, errors = mask_files(Path(masks), rel, labels)
            labels = labels + [name for name in found if name not in labels]
        item = _item(rel.as_posix(), file, labels, matcher, found)
        items.append(_with_error(item, "; ".join(errors)) if errors else item)
    return items


def _item(image_id: str, source: Path, labels: Sequence[str], matcher: ClassMatcher, masks: dict[str, Path],
          boxes: dict[str, list] | None = None, labelled: bool = True) -> Item:
    """An item whose labels are data set class names: known ones become targets (with their masks and
    boxes), unknown ones the item's error; no label at all is an error when the item should be ``labelled``."""
    targets: dict[int, str] = {}
    unknown = []
    for label in labels:
        index = matcher.index(label)
        if index is None:
            unknown.append(label)
        else:
            targets.setdefault(index, label)
    mask_of = {i: masks[name] for i, name in targets.items() if name in masks}
    box_of: dict[int, list] = {}
    for name, value in (boxes or {}).items():
        index = matcher.index(name)
        if index is not None and index in targets:
            box_of.setdefault(index, []).extend(value)
    error = matcher.unknown(unknown) if unknown else ("" if labels or not labelled else "class: the image has no label")
    return Item(image_id=image_id, source=source, targets=tuple(sorted(targets)), masks=mask_of or None,
                boxes={i: _array(b) for i, b in box_of.items()} or None, error=error, frame=True)


def _array(boxes):
    import numpy as np

    return np.asarray(boxes, dtype=np.float64).reshape(-1, 4)


def _with_error(item: Item, error: str) -> Item:
    from dataclasses import replace

    return replace(item, error="; ".join(e for e in (item.error, error) if e))


__all__ = ["IMAGE_SUFFIXES", "NO_TARGET", "ClassMatcher", "image_files", "image_folder", "image_list", "mask_files",
           "mask_folder", "read_class_map"]
