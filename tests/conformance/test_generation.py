"""What a chat or completion answers, pinned the same on every engine: finish reasons, stop
strings, seeds, streaming against non-streaming, and the usage counts."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

QUESTION = [{"role": "user", "content": "What is the capital of France? Answer in a sentence."}]
SHORT = [{"role": "user", "content": "Say hello."}]


def chat(target, messages=QUESTION, **kwargs):
    kwargs = {"max_tokens": 40, "temperature": 0} | kwargs
    return target.client.chat.completions.create(
        model=target.chat_model, messages=messages, **kwargs
    )


def stream_chat(target, messages=QUESTION, **kwargs):
    """(text, finish_reason, usage) of a streamed chat."""
    kwargs = {"max_tokens": 40, "temperature": 0} | kwargs
    stream = target.client.chat.completions.create(
        model=target.chat_model,
        messages=messages,
        stream=True,
        stream_options={"include_usage": True},
        **kwargs,
    )
    pieces, finish, usage = [], None, None
    for chunk in stream:
        usage = chunk.usage or usage
        for choice in chunk.choices:
            pieces.append(choice.delta.content or "")
            finish = choice.finish_reason or finish
    return "".join(pieces), finish, usage


def prompt_ids(target, messages) -> list[int]:
    tokenizer = target.tokenizer(target.chat_model)
    return list(
        tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, tokenize=True, return_dict=False
        )
    )


def test_an_answer_that_ends_by_itself_finishes_with_stop(target):
    r = chat(target, SHORT, max_tokens=80)
    choice = r.choices[0]
    assert choice.finish_reason == "stop", choice.message.content
    assert choice.message.content
    assert 0 < r.usage.completion_tokens < 80


def test_max_tokens_cuts_with_length_and_counts_exactly(target):
    for n in (1, 5):
        r = chat(target, max_tokens=n)
        assert r.choices[0].finish_reason == "length"
        assert r.usage.completion_tokens == n


def test_usage_counts_the_templated_prompt_and_adds_up(target):
    r = chat(target, max_tokens=8)
    assert r.usage.prompt_tokens == len(prompt_ids(target, QUESTION))
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
    completion = target.client.completions.create(
        model=target.chat_model, prompt="The capital of France is", max_tokens=4, temperature=0
    )
    tokenizer = target.tokenizer(target.chat_model)
    expected = len(tokenizer("The capital of France is", add_special_tokens=False)["input_ids"])
    assert completion.usage.prompt_tokens == expected
    assert (completion.usage.completion_tokens, completion.choices[0].finish_reason) == (
        4,
        "length",
    )


def test_streaming_equals_non_streaming_under_greedy(target):
    for messages, max_tokens in ((QUESTION, 24), (SHORT, 80), (QUESTION, 6)):
        whole = chat(target, messages, max_tokens=max_tokens)
        text, finish, usage = stream_chat(target, messages, max_tokens=max_tokens)
        assert text == whole.choices[0].message.content
        assert finish == whole.choices[0].finish_reason
        assert usage is not None
        assert (usage.prompt_tokens, usage.completion_tokens) == (
            whole.usage.prompt_tokens,
            whole.usage.completion_tokens,
        )


def test_a_stop_string_cuts_before_it_streamed_or_not(target):
    whole = chat(target, max_tokens=30)
    full = whole.choices[0].message.content
    assert len(full) > 12, full
    # three characters from the middle: usually spans a token boundary
    start = len(full) // 2
    stop = full[start : start + 3]
    expected = full[: full.index(stop)]
    cut = chat(target, max_tokens=30, stop=[stop, "never-seen-stop"])
    assert cut.choices[0].finish_reason == "stop"
    assert cut.choices[0].message.content == expected
    assert cut.usage.completion_tokens < whole.usage.completion_tokens
    text, finish, _ = stream_chat(target, max_tokens=30, stop=[stop])
    assert (text, finish) == (expected, "stop")
    # a stop string the answer never contains changes nothing
    same = chat(target, max_tokens=30, stop=["never-seen-stop"])
    assert (same.choices[0].message.content, same.choices[0].finish_reason) == (
        full,
        whole.choices[0].finish_reason,
    )


def test_completions_honour_stop_strings(target):
    kwargs = dict(model=target.chat_model, prompt="One, two, three,", max_tokens=16, temperature=0)
    full = target.client.completions.create(**kwargs).choices[0].text
    stop = full.strip()[:2]
    cut = target.client.completions.create(**kwargs, stop=[stop]).choices[0]
    assert cut.finish_reason == "stop"
    assert cut.text == full[: full.index(stop)]


def test_a_seed_repeats_a_sampled_answer(target):
    kwargs = {"temperature": 1.0, "max_tokens": 16}
    answers = {chat(target, seed=1234, **kwargs).choices[0].message.content for _ in range(2)}
    assert len(answers) == 1
    streamed, _, _ = stream_chat(target, seed=1234, **kwargs)
    assert answers == {streamed}
