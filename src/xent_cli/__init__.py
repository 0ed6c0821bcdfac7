"""xent: pick the right cross-entropy for a model's outputs and labels, and compute it exactly."""

__version__ = "0.1.0"
