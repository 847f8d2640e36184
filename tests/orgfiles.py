"""Sites whose org.yaml is no longer the shipped demo's: what a school does before it
goes live (its own organisation name, its own addresses). Names stay invented and
addresses at example.org, as everywhere in the tests."""

from __future__ import annotations

from pathlib import Path

CONFIGURED_NAME = "示范职业学院"
CONFIGURED_DOMAIN = "school.example.org"


def configure_org(site: Path) -> Path:
    """Give the site's org.yaml its own organisation name and every address its own
    domain, so that nothing in it is the demo's any more (Org.configured)."""
    org = site / "org.yaml"
    text = org.read_text(encoding="utf-8")
    assert 'organisation: "演示职业技术学院"' in text
    text = text.replace('organisation: "演示职业技术学院"', f'organisation: "{CONFIGURED_NAME}"')
    org.write_text(text.replace('@example.org"', f'@{CONFIGURED_DOMAIN}"'), encoding="utf-8")
    return site


def address(local: str) -> str:
    """An address of the configured site: address("anquan-chu") → anquan-chu@school.example.org."""
    return f"{local}@{CONFIGURED_DOMAIN}"
