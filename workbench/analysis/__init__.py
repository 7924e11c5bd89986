"""Analyses over many perturbations or many explanations (Ablation-CA; SpRAy comes with its issue)."""
from .ablation_ca import Correlation, Group, ablation_ca, ablation_ca_sweep

__all__ = ["Correlation", "Group", "ablation_ca", "ablation_ca_sweep"]
