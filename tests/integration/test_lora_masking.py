"""Only the assistant's tokens are supervised, with the real SmolLM2 chat template."""

from __future__ import annotations

import pytest

from tokenfactory.config import DEFAULT_CHAT_MODEL
from tokenfactory.lora.masking import IGNORE, tokenize_all, tokenize_example

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    from tokenfactory.engine import model_files

    return AutoTokenizer.from_pretrained(model_files.resolve(DEFAULT_CHAT_MODEL))


def supervised_text(tokenizer, example) -> str:
    return tokenizer.decode([t for t in example.labels if t != IGNORE])


def test_prompt_tokens_are_masked_and_answers_kept(tokenizer):
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Capital of France?"},
        {"role": "assistant", "content": "Arr! Paris."},
        {"role": "user", "content": "And Spain?"},
        {"role": "assistant", "content": "Arr! Madrid."},
    ]
    example = tokenize_example(tokenizer, messages, 1024)
    assert len(example.labels) == len(example.input_ids)
    # each answer, its end-of-turn token and the newline the template puts after it
    expected = "Arr! Paris.<|im_end|>\nArr! Madrid.<|im_end|>\n"
    assert supervised_text(tokenizer, example) == expected
    supervised = [i for i, t in enumerate(example.labels) if t != IGNORE]
    assert all(example.labels[i] == example.input_ids[i] for i in supervised)


def test_truncation_that_leaves_no_answer_is_an_error(tokenizer):
    messages = [
        {"role": "user", "content": "word " * 200},
        {"role": "assistant", "content": "Arr!"},
    ]
    with pytest.raises(ValueError, match="no assistant tokens within the first 64"):
        tokenize_all(tokenizer, [messages], 64)
