"""Incremental detokenisation and stop strings on the real tokenizers, against ``decode``."""

from __future__ import annotations

import asyncio
import random

import pytest

from tokenfactory.config import DEFAULT_CHAT_MODEL, DEFAULT_EMBEDDING_MODEL
from tokenfactory.engine.protocol import GenerationOutput, GenerationRequest
from tokenfactory.services.detokenize import (
    StreamDetokenizer,
    WindowDetokenizer,
    incremental_detokenizer,
)
from tokenfactory.services.generation import GenerationResult, stream_text

TEXT = (
    "Zoë's café serves crêpes — 日本の茶室 🍵🫖 and naïve “quotes”.\n"
    "  Indented  code:\tx = {'a': 1}  # done. Ünïcödé ends here 🎉"
)


@pytest.fixture(scope="module")
def chat_tokenizer():
    from transformers import AutoTokenizer

    from tokenfactory.engine.model_files import resolve

    return AutoTokenizer.from_pretrained(resolve(DEFAULT_CHAT_MODEL))


def chunked(ids: list[int], seed: int) -> list[list[int]]:
    rng = random.Random(seed)
    out, i = [], 0
    while i < len(ids):
        n = rng.choice([1, 1, 1, 2, 3])
        out.append(ids[i : i + n])
        i += n
    return out


def run(detok, pieces: list[list[int]]) -> list[str]:
    deltas = [detok.push(p) for p in pieces]
    return [*deltas, detok.flush()]


def test_fast_path_is_chosen_for_smollm2(chat_tokenizer):
    assert isinstance(incremental_detokenizer(chat_tokenizer), StreamDetokenizer)


@pytest.mark.parametrize("seed", range(5))
def test_deltas_add_up_to_decode_across_multibyte_characters(chat_tokenizer, seed):
    tok = chat_tokenizer
    ids = tok.encode(TEXT, add_special_tokens=False)
    # special tokens in the middle are skipped, as decode(skip_special_tokens=True) does
    ids = [*ids[:10], tok.eos_token_id, *ids[10:], tok.eos_token_id]
    expected = tok.decode(ids, skip_special_tokens=True)
    for detok in (StreamDetokenizer(tok, tok._tokenizer), WindowDetokenizer(tok)):
        deltas = run(detok, chunked(ids, seed))
        assert "".join(deltas) == expected
        assert not any("\ufffd" in d for d in deltas)  # no half characters on the way


def test_a_sequence_cut_inside_a_character_flushes_what_decode_gives(chat_tokenizer):
    tok = chat_tokenizer
    ids = tok.encode("tea 🍵", add_special_tokens=False)
    cut = ids[:-1]  # the emoji's last byte-level token is missing
    expected = tok.decode(cut, skip_special_tokens=True)
    fast = run(StreamDetokenizer(tok, tok._tokenizer), [[i] for i in cut])
    slow = run(WindowDetokenizer(tok), [[i] for i in cut])
    assert "".join(fast) == "".join(slow) == expected


def test_tokenizers_that_clean_up_spaces_use_the_window_path():
    from transformers import AutoTokenizer

    from tokenfactory.engine.model_files import resolve

    tok = AutoTokenizer.from_pretrained(resolve(DEFAULT_EMBEDDING_MODEL))
    tok.clean_up_tokenization_spaces = True
    detok = incremental_detokenizer(tok)
    assert isinstance(detok, WindowDetokenizer)
    ids = tok.encode("hello , world ! all fine .", add_special_tokens=False)
    assert "".join(run(detok, [[i] for i in ids])) == tok.decode(ids, skip_special_tokens=True)


class ScriptEngine:
    """Emits the given token ids in the given pieces."""

    def __init__(self, pieces: list[list[int]]) -> None:
        self.pieces = pieces

    async def generate(self, request):
        for i, piece in enumerate(self.pieces):
            last = i == len(self.pieces) - 1
            yield GenerationOutput(piece, last, "length" if last else None, 3)


def stream(tok, pieces, stops) -> tuple[list[str], GenerationResult]:
    result = GenerationResult()
    request = GenerationRequest("r", DEFAULT_CHAT_MODEL, [1, 2, 3])

    async def collect():
        return [d async for d in stream_text(ScriptEngine(pieces), tok, request, stops, result)]

    return asyncio.run(collect()), result


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("stop", ["茶室 🍵", "é serves", "”.\n  Ind", "never there"])
def test_stop_strings_split_between_deltas(chat_tokenizer, seed, stop):
    tok = chat_tokenizer
    ids = tok.encode(TEXT, add_special_tokens=False)
    deltas, result = stream(tok, chunked(ids, seed), [stop])
    full = tok.decode(ids, skip_special_tokens=True)
    expected = full[: full.find(stop)] if stop in full else full
    assert "".join(deltas) == result.text == expected
    assert result.finish_reason == ("stop" if stop in full else "length")
    assert result.completion_tokens <= len(ids)
