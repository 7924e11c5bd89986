"""Analyses over many perturbations or many explanations (Ablation-CA, SpRAy)."""
from .ablation_ca import Correlation, Group, ablation_ca, ablation_ca_sweep
from .spray import SpectralResult, spray, spray_heatmaps

__all__ = ["Correlation", "Group", "SpectralResult", "ablation_ca", "ablation_ca_sweep", "spray", "spray_heatmaps"]
