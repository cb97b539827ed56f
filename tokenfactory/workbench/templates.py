"""A prompt template over a row: ``str.format`` (``{column}``) or Jinja (``{{ column }}``).

The columns a template needs are known before anything runs, so an unknown column is an error
naming the template, the column and the columns there are.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .errors import TemplateError


def is_jinja(text: str) -> bool:
    return "{{" in text or "{%" in text


@dataclass(frozen=True)
class Template:
    text: str
    _jinja: Any = field(default=None, init=False, repr=False, compare=False)

    @cached_property
    def fields(self) -> frozenset[str]:
        """The row columns the template reads."""
        if is_jinja(self.text):
            from jinja2 import Environment, meta

            try:
                parsed = Environment().parse(self.text)
            except Exception as exc:
                raise TemplateError(f"template {self.text!r} is not valid Jinja: {exc}") from None
            return frozenset(meta.find_undeclared_variables(parsed))
        try:
            parsed_fields = list(string.Formatter().parse(self.text))
        except ValueError as exc:
            raise TemplateError(f"template {self.text!r} does not parse: {exc}") from None
        names = set()
        for _, name, _, _ in parsed_fields:
            if name is None:
                continue
            if name == "" or name.isdigit():
                raise TemplateError(
                    f"template {self.text!r} has a positional field '{{{name}}}': "
                    "name the column, e.g. '{question}'"
                )
            names.add(name.split(".")[0].split("[")[0])
        return frozenset(names)

    def check(self, columns: Iterable[str], what: str = "template") -> None:
        available = [str(c) for c in columns]
        missing = sorted(self.fields - set(available))
        if missing:
            raise TemplateError(
                f"{what} {self.text!r} uses column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(repr(m) for m in missing)}, which the data does not have "
                f"(columns: {available})"
            )

    def render(self, row: Mapping[str, Any]) -> str:
        values = {str(k): v for k, v in row.items()}
        if is_jinja(self.text):
            return self._compiled().render(**values)
        return self.text.format(**values)

    def _compiled(self) -> Any:
        if self._jinja is None:
            from jinja2 import Environment, StrictUndefined

            env = Environment(undefined=StrictUndefined, keep_trailing_newline=True)
            object.__setattr__(self, "_jinja", env.from_string(self.text))
        return self._jinja
