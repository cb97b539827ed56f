"""``client.admin.workspaces`` and ``client.admin.keys`` (an admin key only).

client.admin.workspaces.create("alice", tier="standard", balance_usd=5)
client.admin.workspaces.top_up("alice", 10)          # adds to the wallet
key = client.admin.keys.create("alice", name="laptop")
key.key                                               # shown once, only here
client.admin.keys.revoke(key.id)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from typing_extensions import Unpack

from tokenfactory.wire import usage as wire

from .._request import APIRequest, RequestOptions, split_options
from .._resource import AsyncAPIResource, SyncAPIResource, post_request
from ..types import ResponseMeta
from .usage import Group, Time, UsageReport, filters_query, summary_request


class Workspace(ResponseMeta, wire.WorkspaceObject):
    def _repr_markdown_(self) -> str:
        wallet = "no wallet" if self.balance_usd is None else f"wallet ${self.balance_usd:.6f}"
        return f"**{self.name}** ({self.tier}), {wallet}"


class WorkspaceList(ResponseMeta, wire.WorkspaceList):
    data: list[Workspace]  # type: ignore[assignment]  # the SDK's own workspace type

    def __iter__(self) -> Iterator[Workspace]:  # type: ignore[override]  # the workspaces
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


class APIKey(ResponseMeta, wire.ApiKeyObject):
    pass


class CreatedAPIKey(ResponseMeta, wire.CreatedApiKey):
    """A new key: ``key`` is the secret itself, shown in this response only."""


class APIKeyList(ResponseMeta, wire.ApiKeyList):
    data: list[APIKey]  # type: ignore[assignment]  # the SDK's own key type

    def __iter__(self) -> Iterator[APIKey]:  # type: ignore[override]  # the keys
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


class RevokedAPIKey(ResponseMeta, wire.RevokedKey):
    pass


def ws_path(workspace: str) -> str:
    return f"/admin/workspaces/{workspace}"


def _create(
    name: str, tier: str | None, balance_usd: float | None, options: RequestOptions
) -> APIRequest[Workspace]:
    body = {"name": name, "tier": tier, "balance_usd": balance_usd, **options}
    return post_request("/admin/workspaces", Workspace, body)


def _update(
    workspace: str, tier: str | None, balance_usd: float | None, options: RequestOptions
) -> APIRequest[Workspace]:
    fields, opts = split_options({"tier": tier, "balance_usd": balance_usd, **options})
    return APIRequest("PATCH", ws_path(workspace), Workspace, body=fields, options=opts)


def _top_up(workspace: str, amount_usd: float, options: RequestOptions) -> APIRequest[Workspace]:
    body = {"amount_usd": amount_usd, **options}
    return post_request(ws_path(workspace) + "/top-up", Workspace, body)


def _usage(
    workspace: str,
    group_by: Group | Sequence[Group] | None,
    start: Time | None,
    end: Time | None,
    model: str | None,
    user: str | None,
    options: RequestOptions,
) -> APIRequest[UsageReport]:
    filters = filters_query(start, end, model, None)
    return summary_request(ws_path(workspace) + "/usage", group_by, filters, user, options)


def _create_key(
    workspace: str, name: str | None, admin: bool, options: RequestOptions
) -> APIRequest[CreatedAPIKey]:
    body = {"name": name, "admin": admin, **options}
    return post_request(ws_path(workspace) + "/keys", CreatedAPIKey, body)


class Workspaces(SyncAPIResource):
    def list(self, **options: Unpack[RequestOptions]) -> WorkspaceList:
        return self._get("/admin/workspaces", cast_to=WorkspaceList, params=options)

    def create(
        self,
        name: str,
        *,
        tier: str | None = None,
        balance_usd: float | None = None,
        **options: Unpack[RequestOptions],
    ) -> Workspace:
        """A new workspace (tier ``standard`` unless given; no wallet unless ``balance_usd``)."""
        return self._client.request(_create(name, tier, balance_usd, options))

    def retrieve(self, workspace: str, **options: Unpack[RequestOptions]) -> Workspace:
        return self._get(ws_path(workspace), cast_to=Workspace, params=options)

    def update(
        self,
        workspace: str,
        *,
        tier: str | None = None,
        balance_usd: float | None = None,
        **options: Unpack[RequestOptions],
    ) -> Workspace:
        """Change the tier and/or set the wallet to ``balance_usd``."""
        return self._client.request(_update(workspace, tier, balance_usd, options))

    def top_up(
        self, workspace: str, amount_usd: float, **options: Unpack[RequestOptions]
    ) -> Workspace:
        """Add ``amount_usd`` to the wallet (a workspace with none gets one)."""
        return self._client.request(_top_up(workspace, amount_usd, options))

    def usage(
        self,
        workspace: str,
        *,
        group_by: Group | Sequence[Group] | None = None,
        start: Time | None = None,
        end: Time | None = None,
        model: str | None = None,
        user: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> UsageReport:
        """Any workspace's usage report (``client.usage.retrieve`` for one's own)."""
        request = _usage(workspace, group_by, start, end, model, user, options)
        return self._client.request(request)


class AsyncWorkspaces(AsyncAPIResource):
    async def list(self, **options: Unpack[RequestOptions]) -> WorkspaceList:
        return await self._get("/admin/workspaces", cast_to=WorkspaceList, params=options)

    async def create(
        self,
        name: str,
        *,
        tier: str | None = None,
        balance_usd: float | None = None,
        **options: Unpack[RequestOptions],
    ) -> Workspace:
        return await self._client.request(_create(name, tier, balance_usd, options))

    async def retrieve(self, workspace: str, **options: Unpack[RequestOptions]) -> Workspace:
        return await self._get(ws_path(workspace), cast_to=Workspace, params=options)

    async def update(
        self,
        workspace: str,
        *,
        tier: str | None = None,
        balance_usd: float | None = None,
        **options: Unpack[RequestOptions],
    ) -> Workspace:
        return await self._client.request(_update(workspace, tier, balance_usd, options))

    async def top_up(
        self, workspace: str, amount_usd: float, **options: Unpack[RequestOptions]
    ) -> Workspace:
        return await self._client.request(_top_up(workspace, amount_usd, options))

    async def usage(
        self,
        workspace: str,
        *,
        group_by: Group | Sequence[Group] | None = None,
        start: Time | None = None,
        end: Time | None = None,
        model: str | None = None,
        user: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> UsageReport:
        request = _usage(workspace, group_by, start, end, model, user, options)
        return await self._client.request(request)


class Keys(SyncAPIResource):
    def list(self, workspace: str, **options: Unpack[RequestOptions]) -> APIKeyList:
        """A workspace's keys: prefixes and names, never the keys themselves."""
        return self._get(ws_path(workspace) + "/keys", cast_to=APIKeyList, params=options)

    def create(
        self,
        workspace: str,
        *,
        name: str | None = None,
        admin: bool = False,
        **options: Unpack[RequestOptions],
    ) -> CreatedAPIKey:
        """A new key; its ``key`` is shown in this answer only (the gateway keeps a hash)."""
        return self._client.request(_create_key(workspace, name, admin, options))

    def revoke(self, key_id: str, **options: Unpack[RequestOptions]) -> RevokedAPIKey:
        """Refused at once (401) by every endpoint from now on."""
        return self._delete(f"/admin/keys/{key_id}", cast_to=RevokedAPIKey, options=options)


class AsyncKeys(AsyncAPIResource):
    async def list(self, workspace: str, **options: Unpack[RequestOptions]) -> APIKeyList:
        return await self._get(ws_path(workspace) + "/keys", cast_to=APIKeyList, params=options)

    async def create(
        self,
        workspace: str,
        *,
        name: str | None = None,
        admin: bool = False,
        **options: Unpack[RequestOptions],
    ) -> CreatedAPIKey:
        return await self._client.request(_create_key(workspace, name, admin, options))

    async def revoke(self, key_id: str, **options: Unpack[RequestOptions]) -> RevokedAPIKey:
        path = f"/admin/keys/{key_id}"
        return await self._delete(path, cast_to=RevokedAPIKey, options=options)


__all__ = [
    "APIKey",
    "APIKeyList",
    "AsyncKeys",
    "AsyncWorkspaces",
    "CreatedAPIKey",
    "Keys",
    "RevokedAPIKey",
    "Workspace",
    "WorkspaceList",
    "Workspaces",
]
