"""What an evaluation compares: a model (a base model, an adapter, or a checkpoint
``ADAPTER@epoch-N``), with a prompt template, a system prompt and sampling settings.

``candidates`` may be a model id, a :class:`Candidate`, a dict of its fields, a list of those,
or a dict ``{name: any of those}``. Names must be unique; two candidates on the same model get
names from what differs (``model [temperature=0.7]``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .errors import WorkbenchError
from .templates import Template

#: Request fields a candidate may set besides its model, template and system prompt.
SAMPLING = frozenset(
    {
        "max_tokens", "temperature", "top_p", "seed", "stop", "presence_penalty",
        "frequency_penalty", "response_format", "logprobs", "top_logprobs",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Candidate:
    model: str
    template: str | None = None  # None: the evaluation's template
    system: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    name: str | None = None

    @property
    def label(self) -> str:
        return self.name or self.model

    def prompt_template(self, default: str | None) -> Template:
        text = self.template if self.template is not None else default
        if text is None:
            raise WorkbenchError(
                f"candidate {self.label!r} has no template: pass template='...' to evaluate "
                "or give the candidate its own"
            )
        return Template(text)

    def body(self, prompt: str, defaults: Mapping[str, Any]) -> dict[str, Any]:
        messages = [{"role": "system", "content": self.system}] if self.system else []
        messages.append({"role": "user", "content": prompt})
        return {"model": self.model, "messages": messages, **defaults, **self.params}


def candidate(
    model: str,
    *,
    template: str | None = None,
    system: str | None = None,
    name: str | None = None,
    **params: Any,
) -> Candidate:
    """``tf.candidate("my-adapter", temperature=0.7, name="hot")``."""
    unknown = sorted(set(params) - SAMPLING)
    if unknown:
        raise WorkbenchError(
            f"unknown candidate setting{'s' if len(unknown) > 1 else ''} {unknown} "
            f"(known: model, template, system, name, {', '.join(sorted(SAMPLING))})"
        )
    return Candidate(model, template, system, dict(params), name)


def as_candidates(spec: Any) -> list[Candidate]:
    if isinstance(spec, (str, Candidate)) or _is_fields(spec):
        spec = [spec]
    if isinstance(spec, Mapping):
        items = [replace(_one(v), name=str(k)) for k, v in spec.items()]
    elif isinstance(spec, Sequence):
        items = [_one(v) for v in spec]
    else:
        raise WorkbenchError(f"candidates must be model ids or Candidates, not {type(spec)}")
    if not items:
        raise WorkbenchError("give at least one candidate")
    return _unique_names(items)


def _is_fields(spec: Any) -> bool:
    return isinstance(spec, Mapping) and "model" in spec and isinstance(spec["model"], str)


def _one(spec: Any) -> Candidate:
    if isinstance(spec, Candidate):
        return spec
    if isinstance(spec, str):
        return Candidate(spec)
    if _is_fields(spec):
        return candidate(**dict(spec))
    raise WorkbenchError(f"cannot make a candidate from {spec!r}")


def _unique_names(items: list[Candidate]) -> list[Candidate]:
    labels = [c.label for c in items]
    out = []
    for c in items:
        if c.name is None and labels.count(c.label) > 1:
            c = replace(c, name=_describe(c))
        out.append(c)
    names = [c.label for c in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise WorkbenchError(f"candidate names must be unique; repeated: {dupes} (pass name=)")
    return out


def _describe(c: Candidate) -> str:
    parts = [f"{k}={v}" for k, v in sorted(c.params.items())]
    if c.template is not None:
        parts.append(f"template={c.template[:24]!r}")
    if c.system is not None:
        parts.append(f"system={c.system[:24]!r}")
    return f"{c.model} [{', '.join(parts)}]" if parts else c.model


def checkpoints(
    adapter: str,
    *,
    base: bool = True,
    final: bool = True,
    client: Any = None,
    **settings: Any,
) -> dict[str, Candidate]:
    """A LoRA job's candidates for one ``tf.evaluate`` call: its base model (``base``), every
    epoch checkpoint (``ADAPTER@epoch-N``) and the final adapter (``final``), named by role;
    ``settings`` (template, system, sampling) apply to all of them."""
    from .rows import with_client

    def collect(c: Any) -> dict[str, Candidate]:
        record = c.adapters.retrieve(adapter)
        found = c.adapters.checkpoints(adapter).data
        out: dict[str, Candidate] = {}
        if base:
            out["base"] = candidate(record.base_model, **settings)
        for item in found:
            out[f"epoch-{item.epoch}"] = candidate(item.id, **settings)
        if final:
            out[adapter] = candidate(adapter, **settings)
        return out

    return with_client(client, collect)
