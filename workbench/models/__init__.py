"""The model zoo: the shipped shapes CNN, the pretrained ImageNet EfficientNet-Lite0, torchvision architectures
(weights from a local file or, when named, torchvision's) and ``wrap_model`` for your own network."""
from .efficientnet_lite import EfficientNetLite0
from .shapes import ShapesNet
from .zoo import ModelEntry, as_model_entry, available_models, imagenet_class_names, load_model, wrap_model, wrap_module

__all__ = ["EfficientNetLite0", "ModelEntry", "ShapesNet", "as_model_entry", "available_models",
           "imagenet_class_names", "load_model", "wrap_model", "wrap_module"]
