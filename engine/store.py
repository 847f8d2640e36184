"""The item store's port, kept here for older imports: see engine.ports."""

from __future__ import annotations

from engine.ports import ItemStore, Query

Store = ItemStore

__all__ = ["ItemStore", "Query", "Store"]
