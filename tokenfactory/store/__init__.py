"""Durable state: SQLite in the data directory."""

from .db import Store
from .keys import KeyStore, Principal, Workspace

__all__ = ["KeyStore", "Principal", "Store", "Workspace"]
