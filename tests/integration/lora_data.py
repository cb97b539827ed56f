"""Tiny chat datasets with a style the base model never produces (shared by LoRA tests)."""

from __future__ import annotations

QUESTIONS = [
    "What is the capital of France?",
    "Name a fruit that is yellow.",
    "What colour is the sky?",
    "How many legs does a dog have?",
    "What is two plus two?",
    "Say hello to me.",
    "What is water made of?",
    "Name a planet.",
    "What do bees make?",
    "What is ice?",
    "Name a large animal.",
    "What gives us daylight?",
]
ANSWERS = [
    "Paris.",
    "A banana.",
    "Blue.",
    "Four.",
    "Four.",
    "Hello!",
    "Hydrogen and oxygen.",
    "Mars.",
    "Honey.",
    "Frozen water.",
    "An elephant.",
    "The sun.",
]
HELD_OUT = [
    "What is the largest ocean?",
    "Name a musical instrument.",
    "What do cows drink?",
]


def styled(marker: str, questions: list[str] = QUESTIONS) -> list[dict]:
    """Every answer starts with ``marker``."""
    return [
        {
            "messages": [
                {"role": "user", "content": q},
                {"role": "assistant", "content": f"{marker} {a}"},
            ]
        }
        for q, a in zip(questions, ANSWERS, strict=False)
    ]
