"""The model zoo: the shipped shapes CNN and torchvision architectures (weights optional, never downloaded)."""
from .shapes import ShapesNet
from .zoo import ModelEntry, as_model_entry, available_models, load_model, wrap_module

__all__ = ["ModelEntry", "ShapesNet", "as_model_entry", "available_models", "load_model", "wrap_module"]
