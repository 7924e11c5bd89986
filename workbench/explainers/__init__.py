"""Explainers, one module per method, registered by name (see :mod:`.registry`): every module of this package
is imported with it, and so registers its methods; a new method is one new module here."""
import importlib
import pkgutil

from .registry import Context, Method, MethodOutput, get_method, methods, register, unregister

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    importlib.import_module(f"{__name__}.{_module}")

__all__ = ["Context", "Method", "MethodOutput", "get_method", "methods", "register", "unregister"]
