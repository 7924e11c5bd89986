"""XAI Workbench: explain what image classifiers look at, and measure how good the explanations are.

>>> import workbench as wb
>>> model = wb.load_model("shapes", device="cpu")
>>> scene = wb.data.make_scene(0)
>>> wb.explain(model, scene.image, "occlusion", patch=32, stride=16).heatmap.shape
(224, 224)
"""
from . import data
from .analysis import (Correlation, SanityResult, SpectralResult, SweepResult, ablation_ca, ablation_ca_sweep,
                       sanity_check, spray, spray_heatmaps, sweep)
from .api import explain, explain_batch
from .engine import Cancelled, Engine
from .evaluation import run_evaluation
from .explainers import get_method, methods, register
from .images import load_image
from .metrics import Curve, evaluate, insertion_deletion_curve, perturbation_curve, road_curve
from .models import ModelEntry, available_models, load_model, wrap_model
from .params import ParamInfo, Spec, param
from .results import Cost, Explanation, Partial

__version__ = "0.1.0"

__all__ = ["Cancelled", "Correlation", "Cost", "Curve", "Engine", "Explanation", "ModelEntry", "ParamInfo", "Partial",
           "SanityResult", "SpectralResult", "Spec", "SweepResult", "Workbench", "sanity_check", "spray",
           "spray_heatmaps", "sweep",
           "ablation_ca", "ablation_ca_sweep", "available_models", "data", "evaluate", "explain", "explain_batch", "get_method", "load_image",
           "insertion_deletion_curve", "load_model", "methods", "param", "perturbation_curve", "register", "road_curve",
           "run_evaluation", "wrap_model"]


def __getattr__(name: str):
    """``wb.Workbench`` is imported on first use (it pulls in ipywidgets and Plotly)."""
    if name == "Workbench":
        from .ui import Workbench
        return Workbench
    raise AttributeError(f"module 'workbench' has no attribute {name!r}")
