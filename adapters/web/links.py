"""The links a digest email carries: for each item, one that logs its recipient in and
opens the item (signed with the site's key, valid `web.link_days`, single use; see
adapters/web/auth.py). Only when `web.base_url` is configured: without a public address
there is nothing to link to, and the digest says how to follow up instead."""

from __future__ import annotations

from datetime import timedelta

from adapters.sqlstore import SqlStore
from adapters.web.auth import LinkProver, site_secret
from engine.notices import Digest
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
        or the recipient is not a person who can log in (a higher authority)."""
        if self.config.base_url is None or digest.recipient_name not in org.people:
            return {}
        expires = digest.generated_at + timedelta(days=self.config.link_days)
        links: dict[int, str] = {}
        for n in digest.notices:
            if n.item_id not in links:
                token = self._links().digest_token(digest.recipient_name, n.item_id, expires)
                links[n.item_id] = f"{self.config.base_url}/login/{token}"
        return links
