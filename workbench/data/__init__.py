"""Data: synthetic scenes with exact masks and real photos bundled with scikit-image."""
from .photos import PHOTO_MODEL, PHOTOS, default_model_for, photo, photo_for, sample_images
from .scenes import SHAPE_CLASSES, Scene, add_watermark, make_scene, make_scenes, watermark_box

__all__ = ["PHOTO_MODEL", "PHOTOS", "default_model_for", "photo_for", "SHAPE_CLASSES", "Scene", "add_watermark", "make_scene", "make_scenes", "photo",
           "sample_images", "watermark_box"]
