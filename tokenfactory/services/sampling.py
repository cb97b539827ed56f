"""Turn a request's sampling fields into engine sampling parameters, with the API defaults."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from ..engine.protocol import GenerationRequest, SamplingParams
from ..errors import InvalidRequestError
from ..wire.common import MAX_SEED, SamplingFields

DEFAULT_TEMPERATURE = 0.7
MAX_STOP_SEQUENCES = 4


def sampling_params(req: SamplingFields) -> SamplingParams:
    return SamplingParams(
        max_tokens=req.output_limit,
        temperature=DEFAULT_TEMPERATURE if req.temperature is None else req.temperature,
        top_p=1.0 if req.top_p is None else req.top_p,
        presence_penalty=req.presence_penalty or 0.0,
        frequency_penalty=req.frequency_penalty or 0.0,
        seed=req.seed,
        top_k=max(req.top_k or 0, 0),
        min_p=req.min_p or 0.0,
        repetition_penalty=1.0 if req.repetition_penalty is None else req.repetition_penalty,
        min_tokens=req.min_tokens or 0,
        ignore_eos=bool(req.ignore_eos),
        logit_bias=tuple(sorted(req.token_biases().items())),
    )


def check_token_ids(ids: Iterable[int], tokenizer: Any, param: str) -> None:
    """A 400 naming ``param`` for a token id outside the model's vocabulary."""
    ids = list(ids)
    if not ids:
        return
    vocab = len(tokenizer)
    bad = sorted(i for i in ids if not 0 <= i < vocab)
    if bad:
        raise InvalidRequestError(
            f"'{param}' names token id {bad[0]}, outside the model's vocabulary (0..{vocab - 1})",
            param=param,
            code="invalid_parameter",
        )


def model_sampling(req: SamplingFields, tokenizer: Any) -> SamplingParams:
    """:func:`sampling_params`, with ``logit_bias`` checked against the model's vocabulary."""
    check_token_ids(req.token_biases(), tokenizer, "logit_bias")
    return sampling_params(req)


def choice_copies(gen: GenerationRequest, n: int) -> list[GenerationRequest]:
    """The ``n`` generations of one prompt: each its own request id and, when the request
    names a seed, its own seed (seed + i), so the choices differ and still repeat."""
    copies = [gen]
    for i in range(1, n):
        sampling = gen.sampling
        if sampling.seed is not None:
            sampling = replace(sampling, seed=(sampling.seed + i) % (MAX_SEED + 1))
        copies.append(replace(gen, request_id=f"{gen.request_id}-{i}", sampling=sampling))
    return copies


def stop_sequences(req: SamplingFields) -> list[str]:
    stops = req.stop_list()
    if len(stops) > MAX_STOP_SEQUENCES:
        raise InvalidRequestError(
            f"'stop' accepts at most {MAX_STOP_SEQUENCES} sequences, got {len(stops)}",
            param="stop",
            code="invalid_parameter",
        )
    if any(not isinstance(s, str) or s == "" for s in stops):
        raise InvalidRequestError(
            "'stop' sequences must be non-empty strings", param="stop", code="invalid_parameter"
        )
    return stops


def max_tokens_requested(req: SamplingFields) -> bool:
    return req.asked_max_tokens is not None


def fit_to_context(
    prompt_tokens: int,
    params: SamplingParams,
    context_length: int | None,
    *,
    requested: bool,
    prompt_param: str = "messages",
) -> SamplingParams:
    """The same answer on every engine: a prompt that fills the context, or an asked-for
    ``max_tokens`` with no room after the prompt, is a 400; the default ``max_tokens``
    shrinks to the room left."""
    if context_length is None:
        return params
    if prompt_tokens >= context_length:
        raise InvalidRequestError(
            f"Context length exceeded: the prompt has {prompt_tokens} tokens and the model's"
            f" context is {context_length}",
            code="context_length_exceeded",
            param=prompt_param,
        )
    room = context_length - prompt_tokens
    if params.max_tokens <= room:
        return params
    if requested:
        raise InvalidRequestError(
            f"Context length exceeded: max_tokens is {params.max_tokens}, but the prompt has"
            f" {prompt_tokens} tokens and the model's context is {context_length}, which"
            f" leaves room for {room}",
            code="context_length_exceeded",
            param="max_tokens",
        )
    return replace(params, max_tokens=room)
