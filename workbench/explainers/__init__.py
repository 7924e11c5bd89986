"""Explainers, one module per method, registered by name (see :mod:`.registry`); importing registers them."""
from . import (backprop, extremal_perturbation, fmo, lime, meaningful_perturbation, neuromask,  # noqa: F401
               occlusion, rise)
from .registry import Context, Method, MethodOutput, get_method, methods, register, unregister

__all__ = ["Context", "Method", "MethodOutput", "get_method", "methods", "register", "unregister"]
