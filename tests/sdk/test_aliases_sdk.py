"""``client.admin.aliases`` (sync and async) against a real HTTP gateway over the fake engine."""

from __future__ import annotations

import asyncio

import pytest

from tests.widgets.live import live_gateway
from tokenfactory.sdk import AsyncTokenFactory, BadRequestError, NotFoundError, TokenFactory

HI = [{"role": "user", "content": "Hi"}]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with live_gateway(tmp_path_factory.mktemp("aliases-sdk")) as gateway:
        yield gateway


def test_set_use_list_and_delete_an_alias(live):
    with TokenFactory(base_url=live.base_url, api_key=live.api_key, max_retries=0) as client:
        made = client.admin.aliases.set("gpt-4o-mini", "test/chat")
        assert (made.alias, made.model) == ("gpt-4o-mini", "test/chat")
        answer = client.chat.completions.create(model="gpt-4o-mini", messages=HI, max_tokens=3)
        assert answer.model == "test/chat"
        assert client.admin.aliases.list().as_dict() == {"gpt-4o-mini": "test/chat"}
        listed = {m.id: m for m in client.models.list().data}
        assert listed["gpt-4o-mini"].alias_for == "test/chat"
        with pytest.raises(BadRequestError, match="not a model this gateway serves"):
            client.admin.aliases.set("x", "nope/model")
        assert client.admin.aliases.delete("gpt-4o-mini").model == "test/chat"
        with pytest.raises(NotFoundError):
            client.admin.aliases.delete("gpt-4o-mini")


def test_async_aliases(live):
    async def run() -> tuple[dict[str, str], str]:
        async with AsyncTokenFactory(base_url=live.base_url, api_key=live.api_key) as client:
            await client.admin.aliases.set("text-embedding-ada-002", "test/embed")
            aliases = (await client.admin.aliases.list()).as_dict()
            deleted = await client.admin.aliases.delete("text-embedding-ada-002")
            return aliases, deleted.model

    assert asyncio.run(run()) == ({"text-embedding-ada-002": "test/embed"}, "test/embed")
