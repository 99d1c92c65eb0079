"""Parts of pages that are the same for every viewer allowed to see them, built once and kept.

A code page is assembled per request from cached parts (the code with its family and tree,
the descriptions, the sections as of a date of service) and from what is the viewer's own
(the quota banner, the gate, the header). The metering decision is never cached: the view
asks `accounts.quota` on every request, and only then picks which parts to show.

Freshness: every key carries the *data version*, a token kept in the shared cache (the
Postgres cache table, or Redis) and replaced whenever code data changes — by the signals
below on every save and delete of a `codes` model, and by the import runner. A part built
from old data can then never be found again; it simply ages out.

Parts live in each worker's memory (a bounded LRU, so a worker stays small), keyed by
version: one read of the version per request is all the page pays to know its parts are
current, whichever worker or server changed the data.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

T = TypeVar("T")

VERSION_KEY = "codes:data-version"
LOCAL_ENTRIES = 600  # parts per worker; a code page's sections are ~40 KB of HTML


class _LocalParts:
    """A small thread-safe LRU of built parts."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> object | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: str, value: object) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_parts = _LocalParts(LOCAL_ENTRIES)


def data_version() -> str:
    """The current data version (one read of the shared cache)."""
    version = cache.get(VERSION_KEY)
    if version is None:
        # First use, or the entry was evicted: any fresh token is safe, since no part was
        # ever stored under it. If another worker set one first, use theirs.
        cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(VERSION_KEY) or uuid.uuid4().hex
    return version


def data_version_bump() -> None:
    """Make every cached part stale: the next request builds from the data as it is now."""
    cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)


# A cached part that holds a form is rendered with this in place of the CSRF token, and each
# request puts its own token in (`csrf_fill`). Random per process, as the parts are: no text
# of ours or of a publisher's can carry it.
CSRF_MARKER = f"csrf-{uuid.uuid4().hex}"


def csrf_fill(html: str, *, token: str) -> SafeString:
    """A cached part with this request's CSRF token in place of the marker."""
    return mark_safe(html.replace(CSRF_MARKER, escape(token)))


def part_key(part: str, *, version: str, **inputs: object) -> str:
    """The one place a part's key is made: its name, the data version, and every input the
    part depends on — the code, and for the sections the date of service, the locality, and
    whether the viewer is an editor. A part that starts to depend on something new takes it
    here as one more keyword."""
    described = "|".join(f"{name}={inputs[name]!r}" for name in sorted(inputs))
    digest = hashlib.blake2b(described.encode(), digest_size=16).hexdigest()
    return f"{part}:{version}:{digest}"


def part_get_or_build(part: str, build: Callable[[], T], *, version: str, **inputs: object) -> T:
    """The cached part for these inputs, built (and kept) on a miss. `None` is never kept."""
    key = part_key(part, version=version, **inputs)
    found = _parts.get(key)
    if found is not None:
        return found  # type: ignore[return-value]
    built = build()
    if built is not None:
        _parts.put(key, built)
    return built


# --- Freshness: any change to the code data makes a new version ---------------------------------


_batch = threading.local()


@contextmanager
def data_changes_batched() -> Iterator[None]:
    """Many saves in a row (the demo loader's thousands): one new version when they are done,
    instead of a write to the shared cache for each save and another after commit."""
    if getattr(_batch, "active", False):
        yield
        return
    _batch.active = True
    try:
        yield
    finally:
        _batch.active = False
        _data_changed()


def _data_changed() -> None:
    if getattr(_batch, "active", False):
        return  # data_changes_batched() makes the one new version at its end
    data_version_bump()
    if transaction.get_connection().in_atomic_block:
        # Bumped now for readers inside this transaction (and for Redis, at once), and again
        # after commit: a request served in between may have built a part from the old rows
        # under the first token; the second retires it.
        transaction.on_commit(data_version_bump)


def _bump_on_change(sender, **kwargs) -> None:
    _data_changed()


def _bump_on_m2m(sender, action: str, **kwargs) -> None:
    if action.startswith("post_"):
        _data_changed()


def connect_signals(models) -> None:
    """Bump the version on every save and delete of these models (and their many-to-many
    links). Connected per model: a receiver for every sender would cost all other models
    Django's fast, row-less delete."""
    for model in models:
        label = model._meta.label_lower
        post_save.connect(_bump_on_change, sender=model, dispatch_uid=f"version-save-{label}")
        post_delete.connect(_bump_on_change, sender=model, dispatch_uid=f"version-del-{label}")
        for m2m in model._meta.local_many_to_many:
            through = m2m.remote_field.through
            m2m_changed.connect(
                _bump_on_m2m, sender=through, dispatch_uid=f"version-m2m-{label}-{m2m.name}"
            )
