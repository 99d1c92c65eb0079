"""Bringing a code system in line with an official file: compare first, then write in bulk.

Every code-set importer turns its file into `CodeEntry`s (only the fields the file carries),
`GroupEntry`s (its tree) and the history the file itself states; `sync_code_set` then works
out what is new, changed, unchanged or gone, and writes only that. Fields the file does not
carry are never touched — above all the plain-language text and everything else editors write.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils import timezone

from codes.changes import changes_record, descriptor_changes
from codes.importers import bulk
from codes.importers.base import Counts, Importer
from codes.importers.progress import ProgressFactory
from codes.importers.systems import (
    edition_label,
    edition_year,
    is_older_edition,
    system_for_import,
)
from codes.models import Code, CodeGroup, CodeHistory, CodeSystem
from codes.normalize import code_key

DESCRIPTOR_FIELDS = ("short_descriptor", "medium_descriptor", "long_descriptor")

# What a new Code row holds before the file's own fields are laid over it.
NEW_CODE_DEFAULTS: dict[str, object] = {
    "short_descriptor": "",
    "medium_descriptor": "",
    "long_descriptor": "",
    "consumer_descriptor": "",
    "plain_language": "",
    "status": Code.Status.ACTIVE,
    "effective_date": None,
    "end_date": None,
    "action_code": "",
    "action_date": None,
    "is_addon": False,
    "is_billable": True,
    "notes": {},
}


@dataclass
class GroupEntry:
    slug: str
    title: str
    kind: str
    parent: str | None = None
    code_from: str = ""
    code_to: str = ""
    sort_key: str = ""
    notes: dict | None = None  # None: the file has no notes for groups


@dataclass
class CodeEntry:
    code: str  # canonical spelling
    fields: dict[str, object]  # Code fields the file states; compared and kept current
    defaults: dict[str, object] = field(default_factory=dict)  # only for a new row
    group: str | None = None  # slug of its group


@dataclass(frozen=True)
class HistoryEvent:
    code: str  # canonical spelling
    action: str
    year: int
    date: datetime.date | None = None
    note: str = ""


@dataclass
class SyncPolicy:
    source: str  # the format name, recorded on history rows
    year: int  # the edition's year: revisions, additions and removals are dated with it
    retire_missing: bool = False  # codes the file no longer lists are marked deleted
    retire_date: datetime.date | None = None  # their end date
    record_additions: bool = False  # a code new to the site gets an "added" history row
    record_revisions: bool = False  # a changed descriptor gets a "revised" history row
    groups_replace: bool = True  # False: the tree is ours, not the file's: existing groups
    # stay as they are and a code only gets a group when it has none
    add_only: bool = False  # an older edition: add what is missing, change nothing else
    feed: bool = False  # note each code added, deleted or revised for the change feed


@dataclass(frozen=True)
class FeedEntry:
    """A code the file added, deleted or whose descriptors it revised."""

    code: str  # canonical spelling
    change: str  # "added", "deleted" or "revised"
    before: dict[str, object] | None
    after: dict[str, object] | None


@dataclass
class CodeSetResult:
    codes: Counts = field(default_factory=Counts)
    groups: Counts = field(default_factory=Counts)
    history_added: int = 0
    feed: list[FeedEntry] = field(default_factory=list)


def sync_code_set(
    *,
    system: CodeSystem | None,
    entries: list[CodeEntry],
    groups: list[GroupEntry],
    history: Iterable[HistoryEvent],
    policy: SyncPolicy,
    dry_run: bool,
    progress: ProgressFactory,
) -> CodeSetResult:
    """Make the system's groups, codes and imported history match the file. `system` is None
    only on a dry run against a system the site does not have yet."""
    result = CodeSetResult()
    group_ids = _sync_groups(system, groups, policy, dry_run, result.groups)
    plan = _plan_codes(system, entries, group_ids, policy, progress)
    result.codes = plan.counts
    result.feed = plan.feed
    events = _dedupe([*history, *plan.events])
    if system is None:
        result.history_added = len(events)
        return result
    if dry_run:
        result.history_added = len(_new_history(system, events, policy.source, dry_run=True))
        return result
    _write_codes(system, plan, timezone.now(), progress)
    rows = _new_history(system, events, policy.source, dry_run=False)
    CodeHistory.objects.bulk_create(rows, batch_size=5000, ignore_conflicts=True)
    result.history_added = len(rows)
    return result


# --- Groups -------------------------------------------------------------------------------------


def _depths(groups: list[GroupEntry]) -> dict[str, int]:
    by_slug = {g.slug: g for g in groups}
    depths: dict[str, int] = {}

    def depth(group: GroupEntry) -> int:
        if group.slug not in depths:
            parent = by_slug.get(group.parent) if group.parent else None
            depths[group.slug] = 0 if parent is None else depth(parent) + 1
        return depths[group.slug]

    for group in groups:
        depth(group)
    return depths


def _sync_groups(
    system: CodeSystem | None,
    groups: list[GroupEntry],
    policy: SyncPolicy,
    dry_run: bool,
    counts: Counts,
) -> dict[str, int | None]:
    """Upsert the tree by slug (a top-level group may also match an existing one by title, so
    demo or hand-made sections are reused); returns slug -> id (None on a dry run's new ones)."""
    if not groups:
        return {}
    existing: dict[str, CodeGroup] = {}
    roots_by_title: dict[str, CodeGroup] = {}
    if system is not None:
        for group in CodeGroup.objects.filter(system=system):
            existing[group.slug] = group
            if group.parent_id is None:
                roots_by_title.setdefault(group.title.lower(), group)
    depths = _depths(groups)
    ids: dict[str, int | None] = {}
    changed: list[CodeGroup] = []
    changed_fields = ["title", "kind", "parent", "code_from", "code_to", "sort_key", "depth"]
    for depth in sorted(set(depths.values())):
        created: list[CodeGroup] = []
        for entry in (g for g in groups if depths[g.slug] == depth):
            parent_id = ids.get(entry.parent) if entry.parent else None
            values = {
                "title": entry.title[:500],
                "kind": entry.kind,
                "parent_id": parent_id,
                "code_from": entry.code_from,
                "code_to": entry.code_to,
                "sort_key": entry.sort_key[:40],
                "depth": depth,
            }
            if entry.notes is not None:
                values["notes"] = entry.notes
            current = existing.get(entry.slug)
            if current is None and entry.parent is None:
                current = roots_by_title.get(entry.title.lower())
            if current is None:
                counts.added += 1
                ids[entry.slug] = None
                if not dry_run and system is not None:
                    created.append(CodeGroup(system=system, slug=entry.slug[:120], **values))
                continue
            ids[entry.slug] = current.pk
            unchanged = all(getattr(current, k) == v for k, v in values.items())
            if unchanged or policy.add_only or not policy.groups_replace:
                counts.unchanged += 1
                continue
            counts.updated += 1
            for key, value in values.items():
                setattr(current, key, value)
            changed.append(current)
        if created:
            for group in CodeGroup.objects.bulk_create(created, batch_size=1000):
                ids[group.slug] = group.pk
    if changed and not dry_run:
        with_notes = any(g.notes is not None for g in groups)
        CodeGroup.objects.bulk_update(
            changed, changed_fields + (["notes"] if with_notes else []), batch_size=1000
        )
    return ids


# --- Codes --------------------------------------------------------------------------------------


@dataclass
class _CodePlan:
    counts: Counts = field(default_factory=Counts)
    creates: list[dict[str, object]] = field(default_factory=list)
    updates: dict[tuple[str, ...], list[tuple]] = field(default_factory=lambda: defaultdict(list))
    events: list[HistoryEvent] = field(default_factory=list)
    feed: list[FeedEntry] = field(default_factory=list)


def _plan_codes(
    system: CodeSystem | None,
    entries: list[CodeEntry],
    group_ids: dict[str, int | None],
    policy: SyncPolicy,
    progress: ProgressFactory,
) -> _CodePlan:
    plan = _CodePlan()
    carried = sorted({name for entry in entries for name in entry.fields})
    columns = ["id", "key", "code", "status", "end_date", "group_id", *DESCRIPTOR_FIELDS, *carried]
    columns = list(dict.fromkeys(columns))
    position = {name: i for i, name in enumerate(columns)}
    existing: dict[str, tuple] = {}
    if system is not None:
        existing = {row[1]: row for row in Code.objects.filter(system=system).values_list(*columns)}
    seen: set[str] = set()
    with progress("Comparing", len(entries), unit="codes") as bar:
        for entry in entries:
            key = code_key(entry.code)
            seen.add(key)
            group_id = group_ids.get(entry.group) if entry.group else None
            row = existing.get(key)
            if row is None:
                _plan_create(plan, entry, key, group_id, policy)
            elif policy.add_only or _same(row, position, entry, group_id, policy):
                plan.counts.unchanged += 1
            else:
                _plan_update(plan, entry, dict(zip(columns, row, strict=True)), group_id, policy)
            bar.advance()
    if policy.retire_missing and not policy.add_only:
        for key, row in existing.items():
            current = dict(zip(columns, row, strict=True))
            if key not in seen and current["status"] == Code.Status.ACTIVE:
                end = current["end_date"] or policy.retire_date
                plan.updates[("status", "end_date")].append(
                    (current["id"], Code.Status.DELETED, end)
                )
                plan.counts.deleted += 1
                if policy.feed:
                    plan.feed.append(
                        FeedEntry(str(current["code"]), "deleted", _descriptors(current), None)
                    )
                plan.events.append(
                    HistoryEvent(
                        str(current["code"]),
                        CodeHistory.Action.DELETED,
                        policy.year,
                        policy.retire_date,
                        "No longer in the official file.",
                    )
                )
    return plan


def _same(
    row: tuple,
    position: dict[str, int],
    entry: CodeEntry,
    group_id: int | None,
    policy: SyncPolicy,
) -> bool:
    """The quick test that settles most codes of a re-import without building anything."""
    for name, value in entry.fields.items():
        if row[position[name]] != value:
            return False
    current_group = row[position["group_id"]]
    return (
        group_id is None
        or current_group == group_id
        or (not policy.groups_replace and current_group is not None)
    )


def _plan_create(
    plan: _CodePlan, entry: CodeEntry, key: str, group_id: int | None, policy: SyncPolicy
) -> None:
    row = {**NEW_CODE_DEFAULTS, **entry.defaults, **entry.fields}
    row.update(code=entry.code, key=key, group_id=group_id)
    plan.creates.append(row)
    plan.counts.added += 1
    if policy.feed and row["status"] == Code.Status.ACTIVE:
        plan.feed.append(FeedEntry(entry.code, "added", None, _descriptors(row)))
    if policy.record_additions:
        plan.events.append(
            HistoryEvent(
                entry.code,
                CodeHistory.Action.ADDED,
                policy.year,
                row.get("effective_date") or None,
                "New in this edition.",
            )
        )


def _plan_update(
    plan: _CodePlan,
    entry: CodeEntry,
    current: dict[str, object],
    group_id: int | None,
    policy: SyncPolicy,
) -> None:
    changes = {name: value for name, value in entry.fields.items() if current[name] != value}
    if (
        group_id is not None
        and current["group_id"] != group_id
        and (policy.groups_replace or current["group_id"] is None)
    ):
        changes["group_id"] = group_id
    if not changes:
        plan.counts.unchanged += 1
        return
    names = tuple(sorted(changes))
    plan.updates[names].append((current["id"], *(changes[name] for name in names)))
    was_active = current["status"] == Code.Status.ACTIVE
    if changes.get("status") == Code.Status.DELETED and was_active:
        plan.counts.deleted += 1
    else:
        plan.counts.updated += 1
    if policy.record_additions and changes.get("status") == Code.Status.ACTIVE:
        plan.events.append(
            HistoryEvent(
                entry.code,
                CodeHistory.Action.ADDED,
                policy.year,
                None,
                "Reinstated in this edition.",
            )
        )
    revised = [name for name in DESCRIPTOR_FIELDS if name in changes and current[name]]
    if policy.feed:
        _note_for_feed(plan, entry, current, changes, revised)
    if policy.record_revisions and revised:
        before = current.get("long_descriptor") or current.get(revised[0])
        plan.events.append(
            HistoryEvent(
                entry.code,
                CodeHistory.Action.REVISED,
                policy.year,
                None,
                f"Official descriptor revised. Before: {before}",
            )
        )


def _descriptors(row: dict[str, object]) -> dict[str, object]:
    return {name: row[name] for name in DESCRIPTOR_FIELDS if row.get(name)}


def _note_for_feed(
    plan: _CodePlan,
    entry: CodeEntry,
    current: dict[str, object],
    changes: dict[str, object],
    revised: list[str],
) -> None:
    status = changes.get("status")
    if status is not None and status != current["status"]:
        after = {**current, **changes}
        if status == Code.Status.DELETED:
            plan.feed.append(FeedEntry(entry.code, "deleted", _descriptors(current), None))
        else:
            plan.feed.append(FeedEntry(entry.code, "added", None, _descriptors(after)))
        return
    if revised:
        plan.feed.append(
            FeedEntry(
                entry.code,
                "revised",
                {name: current[name] for name in revised},
                {name: changes[name] for name in revised},
            )
        )


def _write_codes(
    system: CodeSystem, plan: _CodePlan, now: datetime.datetime, progress: ProgressFactory
) -> None:
    total = len(plan.creates) + sum(len(rows) for rows in plan.updates.values())
    if not total:
        return
    with progress("Writing", total, unit="codes") as bar:
        if plan.creates:
            names = [
                "system",
                "code",
                "key",
                "group",
                *NEW_CODE_DEFAULTS,
                "created_at",
                "updated_at",
            ]
            bulk.insert_rows(
                Code,
                names,
                (
                    (
                        system.pk,
                        row["code"],
                        row["key"],
                        row["group_id"],
                        *(row[name] for name in NEW_CODE_DEFAULTS),
                        now,
                        now,
                    )
                    for row in plan.creates
                ),
                step=bar.advance,
            )
        for names, rows in plan.updates.items():
            fields = [name.removesuffix("_id") for name in names]
            bulk.update_rows(
                Code, [*fields, "updated_at"], ((*row, now) for row in rows), step=bar.advance
            )


# --- History ------------------------------------------------------------------------------------


def _dedupe(events: list[HistoryEvent]) -> list[HistoryEvent]:
    """One event per code, year and action (the first stated wins: the file's own words come
    before what a comparison infers)."""
    kept: dict[tuple[str, int, str], HistoryEvent] = {}
    for event in events:
        kept.setdefault((code_key(event.code), event.year, event.action), event)
    return list(kept.values())


def _new_history(
    system: CodeSystem, events: list[HistoryEvent], source: str, *, dry_run: bool
) -> list[CodeHistory]:
    """History rows not yet recorded; on a dry run, those of codes still to be created too."""
    if not events:
        return []
    ids = dict(Code.objects.filter(system=system).values_list("key", "id"))
    present = set(
        CodeHistory.objects.filter(code__system=system, source=source).values_list(
            "code_id", "year", "action"
        )
    )
    rows = []
    for event in events:
        code_id = ids.get(code_key(event.code))
        if code_id is None and not dry_run:
            continue
        if (code_id, event.year, event.action) in present:
            continue
        rows.append(
            CodeHistory(
                code_id=code_id,
                year=event.year,
                date=event.date,
                action=event.action,
                note=event.note,
                source=source,
            )
        )
    return rows


# --- The importers of whole code sets ---------------------------------------------------------


class CodeSetImporter(Importer):
    """A file that is the official list of one code system (HCPCS, ICD-10-CM, CPT). Subclasses
    set `year` and `effective` while parsing and call `sync()` from `apply()`."""

    system_slug = ""
    history_in_file = False  # the file dates its own additions (HCPCS): none inferred
    add_only = False  # set by sync(): an older edition than the site's only adds
    year: int
    effective: datetime.date

    def edition_start(self, edition: str) -> datetime.date | None:
        """The first day of an edition of this code set: January 1 of its year (ICD-10-CM
        says otherwise)."""
        year = edition_year(edition)
        return datetime.date(year, 1, 1) if year else None

    def sync(
        self,
        *,
        entries: list[CodeEntry],
        groups: list[GroupEntry],
        history: Iterable[HistoryEvent] = (),
        groups_replace: bool = True,
        copyright_year: int | None = None,
    ) -> bool:
        """Bring the system in line with the file; True when an earlier import of this format
        exists (only then can a code be 'new' or 'gone')."""
        dry_run = self.options.dry_run
        edition_before = (
            CodeSystem.objects.filter(slug=self.system_slug)
            .values_list("edition", flat=True)
            .first()
        )
        system = system_for_import(
            self.system_slug,
            edition=self.edition,
            copyright_year=copyright_year or self.year,
            dry_run=dry_run,
        )
        older = self.add_only = is_older_edition(self.edition, system)
        if older:
            self.warn(
                f"edition {self.edition} is older than the loaded {system.edition}: only codes "
                "the site lacks are added"
            )
        seen_before = self.earlier_runs().exists()
        result = sync_code_set(
            system=system,
            entries=entries,
            groups=groups,
            history=history,
            policy=SyncPolicy(
                source=self.format,
                year=self.year,
                retire_missing=seen_before,
                retire_date=self.effective - datetime.timedelta(days=1),
                record_additions=seen_before and not self.history_in_file,
                record_revisions=seen_before,
                groups_replace=groups_replace,
                add_only=older,
                feed=seen_before and not older and self.feed_run is not None,
            ),
            dry_run=dry_run,
            progress=self.progress,
        )
        if result.feed:
            changes_record(
                run=self.feed_run,
                changes=descriptor_changes(
                    system=self.system_slug,
                    entries=result.feed,
                    edition_before=edition_label(self.system_slug, edition_before or ""),
                    edition_after=edition_label(self.system_slug, self.edition),
                    effective_before=self.edition_start(edition_before or ""),
                    effective_after=self.effective,
                ),
            )
        self.counts["codes"] = result.codes
        self.counts["groups"] = result.groups
        self.counts["history entries"] = Counts(added=result.history_added)
        return seen_before and not older
