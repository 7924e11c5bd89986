"""Metrics of explanation quality: region perturbation / AOPC, ROAD, insertion and deletion, faithfulness
correlation, max-sensitivity, sparseness, complexity (all by name through :func:`evaluate`) and localisation."""
from .complexity import complexity, sparseness
from .faithfulness import faithfulness_correlation
from .insertion_deletion import insertion_deletion_curve
from .localisation import box_mask, energy_pointing_game, pointing_game, top_iou
from .perturbation import Curve, perturbation_curve
from .registry import EXPLANATION_METRICS, METRIC_INFO, evaluate
from .road import noisy_linear_imputation, road_curve
from .robustness import max_sensitivity

__all__ = ["Curve", "EXPLANATION_METRICS", "METRIC_INFO", "box_mask", "complexity", "energy_pointing_game",
           "evaluate", "faithfulness_correlation", "insertion_deletion_curve", "max_sensitivity",
           "noisy_linear_imputation", "perturbation_curve", "pointing_game", "road_curve", "sparseness", "top_iou"]
