"""``tf.WorkspaceAdmin()``: the gateway's control plane in a notebook, for an admin key.

Lists the workspaces with their tier, wallet balance and monthly-cap use; for the selected
one: its keys (create one, shown once with a copy button; revoke), a wallet top-up, the
monthly cap, and its webhook endpoints (register one, send a test event, read the delivery
log). A price table sets or clears a model's own price (USD per million tokens). Every call
goes through the SDK's ``client.admin``; a key that is not an admin key gets ``denied``, a
sentence saying so, instead of the tables.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import traitlets

from ..sdk import TokenFactory
from .api import ApiError, GatewayApi
from .base import GatewayWidget, css, esm

DENIED = (
    "WorkspaceAdmin needs an admin key: the key of whoever started the gateway "
    "(tf.serve(), tokenfactory serve) or one made with `tokenfactory keys create --admin`. "
    "This key belongs to workspace '{workspace}' and is not one."
)
DELIVERIES_SHOWN = 5


def _float(value: Any, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ApiError(f"{name} must be a number, not {value!r}") from None
    return number


class WorkspaceAdmin(GatewayWidget):
    _esm = esm("workspace_admin.js")
    _css = css("workspace_admin.css")

    denied = traitlets.Unicode("").tag(sync=True)
    notice = traitlets.Unicode("").tag(sync=True)
    workspaces = traitlets.List(traitlets.Dict()).tag(sync=True)
    selected = traitlets.Unicode("").tag(sync=True)
    # not ``keys``: ipywidgets' Widget.keys lists the synced trait names
    api_keys = traitlets.List(traitlets.Dict()).tag(sync=True)
    webhooks = traitlets.List(traitlets.Dict()).tag(sync=True)
    prices = traitlets.List(traitlets.Dict()).tag(sync=True)
    tier_prices = traitlets.Dict().tag(sync=True)
    models = traitlets.List(traitlets.Unicode()).tag(sync=True)
    # a key just created: {"workspace", "id", "key"}; cleared by dismiss_key (shown once)
    new_key = traitlets.Dict().tag(sync=True)

    def __init__(
        self,
        *,
        workspace: str = "",
        base_url: str | None = None,
        api_key: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(base_url=base_url, api_key=api_key, **kwargs)
        self.selected = workspace
        handlers: dict[str, Callable[[dict], Any]] = {
            "refresh": lambda _m: self.refresh(),
            "select": lambda m: self.select(str(m["workspace"])),
            "create_workspace": lambda m: self.create_workspace(
                str(m["name"]), tier=str(m.get("tier") or "standard")
            ),
            "create_key": lambda m: self.create_key(str(m.get("name") or "") or None),
            "revoke_key": lambda m: self.revoke_key(str(m["key_id"])),
            "dismiss_key": lambda _m: self.dismiss_key(),
            "top_up": lambda m: self.top_up(m.get("amount_usd")),
            "set_cap": lambda m: self.set_cap(m.get("monthly_tokens")),
            "set_price": lambda m: self.set_price(str(m["model"]), m.get("input"), m.get("output")),
            "unset_price": lambda m: self.unset_price(str(m["model"])),
            "add_webhook": lambda m: self.add_webhook(str(m["url"]), m.get("events") or None),
            "test_webhook": lambda m: self.test_webhook(str(m["endpoint_id"])),
            "delete_webhook": lambda m: self.delete_webhook(str(m["endpoint_id"])),
        }
        for name, handler in handlers.items():
            self.on_action(name, handler)
        if self.connection is not None:
            self.refresh()

    # -- reading
    def refresh(self) -> threading.Thread:
        """Fetch workspaces (with caps and key counts), prices, and the selected one's keys and
        webhooks."""
        return self.run_in_background(self._fetch, self._apply, on_error=self._maybe_denied)

    def _fetch(self, api: GatewayApi) -> dict[str, Any]:
        def read(client: TokenFactory) -> dict[str, Any]:
            rows: list[dict[str, Any]] = []
            for ws in client.admin.workspaces.list():
                cap = client.admin.monthly_caps.retrieve(ws.name)
                keys = client.admin.keys.list(ws.name)
                rows.append(
                    {
                        "name": ws.name,
                        "tier": ws.tier,
                        "balance_usd": ws.balance_usd,
                        "cap": cap.model_dump() if cap is not None else None,
                        "active_keys": sum(1 for k in keys if k.revoked_at is None),
                    }
                )
            names: list[str] = [r["name"] for r in rows]
            selected = self.selected if self.selected in names else (names[0] if names else "")
            price_list = client.admin.prices.list()
            catalog = client.models.list()
            return {
                "workspaces": rows,
                "selected": selected,
                **self._details(client, selected),
                "prices": [p.model_dump() for p in price_list],
                "tier_prices": {t: p.model_dump() for t, p in price_list.tiers.items()},
                "models": [m.id for m in catalog.data if m.parent is None],
            }

        return api.sdk(read)

    def _details(self, client: TokenFactory, workspace: str) -> dict[str, Any]:
        if not workspace:
            return {"api_keys": [], "webhooks": []}
        keys = [k.model_dump() for k in client.admin.keys.list(workspace)]
        hooks = []
        for endpoint in client.admin.webhooks.list(workspace):
            log = client.admin.webhooks.deliveries(endpoint.id, limit=DELIVERIES_SHOWN)
            row = endpoint.model_dump(exclude={"secret"})
            row["deliveries"] = [
                {
                    "event_type": d.event_type,
                    "status": d.status,
                    "attempts": d.attempts,
                    "created_at": d.created_at,
                    "last_status_code": d.attempt_log[-1].status_code if d.attempt_log else None,
                }
                for d in log
            ]
            hooks.append(row)
        return {"api_keys": keys, "webhooks": hooks}

    def _apply(self, data: dict[str, Any]) -> None:
        self.denied = ""
        self.workspaces = data["workspaces"]
        self.selected = data["selected"]
        self.api_keys = data["api_keys"]
        self.webhooks = data["webhooks"]
        self.prices = data["prices"]
        self.tier_prices = data["tier_prices"]
        self.models = data["models"]

    def _maybe_denied(self, exc: BaseException) -> None:
        if isinstance(exc, ApiError) and exc.status == 403:
            workspace = self._own_workspace()
            self.denied = DENIED.format(workspace=workspace)
            self.error = ""

    def _own_workspace(self) -> str:
        try:
            return self.api().sdk(lambda c: c.usage.retrieve(group_by=[]).workspace.name)
        except ApiError:
            return "?"

    def select(self, workspace: str) -> threading.Thread:
        self.selected = workspace
        return self.refresh()

    # -- acting: each call, then a refresh, then a notice saying what happened
    def _act(
        self, fn: Callable[[TokenFactory], Any], notice: Callable[[Any], str]
    ) -> threading.Thread:
        def work(api: GatewayApi) -> tuple[Any, dict[str, Any]]:
            result = api.sdk(fn)
            return result, self._fetch(api)

        def done(pair: tuple[Any, dict[str, Any]]) -> None:
            result, data = pair
            self._apply(data)
            self.notice = notice(result)

        self.notice = ""
        return self.run_in_background(work, done, source="action")

    def _workspace(self) -> str:
        if not self.selected:
            raise ApiError("Select a workspace first")
        return self.selected

    def create_workspace(self, name: str, *, tier: str = "standard") -> threading.Thread:
        def create(client: TokenFactory) -> Any:
            ws = client.admin.workspaces.create(name, tier=tier)
            self.selected = ws.name
            return ws

        return self._act(create, lambda ws: f"Created workspace '{ws.name}' ({ws.tier})")

    def create_key(self, name: str | None = None) -> threading.Thread:
        """A new key for the selected workspace, in ``new_key`` until ``dismiss_key()``."""
        workspace = self._workspace()

        def create(client: TokenFactory) -> Any:
            created = client.admin.keys.create(workspace, name=name)
            self.new_key = {"workspace": workspace, "id": created.id, "key": created.key}
            return created

        return self._act(create, lambda k: f"Created key {k.prefix}… for '{workspace}'")

    def dismiss_key(self) -> None:
        """Forget the new key: it is never shown again (the gateway keeps only its hash)."""
        self.new_key = {}

    def revoke_key(self, key_id: str) -> threading.Thread:
        return self._act(lambda c: c.admin.keys.revoke(key_id), lambda r: f"Revoked key {r.id}")

    def top_up(self, amount_usd: Any) -> threading.Thread:
        workspace = self._workspace()
        amount = _float(amount_usd, "The top-up")
        return self._act(
            lambda c: c.admin.workspaces.top_up(workspace, amount),
            lambda ws: f"Added ${amount:,.2f} to '{workspace}': wallet ${ws.balance_usd:,.6f}",
        )

    def set_cap(self, monthly_tokens: Any) -> threading.Thread:
        """Cap the selected workspace's tokens a month; ``None`` or ``""`` lifts the cap."""
        workspace = self._workspace()
        tokens = None
        if monthly_tokens not in (None, ""):
            number = _float(monthly_tokens, "The monthly cap")
            if number != int(number):
                raise ApiError("The monthly cap is a whole number of tokens")
            tokens = int(number)

        def said(cap: Any) -> str:
            if cap is None:
                return f"'{workspace}' has no monthly cap"
            return f"'{workspace}' may use {cap.tokens:,} tokens a month ({cap.used:,} used)"

        return self._act(lambda c: c.admin.monthly_caps.set(workspace, tokens), said)

    def set_price(self, model: str, input: Any, output: Any) -> threading.Thread:
        """``model``'s own real-time price, USD per million input/output tokens."""
        price_in = _float(input, "The input price")
        price_out = _float(output, "The output price")
        return self._act(
            lambda c: c.admin.prices.set(model, input=price_in, output=price_out),
            lambda p: f"{p.model}: ${p.input} in, ${p.output} out per 1M tokens",
        )

    def unset_price(self, model: str) -> threading.Thread:
        return self._act(
            lambda c: c.admin.prices.delete(model), lambda _r: f"{model}: back to the default"
        )

    def add_webhook(self, url: str, events: list[str] | None = None) -> threading.Thread:
        workspace = self._workspace()
        return self._act(
            lambda c: c.admin.webhooks.create(workspace, url=url, events=events),
            lambda e: f"Registered {e.url} for '{workspace}' ({e.id}; secret {e.secret})",
        )

    def test_webhook(self, endpoint_id: str) -> threading.Thread:
        return self._act(
            lambda c: c.admin.webhooks.test(endpoint_id),
            lambda e: f"Sent test event {e.id}; refresh to see its delivery",
        )

    def delete_webhook(self, endpoint_id: str) -> threading.Thread:
        return self._act(
            lambda c: c.admin.webhooks.delete(endpoint_id),
            lambda r: f"Removed webhook {r.id}",
        )

    def to_pandas(self):
        """The workspaces as a DataFrame: tier, wallet, cap tokens/used, active keys."""
        import pandas as pd

        rows = [
            {
                "workspace": w["name"],
                "tier": w["tier"],
                "balance_usd": w["balance_usd"],
                "monthly_cap": (w["cap"] or {}).get("tokens"),
                "cap_used": (w["cap"] or {}).get("used"),
                "active_keys": w["active_keys"],
            }
            for w in self.workspaces
        ]
        return pd.DataFrame(rows)
