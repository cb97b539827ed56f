"""Upstream specs: ``MODEL_ID=URL`` from the command line, or a TOML/JSON file.

The same model id given more than once makes replicas of that model. ``URL`` is the
upstream's base (``http://gpu1:8000`` or ``http://gpu1:8000/v1``; ``/v1`` is added when
missing). A key file gives one key per upstream::

    [[upstream]]
    model = "meta-llama/Llama-3.1-8B-Instruct"
    url = "http://gpu1:8000/v1"
    api_key = "..."                 # optional; else --upstream-key
    served_model = "llama"          # optional; the upstream's own name for the model
    max_concurrency = 64            # optional per-replica cap
    modality = "embedding"          # optional; vLLM's /v1/models does not say
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomllib

from ..errors import InvalidRequestError

DEFAULT_MAX_CONCURRENCY = 64


@dataclass(frozen=True)
class UpstreamSpec:
    model: str  # the id clients use
    url: str  # base URL ending in /v1
    api_key: str | None = None
    served_model: str | None = None  # the upstream's id for the model, when it differs
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    modality: str | None = None  # chat | embedding, for upstreams that do not say (vLLM)

    @property
    def upstream_model(self) -> str:
        return self.served_model or self.model


def normalise_url(url: str) -> str:
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise InvalidRequestError(f"Upstream URL '{url}' must start with http:// or https://")
    return url if url.endswith("/v1") else url + "/v1"


def parse_spec(text: str, api_key: str | None = None) -> UpstreamSpec:
    model, sep, url = text.partition("=")
    if not sep or not model.strip() or not url.strip():
        raise InvalidRequestError(f"Upstream '{text}' must look like MODEL_ID=URL")
    return UpstreamSpec(model=model.strip(), url=normalise_url(url), api_key=api_key)


def load_file(path: str | Path, api_key: str | None = None) -> list[UpstreamSpec]:
    path = Path(path)
    raw = path.read_text()
    data: Any = json.loads(raw) if path.suffix == ".json" else tomllib.loads(raw)
    if isinstance(data, dict):
        data = data.get("upstream", data.get("upstreams", []))
    entries: list[Any] = data
    specs = []
    for i, entry in enumerate(entries):
        if "model" not in entry or "url" not in entry:
            raise InvalidRequestError(f"{path}: upstream #{i + 1} needs 'model' and 'url'")
        specs.append(
            UpstreamSpec(
                model=entry["model"],
                url=normalise_url(entry["url"]),
                api_key=entry.get("api_key", api_key),
                served_model=entry.get("served_model"),
                max_concurrency=int(entry.get("max_concurrency", DEFAULT_MAX_CONCURRENCY)),
                modality=entry.get("modality"),
            )
        )
    return specs


def parse_upstreams(
    upstreams: list[str] | dict[str, str | list[str]] | None = None,
    *,
    api_key: str | None = None,
    config_file: str | Path | None = None,
    max_concurrency: int | None = None,
) -> list[UpstreamSpec]:
    """All upstream specs from ``MODEL_ID=URL`` strings (or ``{model: url | [urls]}``) and a
    file. A file entry for the same model and URL as a string spec supplies its key."""
    specs: list[UpstreamSpec] = []
    if isinstance(upstreams, dict):
        for model, urls in upstreams.items():
            for url in [urls] if isinstance(urls, str) else urls:
                specs.append(UpstreamSpec(model, normalise_url(url), api_key))
    else:
        specs = [parse_spec(s, api_key) for s in upstreams or []]
    if config_file:
        from_file = load_file(config_file, api_key)
        by_target = {(s.model, s.url): s for s in from_file}
        specs = [by_target.pop((s.model, s.url), s) for s in specs] + list(by_target.values())
    if max_concurrency is not None:
        specs = [
            UpstreamSpec(s.model, s.url, s.api_key, s.served_model, max_concurrency, s.modality)
            for s in specs
        ]
    return specs


def health_interval_s() -> float:
    """Seconds between health rounds (``TOKENFACTORY_UPSTREAM_HEALTH_INTERVAL``, default 2)."""
    return float(os.environ.get("TOKENFACTORY_UPSTREAM_HEALTH_INTERVAL", "2.0"))
