"""Explainers, one module per method, registered by name (see :mod:`.registry`)."""
from . import backprop, fmo, lime, occlusion, rise  # noqa: F401  (importing registers the methods)
from .registry import Context, Method, MethodOutput, get_method, methods, register, unregister

__all__ = ["Context", "Method", "MethodOutput", "get_method", "methods", "register", "unregister"]
