"""Metrics of explanation quality: region perturbation / AOPC and localisation."""
from .localisation import box_mask, energy_pointing_game, pointing_game, top_iou
from .perturbation import Curve, evaluate, perturbation_curve

__all__ = ["Curve", "box_mask", "energy_pointing_game", "evaluate", "perturbation_curve", "pointing_game", "top_iou"]
