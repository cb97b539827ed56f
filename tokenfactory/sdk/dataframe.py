"""``map_prompts``: run a prompt template over a DataFrame, a few requests at a time."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import TYPE_CHECKING, Any

from ._jsonl import render_prompt

if TYPE_CHECKING:
    import pandas as pd

    from ._client import TokenFactory


def map_prompts(
    df: pd.DataFrame,
    template: str,
    *,
    column: str | None = None,
    model: str | None = None,
    client: TokenFactory | None = None,
    concurrency: int = 8,
    system: str | None = None,
    output_column: str = "response",
    error_column: str = "error",
    progress: bool = True,
    **params: Any,
) -> pd.DataFrame:
    """Ask the model once per row and return a copy of ``df`` with the answers added.

    ``template`` is a ``str.format`` template: ``{}`` is the row's ``column`` value and
    ``{name}`` any column of the row. At most ``concurrency`` requests run at once; a row whose
    request fails gets None in ``output_column`` and the error in ``error_column`` (the rest
    still run). Extra keyword arguments (``max_tokens``, ``temperature``, ...) go to
    ``chat.completions.create``.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    if column is not None and column not in df.columns:
        raise KeyError(f"column {column!r} is not in the DataFrame ({list(df.columns)})")
    prompts = [render_prompt(template, row, column) for row in df.to_dict("records")]
    if model is None:
        from tokenfactory.config import DEFAULT_CHAT_MODEL

        model = DEFAULT_CHAT_MODEL
    own_client = client is None
    if client is None:
        from ._client import TokenFactory

        client = TokenFactory()
    try:
        answers, errors = _run(client, prompts, model, system, concurrency, progress, params)
    finally:
        if own_client:
            client.close()
    out = df.copy()
    out[output_column] = answers
    out[error_column] = errors
    return out


def _run(
    client: TokenFactory,
    prompts: Sequence[str],
    model: str,
    system: str | None,
    concurrency: int,
    progress: bool,
    params: dict[str, Any],
) -> tuple[list[str | None], list[str | None]]:
    from tqdm.auto import tqdm

    answers: list[str | None] = [None] * len(prompts)
    errors: list[str | None] = [None] * len(prompts)
    prefix = [{"role": "system", "content": system}] if system else []

    def ask(prompt: str) -> str:
        messages = [*prefix, {"role": "user", "content": prompt}]
        response = client.chat.completions.create(model=model, messages=messages, **params)
        return response.choices[0].message.content or ""

    with (
        ThreadPoolExecutor(max_workers=concurrency) as pool,
        tqdm(total=len(prompts), disable=not progress, desc=model) as bar,
    ):
        futures = {pool.submit(ask, prompt): i for i, prompt in enumerate(prompts)}
        for future in as_completed(futures):
            i = futures[future]
            try:
                answers[i] = future.result()
            except Exception as exc:  # a failed row is data, not a reason to stop the rest
                errors[i] = f"{type(exc).__name__}: {exc}"
            bar.update(1)
    return answers, errors
