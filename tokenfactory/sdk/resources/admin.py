"""``client.admin``: the gateway's control plane, for an admin key (others get 403).

``workspaces`` (tier, wallet, usage), ``keys``, ``prices`` (per model), ``monthly_caps``,
``webhooks`` and model ``aliases``; each is a resource of its own module.
"""

from __future__ import annotations

from functools import cached_property

from .._resource import AsyncAPIResource, SyncAPIResource
from .aliases import AsyncModelAliases, ModelAliases
from .billing import AsyncModelPrices, AsyncMonthlyCaps, ModelPrices, MonthlyCaps
from .webhooks import AsyncWebhooks, Webhooks
from .workspaces import AsyncKeys, AsyncWorkspaces, Keys, Workspaces


class Admin(SyncAPIResource):
    @cached_property
    def workspaces(self) -> Workspaces:
        return Workspaces(self._client)

    @cached_property
    def keys(self) -> Keys:
        return Keys(self._client)

    @cached_property
    def prices(self) -> ModelPrices:
        return ModelPrices(self._client)

    @cached_property
    def monthly_caps(self) -> MonthlyCaps:
        return MonthlyCaps(self._client)

    @cached_property
    def webhooks(self) -> Webhooks:
        return Webhooks(self._client)

    @cached_property
    def aliases(self) -> ModelAliases:
        return ModelAliases(self._client)


class AsyncAdmin(AsyncAPIResource):
    @cached_property
    def workspaces(self) -> AsyncWorkspaces:
        return AsyncWorkspaces(self._client)

    @cached_property
    def keys(self) -> AsyncKeys:
        return AsyncKeys(self._client)

    @cached_property
    def prices(self) -> AsyncModelPrices:
        return AsyncModelPrices(self._client)

    @cached_property
    def monthly_caps(self) -> AsyncMonthlyCaps:
        return AsyncMonthlyCaps(self._client)

    @cached_property
    def webhooks(self) -> AsyncWebhooks:
        return AsyncWebhooks(self._client)

    @cached_property
    def aliases(self) -> AsyncModelAliases:
        return AsyncModelAliases(self._client)
