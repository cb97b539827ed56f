"""``tokenfactory workspaces create|list|set-tier|set-balance|top-up|usage`` (on the data dir)."""

from __future__ import annotations

import argparse
from decimal import Decimal, InvalidOperation

from .errors import InvalidRequestError
from .ratelimit import DEFAULT_TIERS


def register(sub: argparse._SubParsersAction) -> None:
    ws = sub.add_parser("workspaces", help="manage workspaces: tiers, wallets, usage")
    wsub = ws.add_subparsers(dest="workspaces_command", required=True)
    create = wsub.add_parser("create", help="create a workspace")
    create.add_argument("name")
    create.add_argument("--tier", default="standard", choices=sorted(DEFAULT_TIERS))
    create.add_argument("--balance", help="wallet in USD (default: no wallet, never 402)")
    create.set_defaults(func=create_workspace)
    lst = wsub.add_parser("list", help="list workspaces with tier, limits and balance")
    lst.set_defaults(func=list_workspaces)
    tier = wsub.add_parser("set-tier", help="change a workspace's rate-limit tier")
    tier.add_argument("name")
    tier.add_argument("tier", choices=sorted(DEFAULT_TIERS))
    tier.set_defaults(func=set_tier)
    bal = wsub.add_parser("set-balance", help="set a workspace's wallet in USD ('none': no wallet)")
    bal.add_argument("name")
    bal.add_argument("balance")
    bal.set_defaults(func=set_balance)
    top = wsub.add_parser("top-up", help="add USD to a workspace's wallet (makes one if none)")
    top.add_argument("name")
    top.add_argument("amount")
    top.set_defaults(func=top_up)
    usage = wsub.add_parser("usage", help="a workspace's usage and cost by day, model and tier")
    usage.add_argument("name")
    usage.add_argument("--start", help="YYYY-MM-DD (default: 30 days ago)")
    usage.add_argument("--group-by", default="day,model,tier")
    usage.set_defaults(func=show_usage)


def _keys():
    from . import config
    from .store import KeyStore, Store

    return KeyStore(Store(config.database_path()))


def parse_balance(text: str) -> int | None:
    """USD → microdollars; ``none`` → no wallet."""
    if text.strip().lower() in ("none", "null", "off"):
        return None
    try:
        micros = int(Decimal(text.strip().lstrip("$")) * 1_000_000)
    except InvalidOperation:
        raise InvalidRequestError(f"Invalid balance '{text}': give USD like 5 or 0.25") from None
    if micros < 0:
        raise InvalidRequestError("A balance cannot be negative")
    return micros


def _balance_text(micros: int | None) -> str:
    return "no wallet" if micros is None else f"${micros / 1e6:.6f}"


def _limits_text(tier_name: str) -> str:
    tier = DEFAULT_TIERS.get(tier_name)
    if tier is None or tier.unlimited:
        return "no limits"
    return f"{tier.rpm} req/min, {tier.tpm:,} tokens/min"


def create_workspace(args: argparse.Namespace) -> int:
    keys = _keys()
    if keys.find_workspace(args.name) is not None:
        raise InvalidRequestError(f"Workspace '{args.name}' already exists")
    ws = keys.create_workspace(args.name, tier=args.tier)
    if args.balance is not None:
        ws = keys.set_balance(ws.id, parse_balance(args.balance))
    wallet = _balance_text(ws.balance_micros)
    print(f"created workspace '{ws.name}' ({ws.id}): tier {ws.tier}, {wallet}")
    print(f"create a key for it with: tokenfactory keys create --workspace {ws.name}")
    return 0


def list_workspaces(args: argparse.Namespace) -> int:
    for ws in _keys().list_workspaces():
        print(
            f"{ws.name}\t{ws.id}\t{ws.tier} ({_limits_text(ws.tier)})"
            f"\t{_balance_text(ws.balance_micros)}"
        )
    return 0


def set_tier(args: argparse.Namespace) -> int:
    ws = _keys().set_tier(args.name, args.tier)
    print(f"workspace '{ws.name}' is now on tier {ws.tier} ({_limits_text(ws.tier)})")
    return 0


def top_up(args: argparse.Namespace) -> int:
    micros = parse_balance(args.amount)
    if not micros:
        raise InvalidRequestError(f"Invalid amount '{args.amount}': give USD above 0, like 5")
    ws = _keys().top_up(args.name, micros)
    print(f"workspace '{ws.name}': {_balance_text(ws.balance_micros)}")
    return 0


def set_balance(args: argparse.Namespace) -> int:
    ws = _keys().set_balance(args.name, parse_balance(args.balance))
    print(f"workspace '{ws.name}': {_balance_text(ws.balance_micros)}")
    return 0


def show_usage(args: argparse.Namespace) -> int:
    from .usage import UsageRepository, reports

    keys = _keys()
    ws = keys.workspace(args.name)
    report = reports.summary(
        UsageRepository(keys.store), ws, start=args.start, group_by=args.group_by
    )
    groups = report["group_by"]
    print("\t".join([*groups, "requests", "errors", "tokens", "cost_usd"]))
    for row in report["data"]:
        cells = [str(row[g]) for g in groups]
        cells += [str(row["requests"]), str(row["errors"]), str(row["total_tokens"])]
        print("\t".join([*cells, f"{row['cost_usd']:.8f}"]))
    total = report["total"]
    print(
        f"total: {total['requests']} requests, {total['total_tokens']} tokens, "
        f"${total['cost_usd']:.8f}; balance {_balance_text(ws.balance_micros)}"
    )
    return 0
