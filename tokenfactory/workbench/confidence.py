"""Confidences from token logprobs (the chat ``logprobs.content`` entries).

- :func:`label_probabilities`: a probability per label for an answer constrained to a JSON
  string from a set of labels. At each position where the next token decides between labels,
  the alternatives' probabilities (``top_logprobs``) are shared out among the labels each one
  leads to; the chosen branch carries its share on to the next decision. Alternatives that
  lead to no label (a grammar would have masked them) are left out, so the result is the
  model's distribution over the labels, summing to 1.
- :func:`field_confidences`: for a JSON object, the probability of each top-level field's
  value: the product of the probabilities of the tokens that wrote it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

Entry = dict[str, Any]  # {"token", "logprob", "top_logprobs": [{"token", "logprob"}]}


def _consistent(text: str, targets: dict[str, str], live: set[str]) -> set[str]:
    written = text.lstrip()
    return {
        label
        for label in live
        if targets[label].startswith(written) or written.startswith(targets[label])
    }


def label_probabilities(entries: Sequence[Entry], labels: Sequence[str]) -> dict[str, float]:
    targets = {label: json.dumps(label) for label in labels}
    mass = dict.fromkeys(labels, 0.0)
    live = set(labels)
    carried = 1.0
    written = ""
    for entry in entries:
        if len(live) <= 1:
            break
        chosen = entry["token"]
        chosen_set = _consistent(written + chosen, targets, live)
        if not chosen_set or chosen_set == live:
            written += chosen
            continue
        alternatives = {chosen: math.exp(entry["logprob"])}
        for alt in entry.get("top_logprobs") or []:
            alternatives.setdefault(alt["token"], math.exp(alt["logprob"]))
        branches: list[tuple[set[str], float]] = []
        for token, p in alternatives.items():
            leads_to = _consistent(written + token, targets, live)
            if leads_to and leads_to != live:
                branches.append((leads_to, p))
        total = sum(p for _, p in branches)
        kept = sum(p for s, p in branches if s == chosen_set)
        for leads_to, p in branches:
            if leads_to == chosen_set:
                continue
            for label in leads_to - chosen_set or leads_to:
                mass[label] += carried * (p / total) / len(leads_to - chosen_set or leads_to)
        carried *= kept / total
        live = chosen_set
        written += chosen
    for label in live:
        mass[label] += carried / len(live)
    norm = sum(mass.values()) or 1.0
    return {label: mass[label] / norm for label in labels}


def value_spans(text: str) -> dict[str, tuple[int, int]]:
    """Character spans of each top-level value of the JSON object ``text``."""
    decoder = json.JSONDecoder()
    spans: dict[str, tuple[int, int]] = {}
    i = _skip(text, 0)
    if i >= len(text) or text[i] != "{":
        return spans
    i = _skip(text, i + 1)
    while i < len(text) and text[i] != "}":
        key, i = decoder.raw_decode(text, i)
        i = _skip(text, i)
        if i >= len(text) or text[i] != ":":
            break
        i = _skip(text, i + 1)
        _, end = decoder.raw_decode(text, i)
        spans[str(key)] = (i, end)
        i = _skip(text, end)
        if i < len(text) and text[i] == ",":
            i = _skip(text, i + 1)
    return spans


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    return i


def field_confidences(text: str, entries: Sequence[Entry]) -> dict[str, float]:
    try:
        spans = value_spans(text)
    except ValueError:
        return {}
    offsets = []
    position = 0
    for entry in entries:
        token = entry["token"]
        offsets.append((position, position + len(token), entry["logprob"]))
        position += len(token)
    out = {}
    for name, (start, end) in spans.items():
        total = sum(lp for a, b, lp in offsets if a < end and b > start)
        out[name] = math.exp(total)
    return out
