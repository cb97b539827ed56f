"""Model aliases: another name for a served model (``tokenfactory serve --alias NAME=MODEL``).

Code written against another provider's model ids (``gpt-4o-mini``, ``text-embedding-ada-002``)
runs unchanged once those ids are aliases of models served here. ``Core`` resolves an alias
once, where a request's model is resolved (``Core.real_model``): every endpoint, batch line and
remote model sees the real id, which is what responses echo and usage records.

An alias names a model the gateway serves (a local or a remote one), never another alias or an
adapter, and never shadows a served model's own id: both are refused when the alias is set.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

from ..errors import InvalidRequestError, ResourceNotFoundError

#: What an alias may look like: an OpenAI-style model id (``gpt-4o``, ``org/name:tag``).
ALIAS_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/@+-]{0,127}$")


class ModelAliases:
    """Alias name -> model id, checked against the models served (``served`` lists their ids)."""

    def __init__(self, served: Callable[[], Iterable[str]]) -> None:
        self._served = served
        self._targets: dict[str, str] = {}

    def target(self, model: str) -> str:
        """The model id ``model`` names: its target when it is an alias, else itself."""
        return self._targets.get(model, model)

    def items(self) -> dict[str, str]:
        return dict(sorted(self._targets.items()))

    def __contains__(self, name: object) -> bool:
        return name in self._targets

    def set(self, name: str, model: str) -> None:
        """Make ``name`` an alias of the served model ``model`` (replacing an alias of that
        name); a clear 400 when ``model`` is not served or ``name`` is a served model's id."""
        served = set(self._served())
        if not ALIAS_NAME.match(name):
            raise InvalidRequestError(
                f"Alias '{name}' is not a valid model id (letters, digits and _.:/@+-, at most"
                " 128 characters)",
                param="alias",
                code="invalid_alias",
            )
        if name in served:
            raise InvalidRequestError(
                f"Alias '{name}' is the id of a model this gateway serves; an alias cannot"
                " replace a model",
                param="alias",
                code="alias_shadows_model",
            )
        if model not in served:
            what = f"an alias (of '{self._targets[model]}')" if model in self._targets else None
            raise InvalidRequestError(
                f"Alias '{name}' names '{model}', which is "
                + (what or "not a model this gateway serves")
                + f"; served models: {', '.join(sorted(served)) or 'none'}",
                param="model",
                code="unknown_alias_target",
            )
        self._targets[name] = model

    def update(self, aliases: Mapping[str, str]) -> None:
        for name, model in aliases.items():
            self.set(name, model)

    def remove(self, name: str) -> str:
        """Drop an alias; returns the model it named (404 when there is no such alias)."""
        if name not in self._targets:
            raise ResourceNotFoundError(f"No alias '{name}'", param="alias", code="alias_not_found")
        return self._targets.pop(name)


def parse_aliases(values: Iterable[str] | Mapping[str, str] | None) -> dict[str, str]:
    """``["NAME=MODEL", ...]`` (the command line's ``--alias``) or a mapping, as a dict."""
    if values is None:
        return {}
    if isinstance(values, Mapping):
        return {str(k).strip(): str(v).strip() for k, v in values.items()}
    parsed: dict[str, str] = {}
    for text in values:
        name, sep, model = text.partition("=")
        if not sep or not name.strip() or not model.strip():
            raise InvalidRequestError(
                f"Alias '{text}' must look like NAME=MODEL (e.g. gpt-4o-mini="
                "HuggingFaceTB/SmolLM2-135M-Instruct)",
                param="alias",
                code="invalid_alias",
            )
        parsed[name.strip()] = model.strip()
    return parsed
