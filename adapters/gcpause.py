"""Bulk steps run with the cyclic garbage collector paused: an import builds many small
acyclic objects and keeps them until it writes, so full collections would only walk them
again and again (measured at ~15% of a 100,000-row import). Reference counting still
frees everything. Process-wide state, so it is switched here, by the caller of a bulk
step, never inside the engine."""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def gc_paused() -> Iterator[None]:
    """The block runs with the cyclic collector off (left as it was if already off)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def without_gc(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn` runs with the cyclic collector paused (gc_paused)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with gc_paused():
            return fn(*args, **kwargs)

    return wrapper
