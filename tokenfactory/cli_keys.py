"""``tokenfactory keys create|list|revoke``."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    keys = sub.add_parser("keys", help="manage API keys")
    ksub = keys.add_subparsers(dest="keys_command", required=True)
    create = ksub.add_parser("create", help="create a key (the key is the last line printed)")
    create.add_argument("--workspace", default="default")
    create.add_argument("--name")
    create.add_argument(
        "--admin", action="store_true", help="an admin key (may call /v1/admin: workspaces, keys)"
    )
    create.set_defaults(func=create_key)
    lst = ksub.add_parser("list", help="list a workspace's keys (never the keys themselves)")
    lst.add_argument("--workspace", default="default")
    lst.set_defaults(func=list_keys)
    revoke = ksub.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")
    revoke.set_defaults(func=revoke_key)


def _keys():
    from . import config
    from .store import KeyStore, Store

    return KeyStore(Store(config.database_path()))


def create_key(args: argparse.Namespace) -> int:
    admin = getattr(args, "admin", False)
    key_id, key = _keys().create_key(args.workspace, name=args.name, is_admin=admin)
    kind = "admin key" if admin else "key"
    print(f"created {kind} {key_id} for workspace '{args.workspace}' (shown once):")
    print(key)
    return 0


def list_keys(args: argparse.Namespace) -> int:
    for row in _keys().list_keys(args.workspace):
        state = "revoked" if row["revoked_at"] else "active"
        if row["is_admin"]:
            state += " admin"
        print(f"{row['id']}\t{row['prefix']}…\t{row['name'] or ''}\t{state}")
    return 0


def revoke_key(args: argparse.Namespace) -> int:
    _keys().revoke_key(args.key_id)
    print(f"revoked {args.key_id}")
    return 0
