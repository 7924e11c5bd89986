"""The Workbench widget: ipywidgets panels and Plotly views over the compute layer."""
from .workbench import Workbench

__all__ = ["Workbench"]
