"""Every epoch of a LoRA job is a servable model (``NAME@epoch-N``, listed under the adapter),
the job's checkpoints and its base are evaluated in one call, and a checkpoint can be promoted
to be the adapter. A real (tiny) training run on the TransformersEngine."""

from __future__ import annotations

import pandas as pd
import pytest

import tokenfactory as tf
from tests.integration.lora_data import styled

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def client(server):
    from tokenfactory.sdk import TokenFactory

    with TokenFactory(base_url=server.base_url, api_key=server.api_key) as c:
        yield c


@pytest.fixture(scope="module")
def trained(client):
    adapter = client.adapters.create("ckpt", epochs=2, batch_size=6, learning_rate=1e-3)
    client.adapters.upload_training_data(adapter, styled("Arr!"))
    client.adapters.train(adapter)
    done = client.adapters.wait(adapter, timeout=600, progress=False)
    assert done.status == "succeeded", done.error
    return done


def test_each_epoch_is_a_model_listed_under_its_adapter(client, trained):
    listed = client.adapters.checkpoints("ckpt").data
    assert [c.id for c in listed] == ["ckpt@epoch-1", "ckpt@epoch-2"]
    assert all(c.loaded and c.adapter == "ckpt" for c in listed)
    from tokenfactory.sdk import NotFoundError

    with pytest.raises(NotFoundError, match="ckpt@epoch-1, ckpt@epoch-2"):
        client.chat.completions.create(
            model="ckpt@epoch-7", messages=[{"role": "user", "content": "hi"}], max_tokens=2
        )


def test_base_and_checkpoints_in_one_evaluation_then_promote(client, trained):
    cands = tf.checkpoints("ckpt", client=client)
    assert list(cands) == ["base", "epoch-1", "epoch-2", "ckpt"]
    data = pd.DataFrame({"question": ["What is two plus two?", "Name a planet."]})
    result = tf.evaluate(
        data,
        cands,
        [tf.metrics.regex("Arr!", name="styled")],
        template="{question}",
        max_tokens=12,
        client=client,
        progress=False,
        interactive=True,
    )
    assert result.frame["error"].isna().all(), result.frame["error"].tolist()
    wide = result.wide()
    # the final adapter is the last epoch's weights: greedy answers are the same
    assert wide["epoch-2"].tolist() == wide["ckpt"].tolist()
    models = {m.id: m for m in client.models.list().data}
    assert models["ckpt@epoch-1"].parent == "ckpt"
    promoted = client.adapters.promote("ckpt", "epoch-1")
    assert promoted.name == "ckpt"
    answer = client.chat.completions.create(
        model="ckpt", messages=[{"role": "user", "content": data["question"][0]}], max_tokens=12,
        temperature=0.0,
    )  # fmt: skip
    assert answer.choices[0].message.content == wide["epoch-1"][0]
