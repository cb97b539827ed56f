"""Prometheus lines for each upstream: state, load and counts, labelled by model and URL."""

from __future__ import annotations

STATES = ("healthy", "loading", "unknown", "ejected")

SERIES = [
    ("tokenfactory_upstream_up", "gauge", "1 while the upstream takes requests.", None),
    ("tokenfactory_upstream_outstanding", "gauge", "Requests in flight.", "outstanding"),
    ("tokenfactory_upstream_max_concurrency", "gauge", "Per-replica cap.", "max_concurrency"),
    ("tokenfactory_upstream_requests_total", "counter", "Requests answered.", "served"),
    ("tokenfactory_upstream_failures_total", "counter", "Connection errors seen.", "failures"),
    (
        "tokenfactory_upstream_retried_total",
        "counter",
        "Requests moved to another replica after failing here.",
        "retried_away",
    ),
    ("tokenfactory_upstream_ejections_total", "counter", "Times ejected.", "ejections"),
]


def _esc(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render(snapshot: list[dict]) -> str:
    if not snapshot:
        return ""
    lines: list[str] = []
    for name, kind, help_text, key in SERIES:
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
        for up in snapshot:
            labels = f'model="{_esc(up["model"])}",url="{_esc(up["url"])}"'
            value = int(up["state"] == "healthy") if key is None else up[key]
            lines.append(f"{name}{{{labels}}} {value}")
    name = "tokenfactory_upstream_state"
    lines += [f"# HELP {name} 1 for the state each upstream is in.", f"# TYPE {name} gauge"]
    for up in snapshot:
        for state in STATES:
            labels = f'model="{_esc(up["model"])}",url="{_esc(up["url"])}",state="{state}"'
            lines.append(f"{name}{{{labels}}} {int(up['state'] == state)}")
    return "\n".join(lines) + "\n"
