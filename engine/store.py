"""The Store interface: what the engine needs from persistence, whatever the database."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
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

    def get_many(self, item_ids: Sequence[int]) -> dict[int, Item]:
        """The items that exist among these ids, by id."""
        ...

    def by_origins(self, origins: Sequence[str]) -> dict[str, Item]:
        """The items holding these origin keys, by origin."""
        ...

    def add_batch(self, new: Sequence[tuple[Item, LedgerEntry]],
                  changed: Sequence[tuple[Item, int, LedgerEntry]]) -> list[int]:
        """Insert new items with their first ledger rows and write changed items (each
        with the version it was read at and its ledger entry), all in one transaction:
        everything or nothing. Returns the new items' ids in order. AlreadyExists when
        an origin is taken, ConcurrentUpdate when a changed item was written meanwhile."""
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

    def provisional_open(self, finals: Mapping[str, Collection[str]]) -> list[int]:
        """Ids of the items whose deadline is provisional (counted into a year with no
        holiday arrangement yet), except those in a final state (workflow -> states)."""
        ...

    def rule_bindings_open(self, finals: Mapping[str, Collection[str]]) -> list[tuple[str, str]]:
        """(policy version, rule) of the items not in a final state whose deadline is
        their rule's (they have none of their own), each pair once."""
        ...

    def deadlines_open(self, finals: Mapping[str, Collection[str]], words: Sequence[str],
                       rules: Collection[tuple[str, str]]) -> list[int]:
        """Ids of the items not in a final state whose own deadline contains one of
        `words`, or whose deadline is that of one of the (policy version, rule) `rules`."""
        ...

    def history(self, item_id: int) -> list[LedgerEntry]:
        """The item's ledger rows in order."""
        ...

    def histories(self, item_ids: list[int]) -> dict[int, list[LedgerEntry]]:
        """The ledgers of many items at once, by item id."""
        ...

    def close(self) -> None:
        ...
