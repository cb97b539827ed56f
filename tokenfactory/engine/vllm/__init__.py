"""The vLLM engine (``AsyncLLM``; CUDA, or vLLM's CPU backend). vLLM itself loads lazily."""
