"""The CPU engine's sampler on hand-made logits (no model)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from tokenfactory.engine.hf.sampler import RowSampler, sample, top_p_filter  # noqa: E402
from tokenfactory.engine.protocol import SamplingParams  # noqa: E402


def rows(*params: SamplingParams) -> list[RowSampler]:
    return [RowSampler.for_params(p) for p in params]


def test_greedy_rows_take_the_argmax_and_record_it():
    logits = torch.tensor([[0.1, 3.0, 0.2], [5.0, 1.0, 0.0]])
    batch = rows(SamplingParams(temperature=0), SamplingParams(temperature=0))
    assert sample(logits, batch) == [1, 0]
    assert batch[0].output_ids == [1] and batch[1].output_ids == [0]


def test_top_p_keeps_the_smallest_set_reaching_the_mass():
    probs = torch.tensor([[0.5, 0.3, 0.15, 0.05]])
    filtered = top_p_filter(probs.log(), torch.tensor([0.7]))
    kept = torch.isfinite(filtered[0]).tolist()
    assert kept == [True, True, False, False]
    # the most likely token survives even with a tiny top_p
    filtered = top_p_filter(probs.log(), torch.tensor([0.01]))
    assert torch.isfinite(filtered[0]).tolist() == [True, False, False, False]


def test_top_p_restricts_what_sampling_can_pick():
    logits = torch.tensor([[2.0, 1.9, -1.0, -1.0]]).repeat(200, 1)
    batch = rows(*[SamplingParams(temperature=1.0, top_p=0.4) for _ in range(200)])
    assert set(sample(logits, batch)) == {0}


def test_frequency_and_presence_penalties_lower_generated_tokens():
    row = RowSampler.for_params(
        SamplingParams(temperature=0, frequency_penalty=1.0, presence_penalty=0.5)
    )
    row.output_ids.extend([0, 0])
    logits = torch.tensor([[3.0, 1.0, 0.0]])
    # token 0: 3.0 - 2*1.0 - 0.5 = 0.5 < 1.0, so token 1 wins
    assert sample(logits, [row]) == [1]
    plain = RowSampler.for_params(SamplingParams(temperature=0))
    plain.output_ids.extend([0, 0])
    assert sample(torch.tensor([[3.0, 1.0, 0.0]]), [plain]) == [0]


def test_a_seeded_row_does_not_depend_on_its_neighbours():
    torch.manual_seed(0)
    logits = torch.randn(1, 50)
    seeded = SamplingParams(temperature=1.0, seed=1234)

    def draw(neighbours: int) -> list[int]:
        row = RowSampler.for_params(seeded)
        others = rows(*[SamplingParams(temperature=1.0) for _ in range(neighbours)])
        out = []
        for _ in range(20):
            batch = [*others, row]
            out.append(sample(logits.repeat(len(batch), 1), batch)[-1])
        return out

    assert draw(0) == draw(3) == draw(7)
    other_seed = RowSampler.for_params(SamplingParams(temperature=1.0, seed=99))
    assert [sample(logits.clone(), [other_seed])[0] for _ in range(20)] != draw(0)


def test_temperature_sampling_follows_the_distribution():
    torch.manual_seed(1)
    logits = torch.tensor([[0.0, 0.0, -50.0]]).repeat(400, 1)
    picks = sample(logits, rows(*[SamplingParams(temperature=1.0) for _ in range(400)]))
    assert set(picks) == {0, 1}
    assert 120 < picks.count(0) < 280


def test_rows_that_ask_get_the_chosen_tokens_logprob_and_alternatives():
    logits = torch.tensor([[0.1, 3.0, 0.2, 1.0], [5.0, 1.0, 0.0, 0.5], [0.0, 0.0, 9.0, 0.0]])
    greedy = SamplingParams(temperature=0, presence_penalty=2.0)
    batch = [
        RowSampler.for_params(greedy, logprobs=2),
        RowSampler.for_params(greedy),
        RowSampler.for_params(greedy, logprobs=0),
    ]
    assert sample(logits.clone(), batch) == [1, 0, 2]
    expected = logits.log_softmax(dim=-1)
    first = batch[0].last_logprob
    assert first.token_id == 1
    assert first.logprob == pytest.approx(float(expected[0, 1]))
    assert [t for t, _ in first.top] == [1, 3]  # most likely first; the chosen one included
    assert first.top[1][1] == pytest.approx(float(expected[0, 3]))
    assert batch[1].last_logprob is None  # did not ask: nothing computed
    assert batch[2].last_logprob.top == () and batch[2].last_logprob.logprob < 0


def test_a_masked_token_never_reports_minus_infinity():
    logits = torch.tensor([[float("-inf"), 2.0, float("-inf")]])
    row = RowSampler.for_params(SamplingParams(temperature=0), logprobs=3)
    sample(logits, [row])
    assert row.last_logprob.logprob == pytest.approx(0.0)
    assert [t for t, _ in row.last_logprob.top] == [1]  # ruled-out tokens are left out


def test_logit_bias_bans_and_forces_tokens():
    logits = torch.tensor([[3.0, 1.0, 0.0]])
    banned = RowSampler.for_params(SamplingParams(temperature=0, logit_bias=((0, -100.0),)))
    assert sample(logits.clone(), [banned]) == [1]
    forced = rows(*[SamplingParams(temperature=1.0, logit_bias=((2, 100.0),)) for _ in range(50)])
    assert set(sample(logits.repeat(50, 1), forced)) == {2}


def test_min_tokens_masks_end_of_sequence_until_reached():
    logits = torch.tensor([[0.0, 5.0, 1.0]])  # token 1 is the end of sequence
    row = RowSampler.for_params(SamplingParams(temperature=0, min_tokens=2), eos_ids=frozenset({1}))
    assert sample(logits.clone(), [row]) == [2]
    assert sample(logits.clone(), [row]) == [2]
    assert sample(logits.clone(), [row]) == [1]  # two tokens out: the end may come


def test_repetition_penalty_reads_prompt_and_output_tokens():
    logits = torch.tensor([[2.0, 1.9, -1.0]])
    row = RowSampler.for_params(
        SamplingParams(temperature=0, repetition_penalty=2.0), prompt_ids=[0]
    )
    assert sample(logits.clone(), [row]) == [1]  # 2.0 / 2 = 1.0 < 1.9
    assert sample(logits.clone(), rows(SamplingParams(temperature=0))) == [0]


def test_top_k_and_min_p_restrict_what_sampling_can_pick():
    logits = torch.tensor([[2.0, 1.9, 1.8, 1.7]]).repeat(200, 1)
    top_k = rows(*[SamplingParams(temperature=1.0, top_k=2) for _ in range(200)])
    assert set(sample(logits.clone(), top_k)) == {0, 1}
    peaked = torch.tensor([[3.0, 2.9, 0.0, 0.0]]).repeat(200, 1)
    min_p = rows(*[SamplingParams(temperature=1.0, min_p=0.5) for _ in range(200)])
    assert set(sample(peaked, min_p)) == {0, 1}
