"""Your own data: ImageFolder trees, CSV lists, PNG masks, VOC and COCO boxes through the evaluation and the
command line. Data sets are written to a temporary folder from generated scenes, whose exact masks are the
independent reference."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import workbench as wb
from workbench import cli
from workbench.data import (ClassMatcher, Item, coco_items, dataset_items, image_folder, image_list, mask_folder,
                            voc_items)
from workbench.data.scenes import SHAPE_CLASSES, make_scene
from workbench.evaluation import run_evaluation, scene_items
from workbench.geometry import Framing
from workbench.metrics import box_mask, pointing_game

OCCLUSION = ["--param", "occlusion.patch=56", "--param", "occlusion.stride=56", "--steps", "5", "--region", "56"]
PARAMS = {"occlusion": {"patch": 56, "stride": 56}}


def bounding_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """``(top, bottom, left, right)`` inclusive pixel bounds of a boolean mask."""
    rows, cols = np.where(mask)
    return rows.min(), rows.max(), cols.min(), cols.max()


def write_voc(path: Path, filename: str, size: tuple[int, int], objects) -> None:
    """``objects``: ``(name, top, bottom, left, right)`` inclusive 0-based bounds, written 1-based as VOC does."""
    root = ElementTree.Element("annotation")
    ElementTree.SubElement(root, "filename").text = filename
    dims = ElementTree.SubElement(root, "size")
    ElementTree.SubElement(dims, "width").text = str(size[1])
    ElementTree.SubElement(dims, "height").text = str(size[0])
    for name, top, bottom, left, right in objects:
        obj = ElementTree.SubElement(root, "object")
        ElementTree.SubElement(obj, "name").text = name
        ElementTree.SubElement(obj, "difficult").text = "0"
        box = ElementTree.SubElement(obj, "bndbox")
        for key, value in (("xmin", left + 1), ("ymin", top + 1), ("xmax", right + 1), ("ymax", bottom + 1)):
            ElementTree.SubElement(box, key).text = str(int(value))
    ElementTree.ElementTree(root).write(path)


@pytest.fixture(scope="module")
def voc_dataset(tmp_path_factory):
    """Four scenes as JPEG with VOC XML boxes and a COCO JSON of the same boxes (from the exact masks)."""
    root = tmp_path_factory.mktemp("voc")
    (root / "JPEGImages").mkdir()
    (root / "Annotations").mkdir()
    coco = {"images": [], "annotations": [], "categories": [{"id": 10 + i, "name": n} for i, n in
                                                             enumerate(SHAPE_CLASSES)]}
    scenes = {}
    for i in range(4):
        scene = make_scene((31, i))
        name = f"scene{i}.jpg"
        scenes[name] = scene
        Image.fromarray(scene.image).save(root / "JPEGImages" / name, quality=90)
        objects = [(SHAPE_CLASSES[label], *bounding_box(mask)) for mask, label in zip(scene.masks, scene.labels)]
        write_voc(root / "Annotations" / f"scene{i}.xml", name, scene.image.shape[:2], objects)
        coco["images"].append({"id": 100 + i, "file_name": name, "width": 224, "height": 224})
        for k, (label, top, bottom, left, right) in enumerate(objects):
            coco["annotations"].append({"id": 1000 + 10 * i + k, "image_id": 100 + i, "iscrowd": 0,
                                        "category_id": 10 + SHAPE_CLASSES.index(label),
                                        "bbox": [int(left), int(top), int(right - left + 1), int(bottom - top + 1)]})
    (root / "instances.json").write_text(json.dumps(coco))
    return root, scenes


@pytest.mark.slow
def test_pointing_game_on_voc_and_coco_boxes_equals_the_masks_bounding_boxes(voc_dataset, shapes, tmp_path):
    root, scenes = voc_dataset
    methods = ["gradient", "occlusion"]
    voc = run_evaluation("shapes", voc_items(root / "JPEGImages", root / "Annotations", shapes.class_names),
                         methods, tmp_path / "voc.csv", metrics=("pointing",), params=PARAMS, progress=False)
    coco = run_evaluation("shapes", coco_items(root / "JPEGImages", root / "instances.json", shapes.class_names),
                          methods, tmp_path / "coco.csv", metrics=("pointing",), params=PARAMS, progress=False)
    assert (voc["error"] == "").all() and (coco["error"] == "").all()
    expected_rows = len(methods) * sum(len(set(s.labels)) for s in scenes.values())
    assert len(voc) == len(coco) == expected_rows
    key = ["image", "target", "method"]
    assert voc.sort_values(key)["value"].tolist() == coco.sort_values(key)["value"].tolist()
    for row in voc.itertuples():   # the reference: the same heatmap against the masks' bounding boxes
        scene = scenes[row.image]
        region = np.zeros((224, 224), bool)
        for mask, label in zip(scene.masks, scene.labels):
            if label == row.target:
                top, bottom, left, right = bounding_box(mask)
                region[top:bottom + 1, left:right + 1] = True
        image = wb.load_image(str(root / "JPEGImages" / row.image))
        e = wb.explain(shapes, image, row.method, target=row.target, **PARAMS.get(row.method, {}))
        assert row.value == pointing_game(e.heatmap, region), row
    assert 0 < voc["value"].mean() <= 1


def test_box_mask_equals_torchrays_voc_mask(tmp_path):
    datasets = pytest.importorskip("torchray.benchmark.datasets")
    objects = [("dog", 10, 30, 5, 40), ("cat", 0, 9, 0, 0), ("dog", 25, 44, 35, 59)]
    write_voc(tmp_path / "a.xml", "a.jpg", (45, 60), objects)
    _, parsed = wb.data.read_voc(tmp_path / "a.xml")
    label = {"annotation": {"size": {"width": "60", "height": "45"}, "object": [
        {"name": n, "bndbox": {"xmin": str(l + 1), "ymin": str(t + 1), "xmax": str(r + 1), "ymax": str(b + 1)}}
        for n, t, b, l, r in objects]}}
    for name in ("dog", "cat"):
        ours = box_mask([box for n, box, _ in parsed if n == name], (45, 60))
        theirs = datasets.voc_as_mask(label, datasets.VOC_CLASSES.index(name)).numpy()
        assert np.array_equal(ours, theirs), name


@pytest.mark.slow
def test_masks_folder_equals_the_in_memory_scene_evaluation(tmp_path, capsys):
    images, masks = tmp_path / "images", tmp_path / "masks"
    images.mkdir()
    items = scene_items(3, seed=5)
    for i, item in enumerate(items):
        Image.fromarray(item.source).save(images / f"scene{i}.png")
        (masks / f"scene{i}").mkdir(parents=True)
        for target, mask in item.masks.items():
            Image.fromarray(mask.astype(np.uint8) * 255).save(masks / f"scene{i}" / f"{SHAPE_CLASSES[target]}.png")
    out = tmp_path / "files.parquet"
    assert cli.main(["evaluate", "--images", str(images), "--annotations", f"masks:{masks}", "--methods",
                     "occlusion", "--quiet", "--out", str(out), *OCCLUSION]) == 0
    assert "no errors" in capsys.readouterr().out
    files = pd.read_parquet(out)
    memory = run_evaluation("shapes", items, ["occlusion"], tmp_path / "memory.csv", params=PARAMS, steps=5,
                            region=56, progress=False)
    memory["image"] = memory["image"].map({item.image_id: f"scene{i}.png" for i, item in enumerate(items)})
    key = ["image", "target", "method", "metric"]
    merged = files.merge(memory, on=key, suffixes=("_files", "_memory"))
    assert len(merged) == len(files) == len(memory) and len(memory) == 10 * sum(len(i.targets) for i in items)
    merged = merged[merged["metric"] != "seconds"]
    assert merged["metric"].nunique() == 9   # localisation included: the masks were read
    np.testing.assert_allclose(merged["value_files"], merged["value_memory"], rtol=1e-6)


def test_masks_and_boxes_are_framed_like_the_image_on_a_non_square_image(tmp_path, shapes):
    """A 200 x 300 photo for the 224 px model: resized to 224 x 336, centre-cropped to 224 x 224 (50 source
    columns cut on each side). A red rectangle that the crop cuts must stay under its mask and its box."""
    image = np.full((200, 300, 3), 90, np.uint8)
    image[60:140, 30:120] = (230, 20, 20)
    mask = np.zeros((200, 300), bool)
    mask[60:140, 30:120] = True
    Image.fromarray(image).save(tmp_path / "photo.png")
    Image.fromarray(mask.astype(np.uint8) * 255).save(tmp_path / "photo_mask.png")
    target = shapes.class_names.index("square")
    by_mask = Item("photo", tmp_path / "photo.png", (target,), masks={target: tmp_path / "photo_mask.png"},
                   frame=True)
    by_box = Item("photo", tmp_path / "photo.png", (target,), boxes={target: np.array([[30, 60, 120, 140]])},
                  frame=True)
    framed, regions = by_mask.prepare(shapes)
    _, box_regions = by_box.prepare(shapes)
    assert framed.shape == (224, 224, 3)
    red = (framed[..., 0] > 0.6) & (framed[..., 1] < 0.3)
    assert np.array_equal(regions[target], Framing(224, (224, 224)).mask(mask))
    for region in (regions[target], box_regions[target]):
        iou = (red & region).sum() / (red | region).sum()
        assert iou > 0.97, iou
        rows, cols = np.where(region)
        # source rows 60..139 -> 67.2..156.8; columns 30..119 -> 33.6..133.3 minus the 56 px crop offset
        assert abs(rows.min() - 67) <= 1 and abs(rows.max() - 156) <= 1
        assert cols.min() == 0 and abs(cols.max() - 77) <= 1
    assert (regions[target] ^ box_regions[target]).sum() <= 2 * 224   # at most a 1 px rim apart


def test_the_shapes_model_frames_images_of_another_size_only():
    entry = wb.load_model("shapes", device="cpu")
    assert wb.data.framing_for(entry, 224, 224) is None
    assert wb.data.framing_for(entry, 480, 640) == Framing(224, (224, 224))
    wide = SimpleNamespace(framing=None, input_size=(224, 320))
    assert wb.data.framing_for(wide, 480, 640) == Framing(320, (224, 320))
    own = SimpleNamespace(framing=Framing(256, (224, 224)), input_size=(224, 224))
    assert wb.data.framing_for(own, 224, 224) == Framing(256, (224, 224))   # the entry's own, always
    assert wb.data.framing_for(SimpleNamespace(), 50, 70) is None          # a bare module: as it is


def _folder(root: Path, sizes=((224, 224), (240, 320), (300, 260))) -> Path:
    """An ImageFolder of 6 scenes in 2 classes (3 each), some of another size than 224."""
    for cls in ("circle", "square"):
        (root / cls).mkdir(parents=True)
        found, k = 0, 0
        while found < 3:
            scene = make_scene((17, k))
            k += 1
            if SHAPE_CLASSES.index(cls) in scene.labels:
                h, w = sizes[found]
                Image.fromarray(scene.image).resize((w, h), Image.BILINEAR).save(root / cls / f"{found}.jpg")
                found += 1
    return root


KILL_AFTER_TWO_JOBS = """
import os, signal, sys
import workbench.evaluation as evaluation
from workbench import cli
append, written = evaluation._append, []
def append_then_die(journal, rows):
    append(journal, rows)
    written.append(1)
    if len(written) == 2:
        os.kill(os.getpid(), signal.SIGKILL)
evaluation._append = append_then_die
sys.exit(cli.main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_image_folder_through_the_cli_killed_resumed_and_on_dask(tmp_path, capsys, monkeypatch):
    folder = _folder(tmp_path / "photos")
    out = tmp_path / "r.parquet"
    args = ["evaluate", "--images", str(folder), "--methods", "occlusion", "--quiet", *OCCLUSION]
    killed = subprocess.run([sys.executable, "-c", KILL_AFTER_TWO_JOBS, *args, "--out", str(out)],
                            capture_output=True, text=True, timeout=300)
    assert killed.returncode == -9, killed.stderr
    journal = pd.read_csv(tmp_path / "r.parquet.journal.csv")
    assert journal.groupby(["image", "target", "method"]).ngroups == 2 and not out.exists()
    computed = []
    run_job = wb.evaluation.run_job
    monkeypatch.setattr(wb.evaluation, "run_job", lambda *a, **k: computed.append(a[1].image_id) or run_job(*a, **k))
    assert cli.main(args + ["--out", str(out)]) == 0
    monkeypatch.undo()
    assert len(computed) == 4 and not set(computed) & set(journal["image"])
    table = pd.read_parquet(out)
    assert sorted(table["image"].unique()) == [f"{c}/{i}.jpg" for c in ("circle", "square") for i in range(3)]
    assert (table["error"] == "").all() and len(table) == 6 * 7   # no masks: 7 metrics
    assert set(table.groupby("image")["target"].first()) == {0, 1}
    assert cli.main(args + ["--out", str(tmp_path / "d.parquet"), "--dask", "local"]) == 0
    assert "no errors" in capsys.readouterr().out
    dask = pd.read_parquet(tmp_path / "d.parquet")
    merged = table.merge(dask, on=["image", "target", "method", "metric"], suffixes=("", "_dask"))
    merged = merged[merged["metric"] != "seconds"]
    assert len(merged) == 6 * 6
    np.testing.assert_allclose(merged["value"], merged["value_dask"], rtol=1e-5, atol=1e-6)


def test_bad_data_becomes_error_rows_and_a_count(tmp_path, capsys):
    folder = _folder(tmp_path / "photos", sizes=((224, 224),) * 3)
    (folder / "circle" / "1.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a jpeg")     # corrupt
    (folder / "dog").mkdir()
    Image.fromarray(make_scene(3).image).save(folder / "dog" / "rex.jpg")        # a class the model lacks
    out = tmp_path / "r.csv"
    assert cli.main(["evaluate", "--images", str(folder), "--methods", "gradient", "--metrics", "passes",
                     "--quiet", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    table = pd.read_csv(out, dtype={"error": str}).fillna({"error": ""})
    errors = table[table["error"] != ""].set_index("image")["error"]
    assert "cannot read 1.jpg" in errors["circle/1.jpg"]
    assert "'dog' not among the model's 5 classes" in errors["dog/rex.jpg"]
    assert table.loc[table["image"] == "dog/rex.jpg", "target"].tolist() == [-1]
    assert (table.loc[table["error"] == "", "value"] == 2).all() and (table["error"] == "").sum() == 5
    assert "2 error rows (2 jobs, 2 images)" in printed

    images, xml = tmp_path / "voc" / "JPEGImages", tmp_path / "voc" / "Annotations"
    images.mkdir(parents=True)
    xml.mkdir()
    for i in range(3):
        scene = make_scene((8, i))
        Image.fromarray(scene.image).save(images / f"{i}.jpg")
        write_voc(xml / f"{i}.xml", f"{i}.jpg", (224, 224), [(SHAPE_CLASSES[scene.labels[0]],
                                                             *bounding_box(scene.masks[0]))])
    (xml / "1.xml").write_text("<annotation><object><name>star</name></annotation>")   # malformed
    (xml / "2.xml").unlink()                                                            # missing
    assert cli.main(["evaluate", "--images", str(images), "--annotations", f"voc:{xml}", "--methods", "gradient",
                     "--metrics", "pointing", "--quiet", "--out", str(tmp_path / "v.csv")]) == 0
    printed = capsys.readouterr().out
    table = pd.read_csv(tmp_path / "v.csv", dtype={"error": str}).fillna({"error": ""})
    errors = table[table["error"] != ""].set_index("image")["error"]
    assert "malformed XML in 1.xml" in errors["1.jpg"] and "no VOC file" in errors["2.jpg"]
    assert table.loc[table["image"] == "0.jpg", "error"].eq("").all()
    assert "2 error rows (2 jobs, 2 images)" in printed


def test_failed_jobs_run_again_on_resume(tmp_path):
    good = np.full((224, 224, 3), 120, np.uint8)
    Image.fromarray(good).save(tmp_path / "a.png")
    (tmp_path / "b.png").write_bytes(b"broken")
    items = [Item(name, tmp_path / name, (0,), frame=True) for name in ("a.png", "b.png")]
    first = run_evaluation("shapes", items, ["gradient"], tmp_path / "r.csv", metrics=("passes",), progress=False)
    assert first.set_index("image")["error"].ne("").tolist() == [False, True]
    Image.fromarray(good).save(tmp_path / "b.png")   # fixed
    second = run_evaluation("shapes", items, ["gradient"], tmp_path / "r.csv", metrics=("passes",), progress=False)
    assert len(second) == 2 and (second["error"] == "").all() and (second["value"] == 2).all()


@pytest.mark.slow
def test_report_prints_the_table_and_writes_the_plot(tmp_path, capsys):
    folder = _folder(tmp_path / "photos", sizes=((224, 224),) * 3)
    out = tmp_path / "r.parquet"
    assert cli.main(["evaluate", "--images", str(folder), "--methods", "gradient,occlusion", "--quiet",
                     "--out", str(out), *OCCLUSION]) == 0
    capsys.readouterr()
    assert cli.main(["report", str(out), "--plot", str(tmp_path / "plot.png")]) == 0
    printed = capsys.readouterr().out.splitlines()
    rows = {line.split()[0]: line for line in printed if line.split() and line.split()[0] in ("gradient", "occlusion")}
    table = pd.read_parquet(out)
    header = printed[0].split()
    for method, line in rows.items():
        cells = re.findall(r"(\S+) ± (\S+)", line)
        metrics = [h for h in header if h in wb.evaluation.METRICS]
        assert len(cells) == len(metrics) == 7
        for metric, (mean, sem) in zip(metrics, cells):
            values = table[(table["method"] == method) & (table["metric"] == metric)]["value"]
            assert float(mean) == pytest.approx(values.mean(), rel=6e-3, abs=1e-9), (method, metric)
            assert float(sem) == pytest.approx(values.std() / np.sqrt(len(values)), rel=6e-2, abs=1e-9)
        assert line.split()[-1] == "6"
    picture = np.asarray(Image.open(tmp_path / "plot.png"))
    assert picture.shape[0] > 300 and picture.shape[1] > 600 and picture.std() > 10


def test_explain_a_folder_writes_overlays_and_heatmaps(tmp_path, capsys):
    folder = _folder(tmp_path / "photos")
    (folder / "square" / "2.jpg").write_bytes(b"garbage")
    out = tmp_path / "maps"
    assert cli.main(["explain", "--images", str(folder), "--method", "gradient", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "explained 5 of 6 images" in printed and "1 failed" in printed and "square/2.jpg" in printed
    for cls, i in [("circle", 0), ("circle", 1), ("circle", 2), ("square", 0), ("square", 1)]:
        assert np.load(out / cls / f"{i}.npy").shape == (224, 224)   # framed for the 224 px model
        assert np.asarray(Image.open(out / cls / f"{i}.png")).shape == (224, 224, 3)
    index = pd.read_csv(out / "explanations.csv", dtype={"error": str}).fillna({"error": ""})
    assert index["error"].ne("").sum() == 1 and (index.loc[index["error"] == "", "forward_passes"] == 1).all()
    assert cli.main(["explain", "--images", str(folder), "--target", "dog", "--out", str(out), "--quiet"]) == 2
    assert "target: unknown class name 'dog'" in capsys.readouterr().err
    assert cli.main(["explain", "--images", str(folder), "--image", "scene:1", "--out", str(out)]) == 2
    assert "expected exactly one of" in capsys.readouterr().err


def test_image_list_rows_labels_and_masks(tmp_path, shapes):
    Image.fromarray(np.zeros((10, 10, 3), np.uint8)).save(tmp_path / "a.png")
    Image.fromarray(np.full((10, 10), 255, np.uint8)).save(tmp_path / "a_star.png")
    (tmp_path / "list.csv").write_text("path,label,mask\na.png,Star,a_star.png\na.png,circle\nb.png,3\n"
                                       "c.png\nd.png,unicorn\n")
    items = {item.image_id: item for item in image_list(tmp_path / "list.csv", shapes.class_names)}
    assert items["a.png"].targets == (0, 4) and items["a.png"].masks == {4: tmp_path / "a_star.png"}
    assert items["b.png"].targets == (3,) and items["b.png"].error == ""
    assert items["c.png"].targets == () and "expected 'path,label[,mask]' on line 5" in items["c.png"].error
    assert "'unicorn' not among" in items["d.png"].error
    image, regions = items["a.png"].prepare(shapes)
    assert image.shape == (224, 224, 3) and regions[4].all() and set(regions) == {4}


def test_class_names_match_through_a_map_then_loosely(tmp_path):
    names = ("tabby cat", "golden_retriever", "Fire-Truck")
    (tmp_path / "map.json").write_text(json.dumps({"kitty": "tabby cat", "n02": "1"}))
    matcher = ClassMatcher(names, tmp_path / "map.json")
    assert [matcher.index(n) for n in ("kitty", "n02", "Golden Retriever", "fire truck", "2", "dog")] == \
        [0, 1, 1, 2, 2, None]
    (tmp_path / "map.csv").write_text("kitty,tabby cat\nbad row\n")
    with pytest.raises(ValueError, match="class_map: expected 'data set name,model name' on line 2"):
        ClassMatcher(names, tmp_path / "map.csv")
    with pytest.raises(FileNotFoundError, match="class_map: no file"):
        ClassMatcher(names, tmp_path / "missing.json")


def test_folder_and_annotation_specs_give_clear_errors(tmp_path, shapes):
    (tmp_path / "flat").mkdir()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "flat" / "x.png")
    with pytest.raises(ValueError, match="images: no class sub-folders"):
        image_folder(tmp_path / "flat", shapes.class_names)
    with pytest.raises(FileNotFoundError, match="images: no folder"):
        image_folder(tmp_path / "nowhere", shapes.class_names)
    with pytest.raises(ValueError, match="annotations: expected one of voc:DIR"):
        dataset_items(tmp_path / "flat", "yolo:labels", shapes.class_names)
    (tmp_path / "bad.json").write_text("{\"images\": []}")
    with pytest.raises(ValueError, match="not a COCO instances file"):
        coco_items(tmp_path / "flat", tmp_path / "bad.json", shapes.class_names)
    items = mask_folder(tmp_path / "flat", tmp_path, shapes.class_names)   # no mask for x.png
    assert items[0].targets == () and "no mask" in items[0].error


def test_coco_malformed_and_unknown_annotations_are_item_errors(tmp_path, shapes):
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "x.png")
    coco = {"images": [{"id": 1, "file_name": "x.png"}, {"id": 2, "file_name": "gone.png"}],
            "categories": [{"id": 1, "name": "star"}, {"id": 2, "name": "zebra"}],
            "annotations": [{"image_id": 1, "category_id": 1, "bbox": [1, 1, 3, 3]},
                            {"image_id": 1, "category_id": 2, "bbox": [0, 0, 2, 2]},
                            {"image_id": 1, "category_id": 1, "bbox": [1, 1]},
                            {"image_id": 2, "category_id": 1, "bbox": [0, 0, 4, 4]}]}
    (tmp_path / "c.json").write_text(json.dumps(coco))
    x, gone = coco_items(tmp_path, tmp_path / "c.json", shapes.class_names)
    assert x.targets == (4,) and x.boxes[4].tolist() == [[1, 1, 4, 4]]
    assert "'zebra' not among" in x.error and "annotation 2 in c.json is malformed" in x.error
    assert "image: no file" in gone.error


def test_one_mask_per_image_in_an_image_folder_is_the_mask_of_its_class(tmp_path, shapes):
    (tmp_path / "photos" / "star").mkdir(parents=True)
    (tmp_path / "masks" / "star" / "b").mkdir(parents=True)
    for name in ("a", "b", "c"):
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "photos" / "star" / f"{name}.jpg")
    Image.fromarray(np.full((8, 8), 255, np.uint8)).save(tmp_path / "masks" / "star" / "a.png")
    Image.fromarray(np.full((8, 8), 255, np.uint8)).save(tmp_path / "masks" / "star" / "b" / "Circle.png")
    via_folder = image_folder(tmp_path / "photos", shapes.class_names, masks=tmp_path / "masks")
    via_spec = dataset_items(tmp_path / "photos", f"masks:{tmp_path / 'masks'}", shapes.class_names)
    assert via_folder == via_spec
    a, b, c = via_folder
    assert a.targets == (4,) and a.masks == {4: tmp_path.resolve() / "masks" / "star" / "a.png"} and not a.error
    assert b.targets == (0, 4) and set(b.masks) == {0} and "no mask for class 'star'" in b.error
    assert c.targets == (4,) and c.masks is None and "no mask for class 'star'" in c.error


def test_an_object_outside_the_models_crop_gives_localisation_error_rows_only(tmp_path):
    Image.fromarray(np.full((100, 300, 3), 128, np.uint8)).save(tmp_path / "wide.png")
    item = Item("wide", tmp_path / "wide.png", (1,), boxes={1: np.array([[0, 10, 40, 90]])}, frame=True)
    table = run_evaluation("shapes", [item], ["gradient"], tmp_path / "r.csv", metrics=("passes", "pointing"),
                           progress=False).set_index("metric")
    assert table.loc["passes", "error"] == "" and table.loc["passes", "value"] == 2
    assert "outside the model's crop" in table.loc["pointing", "error"] and np.isnan(table.loc["pointing", "value"])


def test_an_image_set_keeps_the_listed_images_in_its_order(tmp_path, shapes):
    (tmp_path / "JPEGImages").mkdir()
    (tmp_path / "Annotations").mkdir()
    for name in ("000001", "000002", "000003"):
        Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(tmp_path / "JPEGImages" / f"{name}.jpg")
        write_voc(tmp_path / "Annotations" / f"{name}.xml", f"{name}.jpg", (20, 30), [("star", 2, 9, 3, 12)])
    (tmp_path / "test.txt").write_text("000003\n000001  1\n\n000009\n000003\n")
    items = dataset_items(tmp_path / "JPEGImages", f"voc:{tmp_path / 'Annotations'}", shapes.class_names,
                          image_set=tmp_path / "test.txt")
    assert [item.image_id for item in items] == ["000003.jpg", "000001.jpg", "000009"]
    assert items[0].targets == (4,) and items[0].boxes[4].tolist() == [[3, 2, 13, 10]] and not items[0].error
    assert items[2].targets == () and "'000009' is listed in test.txt but not found" in items[2].error
    with pytest.raises(FileNotFoundError, match="image_set: no file"):
        dataset_items(tmp_path / "JPEGImages", f"voc:{tmp_path / 'Annotations'}", shapes.class_names,
                      image_set=tmp_path / "nope.txt")
