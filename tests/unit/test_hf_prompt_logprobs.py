"""The CPU engine's prompt logprobs on a tiny random model (no weights downloaded): chunked
through the output head, they are the full forward pass's log-softmax, gathered."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from tokenfactory.engine.hf import prompt_logprobs as module  # noqa: E402
from tokenfactory.engine.hf.loader import LoadedChatModel  # noqa: E402
from tokenfactory.engine.hf.runner import ChatRunner  # noqa: E402
from tokenfactory.engine.hf.sampler import RowSampler  # noqa: E402
from tokenfactory.engine.hf.sequence import Sequence  # noqa: E402
from tokenfactory.engine.protocol import GenerationRequest, SamplingParams  # noqa: E402


@pytest.fixture(scope="module")
def tiny_model():
    torch.manual_seed(0)
    config = transformers.LlamaConfig(
        vocab_size=40,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=64,
    )
    return transformers.LlamaForCausalLM(config).eval()


def test_chunks_give_the_full_forward_passs_logprobs(tiny_model, monkeypatch):
    monkeypatch.setattr(module, "CHUNK", 3)  # 9 positions: chunks of 3, 3, 3
    ids = [5, 1, 33, 7, 7, 20, 2, 39, 11, 4]
    with torch.inference_mode():
        out = tiny_model(torch.tensor([ids]), output_hidden_states=True)
    full = out.logits[0].float().log_softmax(-1)
    got = module.prompt_logprobs(tiny_model, out.hidden_states[-1][0], ids, alternatives=2)
    assert len(got) == len(ids) and got[0] is None
    for position, entry in enumerate(got[1:], start=1):
        assert entry is not None and entry.token_id == ids[position]
        assert entry.logprob == pytest.approx(float(full[position - 1, ids[position]]), abs=1e-5)
        values, top = full[position - 1].topk(2)
        assert [t for t, _ in entry.top] == top.tolist()
        assert [lp for _, lp in entry.top] == pytest.approx(values.tolist(), abs=1e-5)
    no_alternatives = module.prompt_logprobs(tiny_model, out.hidden_states[-1][0], ids, 0)
    assert all(e is not None and e.top == () for e in no_alternatives[1:])


def test_a_one_token_prompt_has_only_the_null_entry(tiny_model):
    hidden = torch.zeros(1, 16)
    assert module.prompt_logprobs(tiny_model, hidden, [3], alternatives=1) == [None]


def test_output_logits_apply_the_familys_soft_capping_and_scaling():
    head = torch.nn.Linear(2, 3, bias=False)
    with torch.no_grad():
        head.weight.copy_(torch.tensor([[10.0, 0.0], [0.0, 1.0], [-4.0, 0.0]]))
    hidden = torch.tensor([[1.0, 1.0]])

    def model(**config: float) -> SimpleNamespace:
        return SimpleNamespace(get_output_embeddings=lambda: head, config=SimpleNamespace(**config))

    def logits(**config: float) -> list[float]:
        return module.output_logits(model(**config), hidden)[0].tolist()

    assert logits() == pytest.approx([10.0, 1.0, -4.0])
    capped = [5.0 * torch.tanh(torch.tensor(x / 5.0)).item() for x in (10.0, 1.0, -4.0)]
    assert logits(final_logit_softcapping=5.0) == pytest.approx(capped)
    assert logits(logit_scale=0.5) == pytest.approx([5.0, 0.5, -2.0])
    assert logits(logits_scaling=2.0) == pytest.approx([5.0, 0.5, -2.0])


class ListSink:
    closed = False

    def __init__(self) -> None:
        self.items: list = []

    def put(self, item) -> bool:
        self.items.append(item)
        return True


def test_the_runner_scores_left_padded_prompts_in_one_prefill(tiny_model):
    """Rows of different lengths share a left-padded prefill; each row's prompt logprobs are
    its own forward pass's, sent once, with its first token. A row that did not ask gets none."""
    loaded = LoadedChatModel(
        tiny_model, SimpleNamespace(pad_token_id=0), 64, 40, frozenset(), "cpu", torch.float32, ""
    )
    runner = ChatRunner("tiny", loaded)
    prompts = [[5, 1, 33, 7], [9, 2, 8, 8, 3, 1, 30, 12], [4, 4, 4]]
    asked = [2, 0, None]
    rows = []
    for i, (prompt, alternatives) in enumerate(zip(prompts, asked, strict=True)):
        sampling = SamplingParams(max_tokens=3, temperature=0)
        request = GenerationRequest(f"r{i}", "tiny", prompt, sampling, prompt_logprobs=alternatives)
        seq = Sequence(request, ListSink(), RowSampler.for_params(sampling))  # type: ignore[arg-type]
        runner.add(seq)
        rows.append(seq)
    runner.step()  # one prefill of the three, then a decode step
    assert all(len(seq.sink.items) == 2 for seq in rows)
    for seq, prompt, alternatives in zip(rows, prompts, asked, strict=True):
        first, *rest = seq.sink.items
        assert all(out.prompt_logprobs is None for out in rest)
        if alternatives is None:
            assert first.prompt_logprobs is None
            continue
        with torch.inference_mode():
            reference = tiny_model(torch.tensor([prompt])).logits[0].float().log_softmax(-1)
        entries = first.prompt_logprobs
        assert len(entries) == len(prompt) and entries[0] is None
        for position, entry in enumerate(entries[1:], start=1):
            expected = float(reference[position - 1, prompt[position]])
            assert entry.logprob == pytest.approx(expected, abs=1e-4)
            assert len(entry.top) == alternatives
