"""The Store interface: what the engine needs from persistence, whatever the database."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from engine.model import Item, LedgerEntry


@dataclass(frozen=True)
class Query:
    state: Sequence[str] = ()
    unit: Sequence[str] = ()
    category: Sequence[str] = ()
    kind: Sequence[str] = ()
    limit: int | None = None


class Store(Protocol):
    def add(self, item: Item, entry: LedgerEntry) -> Item:
        """Insert a new item and its first ledger row together; returns it with its id."""
        ...

    def origins(self, candidates: list[str]) -> set[str]:
        """Which of these origin keys already belong to an item."""
        ...

    def get(self, item_id: int) -> Item:
        """The item, or NotFound."""
        ...

    def transition(self, item_id: int, decide: Callable[[Item], tuple[Item, LedgerEntry]]) -> tuple[Item, Item]:
        """Read the item, let `decide` return the changed item and its ledger entry, and
        write both, all in one write transaction holding the item; returns (before, after).
        Whatever `decide` raises rolls everything back."""
        ...

    def update(self, item: Item, expected_version: int, entry: LedgerEntry) -> Item:
        """Write the item and append `entry` in one transaction, if nobody wrote since
        `expected_version`; otherwise ConcurrentUpdate and nothing is written."""
        ...

    def query(self, query: Query) -> list[Item]:
        ...

    def history(self, item_id: int) -> list[LedgerEntry]:
        """The item's ledger rows in order."""
        ...

    def histories(self, item_ids: list[int]) -> dict[int, list[LedgerEntry]]:
        """The ledgers of many items at once, by item id."""
        ...

    def close(self) -> None:
        ...
