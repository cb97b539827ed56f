"""Next-token selection for a batch whose rows each have their own sampling parameters.

The steps, in vLLM's order: ``logit_bias`` and the ``min_tokens`` end-of-sequence mask; the
repetition penalty (on prompt and output tokens, as HF and vLLM define it) and the
presence/frequency penalties (on the tokens generated so far, as the OpenAI API defines them);
then rows with ``temperature == 0`` are greedy, the others get temperature, ``min_p``, top-k and
nucleus (top-p) filtering. A row with a ``seed`` draws from its own generator, so its output
does not depend on which other requests share the batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..protocol import SamplingParams, TokenLogprob

#: A logprob JSON can carry: a token the grammar masked out has -inf.
LOGPROB_FLOOR = -9999.0


@dataclass
class RowSampler:
    params: SamplingParams
    generator: torch.Generator | None = None
    output_ids: list[int] = field(default_factory=list)
    logprobs: int | None = None  # None: none; N: the chosen token's and N alternatives'
    last_logprob: TokenLogprob | None = None
    prompt_ids: list[int] = field(default_factory=list)  # what the repetition penalty reads
    eos_ids: frozenset[int] = frozenset()  # masked until ``min_tokens`` were generated

    @classmethod
    def for_params(
        cls,
        params: SamplingParams,
        logprobs: int | None = None,
        *,
        prompt_ids: list[int] | None = None,
        eos_ids: frozenset[int] = frozenset(),
    ) -> RowSampler:
        generator = None
        if params.seed is not None and params.temperature > 0:
            generator = torch.Generator().manual_seed(params.seed)
        return cls(
            params, generator, logprobs=logprobs, prompt_ids=prompt_ids or [], eos_ids=eos_ids
        )

    @property
    def greedy(self) -> bool:
        return self.params.temperature <= 0

    @property
    def penalised(self) -> bool:
        return bool(self.params.presence_penalty or self.params.frequency_penalty)

    @property
    def holds_eos(self) -> bool:
        """End-of-sequence tokens are still masked (``min_tokens`` not reached)."""
        return bool(self.eos_ids) and len(self.output_ids) < self.params.min_tokens


def apply_biases(logits: torch.Tensor, rows: list[RowSampler]) -> None:
    """In place: ``logit_bias`` added, and end-of-sequence tokens masked before ``min_tokens``."""
    vocab = logits.shape[-1]
    for i, row in enumerate(rows):
        for token, bias in row.params.logit_bias:
            if token < vocab:
                logits[i, token] += bias
        if row.holds_eos:
            logits[i, [t for t in row.eos_ids if t < vocab]] = float("-inf")


def apply_penalties(logits: torch.Tensor, rows: list[RowSampler]) -> None:
    """In place: the repetition penalty (a seen token's logit divided by it when positive,
    multiplied when negative), then ``logit -= frequency * count + presence * (count > 0)``
    per generated token."""
    vocab = logits.shape[-1]
    for i, row in enumerate(rows):
        if row.params.repetition_penalty != 1.0:
            seen = torch.tensor(sorted(set(row.prompt_ids) | set(row.output_ids)), dtype=torch.long)
            seen = seen[seen < vocab]
            values = logits[i, seen]
            penalty = row.params.repetition_penalty
            logits[i, seen] = torch.where(values > 0, values / penalty, values * penalty)
        if not row.penalised or not row.output_ids:
            continue
        ids = torch.tensor(row.output_ids, dtype=torch.long)
        counts = torch.bincount(ids[ids < vocab], minlength=vocab).to(logits.dtype)
        logits[i] -= row.params.frequency_penalty * counts
        logits[i] -= row.params.presence_penalty * (counts > 0).to(logits.dtype)


def min_p_filter(logits: torch.Tensor, min_p: torch.Tensor) -> torch.Tensor:
    """Drop tokens whose probability is below ``min_p`` times the most likely one's (per row)."""
    probs = logits.softmax(dim=-1)
    floor = probs.max(dim=-1, keepdim=True).values * min_p.unsqueeze(-1)
    return logits.masked_fill(probs < floor, float("-inf"))


def top_k_filter(logits: torch.Tensor, top_k: torch.Tensor) -> torch.Tensor:
    """Keep each row's ``top_k`` most likely tokens (0: all of them)."""
    vocab = logits.shape[-1]
    k = torch.where(top_k > 0, top_k.clamp(max=vocab), torch.full_like(top_k, vocab))
    sorted_logits = logits.sort(dim=-1, descending=True).values
    threshold = sorted_logits.gather(-1, (k - 1).unsqueeze(-1))
    return logits.masked_fill(logits < threshold, float("-inf"))


def top_p_filter(logits: torch.Tensor, top_p: torch.Tensor) -> torch.Tensor:
    """Keep the smallest set of tokens whose probability reaches ``top_p`` (per row)."""
    sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
    probs = sorted_logits.softmax(dim=-1)
    mass_before = probs.cumsum(dim=-1) - probs
    drop = mass_before >= top_p.unsqueeze(-1)
    drop[:, 0] = False  # the most likely token always survives
    sorted_logits = sorted_logits.masked_fill(drop, float("-inf"))
    return torch.empty_like(logits).scatter_(-1, order, sorted_logits)


def sample(logits: torch.Tensor, rows: list[RowSampler]) -> list[int]:
    """One token id per row. ``logits`` is ``[rows, vocab]`` and may be modified.

    A row that wants logprobs gets ``last_logprob``: log-softmax of the model's logits (after a
    grammar mask, before penalties and temperature, as vLLM reports them by default).
    """
    logits = logits.float()
    wanting = [i for i, row in enumerate(rows) if row.logprobs is not None]
    log_probs = logits[wanting].log_softmax(dim=-1) if wanting else None
    apply_biases(logits, rows)
    apply_penalties(logits, rows)
    chosen = logits.argmax(dim=-1)
    sampled = [i for i, row in enumerate(rows) if not row.greedy]
    if sampled:
        idx = torch.tensor(sampled)
        temps = torch.tensor([rows[i].params.temperature for i in sampled])
        scaled = logits[idx] / temps.unsqueeze(-1)
        min_p = torch.tensor([rows[i].params.min_p for i in sampled])
        if bool((min_p > 0).any()):
            scaled = min_p_filter(scaled, min_p)
        top_k = torch.tensor([rows[i].params.top_k for i in sampled], dtype=torch.long)
        if bool((top_k > 0).any()):
            scaled = top_k_filter(scaled, top_k)
        top_p = torch.tensor([rows[i].params.top_p for i in sampled])
        if bool((top_p < 1.0).any()):
            scaled = top_p_filter(scaled, top_p)
        probs = scaled.softmax(dim=-1)
        shared = [j for j, i in enumerate(sampled) if rows[i].generator is None]
        if shared:
            picks = torch.multinomial(probs[shared], 1).squeeze(-1)
            for j, token in zip(shared, picks.tolist(), strict=True):
                chosen[sampled[j]] = token
        for j, i in enumerate(sampled):
            if rows[i].generator is not None:
                chosen[i] = torch.multinomial(probs[j], 1, generator=rows[i].generator).item()
    tokens = chosen.tolist()
    for row, token in zip(rows, tokens, strict=True):
        row.output_ids.append(token)
    if log_probs is not None:
        for j, i in enumerate(wanting):
            rows[i].last_logprob = token_logprob(log_probs[j], tokens[i], rows[i].logprobs or 0)
    return tokens


def token_logprob(log_probs: torch.Tensor, token: int, alternatives: int) -> TokenLogprob:
    top: tuple[tuple[int, float], ...] = ()
    if alternatives > 0:
        values, ids = log_probs.topk(alternatives)
        top = tuple(
            (t, float(v))
            for t, v in zip(ids.tolist(), values.tolist(), strict=True)
            if v > LOGPROB_FLOOR
        )
    return TokenLogprob(token, max(float(log_probs[token]), LOGPROB_FLOOR), top)
