"""The logprobs of a prompt's own tokens, from the prefill's last hidden states.

Each prompt position's next-token distribution comes from the model's output head, a chunk of
positions at a time: a whole prompt's logits over the vocabulary are never held at once (a
2,048-token prompt on a 49k vocabulary would be 400 MB in float32). Of each position only the
actual next token's logprob and the top alternatives are kept.
"""

from __future__ import annotations

from typing import Any

import torch

from ..protocol import TokenLogprob
from .sampler import LOGPROB_FLOOR

#: prompt positions whose logits are computed together
CHUNK = 256


def output_logits(model: Any, hidden: torch.Tensor) -> torch.Tensor:
    """The logits the model's forward would give for these final hidden states: its output
    head, then the final soft-capping (Gemma 2/3) or scaling (Cohere, Granite) its family
    applies. float32, as the sampler reads them."""
    logits = model.get_output_embeddings()(hidden).float()
    config = model.config
    config = config.get_text_config() if hasattr(config, "get_text_config") else config
    cap = getattr(config, "final_logit_softcapping", None)
    if cap:
        logits = torch.tanh(logits / cap) * cap
    scale = getattr(config, "logit_scale", None)
    if scale and isinstance(scale, int | float):
        logits = logits * scale
    scaling = getattr(config, "logits_scaling", None)
    if scaling and isinstance(scaling, int | float):
        logits = logits / scaling
    return logits


@torch.inference_mode()
def prompt_logprobs(
    model: Any, hidden: torch.Tensor, token_ids: list[int], alternatives: int
) -> list[TokenLogprob | None]:
    """One entry per prompt token: None for the first (nothing predicts it), then each token's
    logprob given the tokens before it and the ``alternatives`` most likely there.

    ``hidden``: the final hidden states at the prompt's positions, ``[len(token_ids), d]``.
    """
    out: list[TokenLogprob | None] = [None]
    targets = torch.tensor(token_ids[1:], dtype=torch.long, device=hidden.device)
    for start in range(0, len(token_ids) - 1, CHUNK):
        stop = min(start + CHUNK, len(token_ids) - 1)
        log_probs = output_logits(model, hidden[start:stop]).log_softmax(dim=-1)
        chosen = log_probs.gather(-1, targets[start:stop, None]).squeeze(-1).tolist()
        if alternatives > 0:
            values, ids = log_probs.topk(min(alternatives, log_probs.shape[-1]), dim=-1)
            tops = [
                tuple(zip(row_ids, row_values, strict=True))
                for row_ids, row_values in zip(ids.tolist(), values.tolist(), strict=True)
            ]
        else:
            tops = [()] * (stop - start)
        for token, logprob, top in zip(token_ids[start + 1 : stop + 1], chosen, tops, strict=True):
            out.append(TokenLogprob(token, max(logprob, LOGPROB_FLOOR), top))
    return out
