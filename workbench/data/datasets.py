"""A data set named by a folder of images and an annotation spec (``voc:DIR``, ``coco:FILE``, ``masks:DIR``,
``list:CSV``, or none: the ImageFolder layout), as evaluation items; the entry of ``workbench evaluate
--images/--annotations``. It picks the reader (:mod:`.sources` for folders, lists and masks, :mod:`.boxes` for
VOC and COCO boxes) and keeps the images an ``image_set`` lists.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from .boxes import coco_items, voc_items
from .items import Item
from .sources import image_folder, image_list, mask_folder

ANNOTATION_KINDS = ("voc", "coco", "masks", "list")


def dataset_items(images: str | Path | None, annotations: str | None, class_names: Sequence[str],
                  class_map=None, image_set: str | Path | None = None) -> list[Item]:
    """Items from a folder of images and an annotation spec: ``None`` (ImageFolder layout, the folder is the
    class), ``"voc:DIR"``, ``"coco:FILE"``, ``"masks:DIR"`` or ``"list:CSV"`` (paths relative to ``images``
    when given, else to the CSV's folder). ``image_set``: a text file of image names without suffix, one a
    line (VOC's ``ImageSets/Main/test.txt``), to keep only those images (see :func:`only_listed`)."""
    if annotations is None:
        if images is None:
            raise ValueError("images: expected a folder of images (or annotations='list:CSV')")
        items = image_folder(images, class_names, class_map)
    else:
        kind, _, where = str(annotations).partition(":")
        if kind not in ANNOTATION_KINDS or not where:
            raise ValueError(f"annotations: expected one of voc:DIR, coco:FILE, masks:DIR, list:CSV, "
                             f"got {annotations!r}")
        if kind == "list":
            items = image_list(where, class_names, class_map, root=images)
        elif images is None:
            raise ValueError(f"images: a folder of images is needed with annotations {kind}:")
        elif kind == "masks":
            items = mask_folder(images, where, class_names, class_map)
        else:
            items = (voc_items if kind == "voc" else coco_items)(images, where, class_names, class_map)
    return items if image_set is None else only_listed(items, image_set)


def only_listed(items: Sequence[Item], image_set: str | Path) -> list[Item]:
    """The items whose image name without suffix (``"000001"`` for ``000001.jpg``) is listed in the text file
    ``image_set`` (one a line; further columns, as in VOC's per-class lists, are ignored), in the file's order;
    a listed name with no item gives an error item."""
    path = Path(image_set)
    if not path.is_file():
        raise FileNotFoundError(f"image_set: no file at {str(path)!r}")
    names = [line.split()[0] for line in path.read_text().splitlines() if line.split()]
    by_name: dict[str, list[Item]] = {}
    for item in items:
        by_name.setdefault(Path(item.image_id).with_suffix("").as_posix(), []).append(item)
    listed = []
    for name in dict.fromkeys(names):
        listed.extend(by_name.get(name) or [Item(name, name, (), frame=True,
                                                 error=f"image: {name!r} is listed in {path.name} but not found")])
    return listed


__all__ = ["ANNOTATION_KINDS", "dataset_items", "only_listed"]
