"""The OpenAI-compatible /v1 gateway."""
