"""The current policy and the older versions that items in flight are still bound to.

Items keep the plan of the policy version they were bound to until an operator
rebinds them to the current one (`rectify policy apply`, engine.rebinding). The book
holds the current version and builds older ones on demand from the rule texts the
store kept for them.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog

from engine.errors import ConfigError
from engine.policy import Policy
from engine.ports import Builder, Saver, SourceLoader

__all__ = ["Builder", "PolicyBook", "Saver", "SourceLoader"]

log = structlog.get_logger("rectify.policy")


class PolicyBook:
    """`current` gives the policy new items are bound to: the site snapshot's rules, so a
    reload that swaps the snapshot swaps the current policy with it."""

    def __init__(self, current: Callable[[], Policy], *, load: SourceLoader | None = None,
                 build: Builder | None = None, save: Saver | None = None) -> None:
        self._now = current
        self._load, self._build, self._save = load, build, save
        self._versions: dict[str, Policy] = {}
        self._saved: set[str] = set()

    @property
    def _current(self) -> Policy:
        return self._now()

    @property
    def current(self) -> Policy:
        return self._now()

    def pinned(self, policy: Policy) -> PolicyBook:
        """The same archive with `policy` as its current version, whatever a reload does."""
        view = PolicyBook(lambda: policy, load=self._load, build=self._build, save=self._save)
        view._versions, view._saved = self._versions, self._saved
        return view

    def for_binding(self) -> Policy:
        """The current policy, recorded in the store before the first item is bound to it."""
        policy = self._current
        if policy.version not in self._saved and self._save is not None:
            self._save(policy)
        self._saved.add(policy.version)
        return policy

    def get(self, version: str | None) -> Policy:
        """The policy an item is bound to; the current one for an unbound item.

        A version the store does not know (a database restored without its policies)
        falls back to the current policy, with a warning."""
        current = self._current
        if not version or version == current.version:
            return current
        found = self._versions.get(version)
        if found is not None:
            return found
        stored = self._load(version) if self._load else None
        if stored is None or self._build is None:
            log.warning("policy_version_unknown", version=version, using=self._current.version)
            return self._current
        loaded_at, sources = stored
        try:
            policy = self._build(loaded_at, sources)
        except ConfigError as exc:
            log.error("policy_version_unusable", version=version, using=self._current.version,
                      problems=[str(p) for p in exc.problems])
            return self._current
        self._versions[version] = policy
        self._saved.add(version)
        return policy
