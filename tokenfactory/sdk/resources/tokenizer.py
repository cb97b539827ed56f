"""The tokenizer and price calls (``client.tokenize``, ``detokenize``, ``prices``): built here,
sent by both clients."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tokenfactory.wire.tokenize import DetokenizeResponse, PriceList, TokenizeResponse

from .._request import APIRequest
from ._params import MessageParam

__all__ = ["DetokenizeResponse", "PriceList", "PriceTable", "TokenizeResponse"]

PriceTable = dict[str, dict[str, float]]  # tier -> {"input", "output"}: USD per 1M tokens


def tokenize_request(
    model: str,
    prompt: str | None,
    messages: Iterable[MessageParam] | None,
    add_special_tokens: bool | None,
    add_generation_prompt: bool,
    return_token_strs: bool,
) -> APIRequest[TokenizeResponse]:
    body: dict[str, Any] = {
        "model": model,
        "prompt": prompt,
        "messages": None if messages is None else list(messages),
        "add_special_tokens": add_special_tokens,
        "add_generation_prompt": add_generation_prompt,
        "return_token_strs": return_token_strs,
    }
    body = {k: v for k, v in body.items() if v is not None}
    return APIRequest("POST", "/tokenize", TokenizeResponse, body=body)


def detokenize_request(model: str, tokens: Iterable[int]) -> APIRequest[DetokenizeResponse]:
    body = {"model": model, "tokens": list(tokens)}
    return APIRequest("POST", "/detokenize", DetokenizeResponse, body=body)


def price_table(prices: PriceList) -> PriceTable:
    return {tier: {"input": p.input, "output": p.output} for tier, p in prices.data.items()}


def prices_request(model: str | None = None) -> APIRequest[PriceList]:
    params = None if model is None else {"model": model}
    return APIRequest("GET", "/prices", PriceList, params=params)
