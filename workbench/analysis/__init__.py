"""Analyses over many perturbations or many explanations (Ablation-CA, SpRAy, sweeps, sanity checks)."""
from .ablation_ca import Correlation, Group, ablation_ca, ablation_ca_sweep
from .sanity import SanityResult, sanity_check
from .spray import SpectralResult, spray, spray_heatmaps
from .sweep import SweepResult, sweep

__all__ = ["Correlation", "Group", "SanityResult", "SpectralResult", "SweepResult", "ablation_ca", "ablation_ca_sweep",
           "sanity_check", "spray", "spray_heatmaps", "sweep"]
