"""Notebook templates the JupyterLab launcher and sidebar create notebooks from."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
BASE_URL_LINE = re.compile(r"^BASE_URL = None\b.*$", re.MULTILINE)


@dataclass(frozen=True)
class Template:
    name: str
    title: str
    description: str
    filename: str

    @property
    def path(self) -> Path:
        return HERE / f"{self.name}.ipynb"


TEMPLATES: dict[str, Template] = {
    t.name: t
    for t in (
        Template("playground", "Playground", "Chat with a model, streaming", "Playground.ipynb"),
        Template(
            "model-library", "Model Library", "Browse, load and unload models", "Models.ipynb"
        ),
        Template("batch-job", "Batch Job", "Run a JSONL batch at batch prices", "Batch.ipynb"),
        Template(
            "lora-training", "LoRA Training", "Fine-tune an adapter and serve it", "LoRA.ipynb"
        ),
    )
}


def catalog() -> list[dict[str, str]]:
    return [
        {"name": t.name, "title": t.title, "description": t.description, "filename": t.filename}
        for t in TEMPLATES.values()
    ]


def render(name: str, *, base_url: str | None = None) -> dict:
    """The template as a notebook dict; ``base_url`` points it at a running gateway."""
    notebook = json.loads(TEMPLATES[name].path.read_text())
    if base_url:
        for cell in notebook["cells"]:
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            replaced = BASE_URL_LINE.sub(f"BASE_URL = {str(base_url)!r}", source)
            if replaced != source:
                cell["source"] = replaced
                break
    return notebook
