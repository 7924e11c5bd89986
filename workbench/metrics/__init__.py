"""Metrics of explanation quality (localisation here; region perturbation comes with the evaluation issue)."""
from .localisation import pointing_game

__all__ = ["pointing_game"]
