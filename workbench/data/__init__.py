"""Data: synthetic scenes with exact masks, real photos bundled with scikit-image, and your own images
(ImageFolder trees, CSV lists, PNG masks, VOC and COCO boxes) as lazily loaded evaluation items."""
from .boxes import coco_items, read_voc, voc_items
from .datasets import dataset_items, only_listed
from .items import Item, framing_for
from .photos import DEFAULT_PHOTO, PHOTO_MODEL, PHOTOS, frame_for, model_for_image, photo, photo_for, sample_images
from .scenes import SHAPE_CLASSES, Scene, add_watermark, make_scene, make_scenes, watermark_box
from .sources import ClassMatcher, image_files, image_folder, image_list, mask_folder, read_class_map

__all__ = ["ClassMatcher", "DEFAULT_PHOTO", "Item", "PHOTOS", "PHOTO_MODEL", "SHAPE_CLASSES", "Scene", "add_watermark",
           "coco_items", "dataset_items", "frame_for", "framing_for", "image_files", "image_folder", "image_list",
           "make_scene", "make_scenes", "mask_folder", "model_for_image", "only_listed", "photo", "photo_for",
           "read_class_map",
           "read_voc", "sample_images", "voc_items", "watermark_box"]
