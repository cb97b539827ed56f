"""``tokenfactory webhooks add|list|remove|deliveries`` (works on the data dir; a running
gateway picks new endpoints up at its next event)."""

from __future__ import annotations

import argparse
import datetime as dt


def register(sub: argparse._SubParsersAction) -> None:
    hooks = sub.add_parser("webhooks", help="manage webhook endpoints of workspaces")
    hsub = hooks.add_subparsers(dest="webhooks_command", required=True)
    add = hsub.add_parser("add", help="register an endpoint; prints its signing secret")
    add.add_argument("--workspace", default="default")
    add.add_argument("url")
    add.add_argument("--event", action="append", dest="events", help="repeatable; default: all")
    add.add_argument("--description")
    add.set_defaults(func=add_endpoint)
    lst = hsub.add_parser("list", help="list a workspace's endpoints")
    lst.add_argument("--workspace", default="default")
    lst.set_defaults(func=list_endpoints)
    rm = hsub.add_parser("remove", help="remove an endpoint (its pending deliveries are dropped)")
    rm.add_argument("endpoint_id")
    rm.set_defaults(func=remove_endpoint)
    log = hsub.add_parser("deliveries", help="an endpoint's delivery log, newest first")
    log.add_argument("endpoint_id")
    log.add_argument("--limit", type=int, default=20)
    log.set_defaults(func=show_deliveries)


def _open():
    from . import config
    from .store import KeyStore, Store
    from .webhooks.service import WebhookService

    store = Store(config.database_path())
    return KeyStore(store), WebhookService(store)


def add_endpoint(args: argparse.Namespace) -> int:
    keys, hooks = _open()
    ws = keys.workspace(args.workspace)
    row = hooks.register(ws.id, args.url, args.events, args.description)
    print(f"registered {row['id']} for workspace '{ws.name}': {row['url']}")
    print(f"events: {', '.join(row['events'])}")
    print(f"signing secret (verify with tf.webhooks.verify): {row['secret']}")
    return 0


def list_endpoints(args: argparse.Namespace) -> int:
    keys, hooks = _open()
    ws = keys.workspace(args.workspace)
    rows = hooks.repo.endpoints(ws.id)
    if not rows:
        print(f"workspace '{ws.name}' has no webhook endpoints")
    for row in rows:
        print(f"{row['id']}  {row['url']}  {', '.join(row['events'])}")
    return 0


def remove_endpoint(args: argparse.Namespace) -> int:
    _, hooks = _open()
    hooks.repo.remove_endpoint(args.endpoint_id)
    print(f"removed {args.endpoint_id}")
    return 0


def show_deliveries(args: argparse.Namespace) -> int:
    _, hooks = _open()
    hooks.repo.endpoint(args.endpoint_id)
    for row in hooks.repo.deliveries(args.endpoint_id, args.limit):
        when = dt.datetime.fromtimestamp(row["created_at"], dt.timezone.utc).isoformat()
        last = row["attempt_log"][-1] if row["attempt_log"] else None
        outcome = "" if last is None else f" last: {last['status_code'] or last['error']}"
        print(
            f"{when}  {row['event_type']}  {row['event_id']}  {row['status']}"
            f" after {row['attempts']} attempt(s){outcome}"
        )
    return 0
