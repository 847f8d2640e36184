"""The links a digest email (and a deadline change's) carries: for each item, one that
logs its recipient in and opens the item (signed with the site's key, valid `web.link_days`, single use; see
adapters/web/auth.py). Only when `web.base_url` is configured: without a public address
there is nothing to link to, and the digest says how to follow up instead."""

from __future__ import annotations

from datetime import datetime, timedelta

from adapters.sqlstore import SqlStore
from adapters.web.auth import LinkProver, site_secret
from engine.notices import DeadlineChange, Digest
from engine.org import Org
from engine.site import WebConfig


class DigestLinks:
    def __init__(self, config: WebConfig, store: SqlStore) -> None:
        self.config, self.store = config, store
        self._prover: LinkProver | None = None

    def _links(self) -> LinkProver:
        if self._prover is None:  # the key file is read (or created) on first use
            self._prover = LinkProver(self.store, site_secret(self.config.secret_file))
        return self._prover

    def __call__(self, digest: Digest, org: Org) -> dict[int, str]:
        """{item id: link} for the digest's recipient; {} when the web is not configured
        or the recipient can never log in (a higher authority). A unit's mailbox, which
        is no one person, gets each item's address (`mailbox_links`): whoever reads it
        logs in as themselves there."""
        if self.config.base_url is None:
            return {}
        if digest.recipient_name not in org.people:
            return self.mailbox_links(digest, org)
        expires = digest.generated_at + timedelta(days=self.config.link_days)
        links: dict[int, str] = {}
        for n in digest.notices:
            if n.item_id not in links:
                links[n.item_id] = self._link(digest.recipient_name, n.item_id, expires)
        return links

    def mailbox_links(self, digest: Digest, org: Org) -> dict[int, str]:
        """The items' plain addresses (no login in them) for a unit's mailbox; {} for anyone else."""
        if self.config.base_url is None or digest.recipient_name not in org.units:
            return {}
        return {n.item_id: f"{self.config.base_url}/items/{n.item_id}" for n in digest.notices}

    def change(self, change: DeadlineChange, org: Org) -> str | None:
        """The link that opens the item of a deadline change for its recipient (None as
        for a digest: no web address, or no person who can log in)."""
        if self.config.base_url is None or change.recipient_name not in org.people:
            return None
        return self._link(change.recipient_name, change.item_id, change.at + timedelta(days=self.config.link_days))

    def _link(self, person: str, item_id: int, expires: datetime) -> str:
        token = self._links().digest_token(person, item_id, expires)
        return f"{self.config.base_url}/login/{token}"
