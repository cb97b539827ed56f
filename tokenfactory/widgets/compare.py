"""``tf.compare_adapter``: the base model and a fine-tuned adapter side by side, as a DataFrame."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from ..sdk import TokenFactory


def compare_adapter(
    adapter: str,
    prompts: list[str],
    *,
    base_model: str | None = None,
    client: TokenFactory | None = None,
    system: str | None = None,
    max_tokens: int = 64,
    temperature: float = 0.0,
    **params: Any,
) -> pd.DataFrame:
    """Ask ``base_model`` (default: the adapter's parent) and ``adapter`` every prompt.

    Returns one row per prompt with the columns ``prompt``, ``base`` and ``adapter``; the model
    ids are in ``df.attrs``. All requests go out at once, so the engine serves the base and the
    adapter in the same decode steps. Greedy by default, so differences come from the adapter.
    """
    import pandas as pd

    own_client = client is None
    if client is None:
        from ..sdk import TokenFactory

        client = TokenFactory()
    try:
        if base_model is None:
            base_model = client.adapters.retrieve(adapter).base_model
        prefix = [{"role": "system", "content": system}] if system else []

        def ask(model: str, prompt: str) -> str:
            response = client.chat.completions.create(
                model=model,
                messages=[*prefix, {"role": "user", "content": prompt}],
                max_tokens=max_tokens,
                temperature=temperature,
                **params,
            )
            return response.choices[0].message.content or ""

        jobs = [(m, p) for p in prompts for m in (base_model, adapter)]
        with ThreadPoolExecutor(max_workers=min(16, max(1, len(jobs)))) as pool:
            answers = list(pool.map(lambda job: ask(*job), jobs))
    finally:
        if own_client:
            client.close()
    df = pd.DataFrame(
        {"prompt": prompts, "base": answers[0::2], "adapter": answers[1::2]},
    )
    df.attrs.update(base_model=base_model, adapter=adapter)
    return df
