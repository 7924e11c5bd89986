"""Bounding-box annotations as evaluation items: a folder of Pascal VOC XML files and a COCO instances JSON,
read with the standard library.

These are the data of the pointing-game protocol of Zhang et al. (ECCV 2016, "Top-down Neural Attention by
Excitation Backprop") as TorchRay's ``benchmark`` runs it on PASCAL VOC 2007 test and COCO 2014 val: every
class present in an image is a target, and its region is the union of its boxes
(:func:`workbench.metrics.box_mask`). As TorchRay, a VOC class whose boxes are all marked ``difficult`` is
not a target (its difficult boxes still count as hits for nothing else); COCO ``iscrowd`` boxes count.
Boxes are stored as ``(x0, y0, x1, y1)`` in the image's pixel coordinates (pixel ``i`` spans ``[i, i+1)``):
VOC's 1-based inclusive ``xmin..xmax`` becomes ``(xmin - 1, xmax)``, COCO's ``[x, y, w, h]`` ``(x, x + w)``.
"""
from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Sequence

from .items import Item
from .sources import ClassMatcher, _folder, _item, _with_error, image_files


def read_voc(path: str | Path) -> tuple[str | None, list[tuple[str, tuple[float, ...], bool]]]:
    """One VOC XML file -> (its ``<filename>`` or None, ``[(class name, (x0, y0, x1, y1), difficult)]``).
    Raises ``ValueError`` naming the file when it is not well-formed or an object lacks a name or a box."""
    path = Path(path)
    try:
        root = ElementTree.parse(path).getroot()
    except ElementTree.ParseError as error:
        raise ValueError(f"annotations: malformed XML in {path.name}: {error}") from None
    objects = []
    for number, obj in enumerate(root.iter("object"), start=1):
        name = (obj.findtext("name") or "").strip()
        box = obj.find("bndbox")
        try:
            xmin, ymin, xmax, ymax = (float(box.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax"))
        except (AttributeError, TypeError, ValueError):
            raise ValueError(f"annotations: object {number} in {path.name} has no valid <bndbox> "
                             f"(xmin, ymin, xmax, ymax)") from None
        if not name:
            raise ValueError(f"annotations: object {number} in {path.name} has no <name>")
        if xmax < xmin or ymax < ymin:
            raise ValueError(f"annotations: object {number} in {path.name} has xmax < xmin or ymax < ymin")
        difficult = (obj.findtext("difficult") or "0").strip() == "1"
        objects.append((name, (xmin - 1, ymin - 1, xmax, ymax), difficult))
    filename = root.findtext("filename")
    return (filename.strip() if filename else None), objects


def voc_items(images: str | Path, annotations: str | Path, class_names: Sequence[str], class_map=None
              ) -> list[Item]:
    """Items from a folder of images and a folder of VOC XML files (``<image stem>.xml``). A malformed XML
    file, an image without one or an unknown class gives an error item; images are not opened here."""
    root, xml_root = _folder(images), _folder(annotations, "annotations")
    matcher = ClassMatcher(class_names, class_map)
    items = []
    for file in image_files(root):
        rel = file.relative_to(root)
        xml = xml_root / rel.with_suffix(".xml")
        if not xml.is_file():
            items.append(Item(rel.as_posix(), file, (), frame=True, error=f"annotations: no VOC file {str(xml)!r}"))
            continue
        try:
            _, objects = read_voc(xml)
        except ValueError as error:
            items.append(Item(rel.as_posix(), file, (), frame=True, error=str(error)))
            continue
        easy = {name for name, _, difficult in objects if not difficult}
        boxes: dict[str, list] = {}
        for name, box, _ in objects:
            boxes.setdefault(name, []).append(box)
        if objects:  # an image without objects has nothing to point at
            items.append(_item(rel.as_posix(), file, sorted(easy), matcher, {}, boxes, labelled=False))
    return items


def coco_items(images: str | Path, annotations: str | Path, class_names: Sequence[str], class_map=None
               ) -> list[Item]:
    """Items from a folder of images and a COCO instances JSON (``images``, ``annotations`` with
    ``bbox = [x, y, w, h]``, ``categories``): one item per image with at least one box; an image file the
    JSON lists but the folder lacks, a malformed box or an unknown category gives an error item."""
    root = _folder(images)
    path = Path(annotations)
    if not path.is_file():
        raise FileNotFoundError(f"annotations: no COCO file at {str(path)!r}")
    try:
        data = json.loads(path.read_text())
        categories = {c["id"]: str(c["name"]) for c in data["categories"]}
        files = {im["id"]: str(im["file_name"]) for im in data["images"]}
        annotations_list = list(data["annotations"])
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"annotations: {path.name} is not a COCO instances file ({type(error).__name__}: "
                         f"{error})") from None
    matcher = ClassMatcher(class_names, class_map)
    boxes: dict[int, dict[str, list]] = {}
    errors: dict[int, list[str]] = {}
    for number, ann in enumerate(annotations_list):
        try:
            image_id, category = ann["image_id"], categories[ann["category_id"]]
            x, y, w, h = (float(v) for v in ann["bbox"])
            if w < 0 or h < 0:
                raise ValueError("negative width or height")
        except (KeyError, TypeError, ValueError) as error:
            image_id = ann.get("image_id") if isinstance(ann, dict) else None
            errors.setdefault(image_id, []).append(f"annotations: annotation {number} in {path.name} is "
                                                   f"malformed ({type(error).__name__}: {error})")
            continue
        boxes.setdefault(image_id, {}).setdefault(category, []).append((x, y, x + w, y + h))
    items = []
    for image_id, name in files.items():
        if image_id not in boxes and image_id not in errors:
            continue  # nothing to point at
        file = root / name
        item = _item(name, file, sorted(boxes.get(image_id, {})), matcher, {}, boxes.get(image_id, {}),
                     labelled=False)
        if image_id in errors:
            item = _with_error(item, "; ".join(errors[image_id]))
        if not file.is_file():
            item = _with_error(item, f"image: no file at {str(file)!r}")
        items.append(item)
    return items


__all__ = ["coco_items", "read_voc", "voc_items"]
