"""Prints the JSON Schemas shipped for editors:

    python -m adapters.schemas rule > rules/rule.schema.json
    python -m adapters.schemas calendar > adapters/sitefiles/calendar.schema.json
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

from engine import policy, sitecalendar

DOCUMENTS: dict[str, Callable[[], dict[str, Any]]] = {
    "rule": policy.schema_document,
    "calendar": sitecalendar.schema_document,
}


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in DOCUMENTS:
        print(f"usage: python -m adapters.schemas {'|'.join(DOCUMENTS)}", file=sys.stderr)
        return 2
    print(json.dumps(DOCUMENTS[argv[0]](), ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
