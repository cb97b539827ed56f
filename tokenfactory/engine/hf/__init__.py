"""The Hugging Face transformers engine (CPU by default, CUDA when present)."""

from .engine import TransformersEngine

__all__ = ["TransformersEngine"]
