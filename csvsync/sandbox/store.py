"""The sandbox's SQLite store: sites, locales, collections, fields, item variants and assets.

Each item variant (item id x cmsLocaleId) has two rows in ``entries``: side 0 is the staged
version, side 1 the live one (absent until published). Every public method takes the single
store lock and runs in one transaction, so a request is applied entirely or not at all.
Methods speak Webflow's JSON (the HTTP front only routes); errors are ``WebflowError``.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from . import files
from .apierrors import (
    NEVER_PUBLISHED,
    STRUCTURE_CHANGED,
    FieldError,
    WebflowError,
    bad_request,
    item_limit_reached,
    not_found,
    validation_error,
)
from .queries import ListQuery, PageCache, order_clause, where_clause
from .validation import DROP, FieldDef, ValueContext, format_datetime, validate_value

STAGED, LIVE = 0, 1
MAX_ITEMS = 100
FILE_TYPES = frozenset({"Image", "File"})
ID_PREFIX = "64f0c0ffee"
# one hex digit after the prefix keeps generated ids of each kind apart (seed ids use 0)
ID_KIND = {"item": "1", "field": "2", "option": "3", "collection": "4", "site": "5", "locale": "6"}
LOCALE_TYPE_ERROR = 'Validation Error: ["Value (cmsLocaleId)\'s type should be string"]'
# A site without localization keeps its variants under one hidden locale id "-<site id>": never
# shown (no ``locales`` in the site, no ``cmsLocaleId`` in items), and no client can name it.
HIDDEN_LOCALE = "-"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sites (
    id TEXT PRIMARY KEY, workspace_id TEXT NOT NULL, display_name TEXT NOT NULL,
    short_name TEXT NOT NULL, time_zone TEXT NOT NULL, created_on TEXT NOT NULL,
    last_updated TEXT NOT NULL, last_published TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS locales (
    cms_locale_id TEXT PRIMARY KEY, site_id TEXT NOT NULL, id TEXT NOT NULL, tag TEXT NOT NULL,
    display_name TEXT NOT NULL, is_primary INTEGER NOT NULL, position INTEGER NOT NULL,
    enabled INTEGER NOT NULL, subdirectory TEXT NOT NULL, redirect INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS collections (
    id TEXT PRIMARY KEY, site_id TEXT NOT NULL, display_name TEXT NOT NULL,
    singular_name TEXT NOT NULL, slug TEXT NOT NULL, created_on TEXT NOT NULL,
    last_updated TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS fields (
    id TEXT PRIMARY KEY, collection_id TEXT NOT NULL, position INTEGER NOT NULL,
    slug TEXT NOT NULL, display_name TEXT NOT NULL, type TEXT NOT NULL,
    is_required INTEGER NOT NULL, is_editable INTEGER NOT NULL, help_text TEXT,
    validations TEXT);
CREATE TABLE IF NOT EXISTS entries (
    side INTEGER NOT NULL, collection_id TEXT NOT NULL, item_id TEXT NOT NULL,
    cms_locale_id TEXT NOT NULL, ord INTEGER NOT NULL, created_on TEXT NOT NULL,
    last_updated TEXT NOT NULL, last_published TEXT, is_draft INTEGER NOT NULL,
    is_archived INTEGER NOT NULL, name TEXT, slug TEXT, field_data TEXT NOT NULL,
    PRIMARY KEY (side, item_id, cms_locale_id));
-- covers listing: filter by locale / lastUpdated and page by ord without touching the table
CREATE INDEX IF NOT EXISTS ix_entries_list
    ON entries (collection_id, side, ord, cms_locale_id, last_updated);
CREATE INDEX IF NOT EXISTS ix_entries_slug ON entries (collection_id, cms_locale_id, slug);
CREATE TABLE IF NOT EXISTS assets (file_id TEXT PRIMARY KEY, url TEXT NOT NULL, rel TEXT NOT NULL);
-- the bytes of files fetched from loopback URLs (files.py); synthetic assets have none
CREATE TABLE IF NOT EXISTS asset_files (
    file_id TEXT PRIMARY KEY, content_type TEXT NOT NULL, data BLOB NOT NULL);
-- what waits for the next site publish: collections whose fields changed (live writes refused)
-- and the slugs of deleted items (still taken)
CREATE TABLE IF NOT EXISTS schema_changed (collection_id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS reserved_slugs (
    collection_id TEXT NOT NULL, cms_locale_id TEXT NOT NULL, slug TEXT NOT NULL,
    PRIMARY KEY (collection_id, cms_locale_id, slug));
"""

_ENTRY_COLS = (
    "side, collection_id, item_id, cms_locale_id, ord, created_on, last_updated, last_published, "
    "is_draft, is_archived, name, slug, field_data"
)


def now_iso() -> str:
    return format_datetime(datetime.now(UTC))


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@dataclass
class Entry:
    """One side (staged or live) of one item variant."""

    side: int
    collection_id: str
    item_id: str
    cms_locale_id: str
    ord: int
    created_on: str
    last_updated: str
    last_published: str | None
    is_draft: bool
    is_archived: bool
    field_data: dict[str, Any]

    def row(self) -> tuple[Any, ...]:
        return (
            self.side, self.collection_id, self.item_id, self.cms_locale_id, self.ord,
            self.created_on, self.last_updated, self.last_published, int(self.is_draft),
            int(self.is_archived), self.field_data.get("name"), self.field_data.get("slug"),
            _dumps(self.field_data),
        )  # fmt: skip

    @classmethod
    def from_row(cls, r: sqlite3.Row | tuple[Any, ...]) -> Entry:
        return cls(
            side=r[0], collection_id=r[1], item_id=r[2], cms_locale_id=r[3], ord=r[4],
            created_on=r[5], last_updated=r[6], last_published=r[7], is_draft=bool(r[8]),
            is_archived=bool(r[9]), field_data=json.loads(r[12]),
        )  # fmt: skip


@dataclass(frozen=True)
class NewItem:
    """An item to create: its fieldData per cmsLocaleId (all variants share the id)."""

    field_data: dict[str, Any]  # cmsLocaleId -> fieldData (checked to be an object)
    is_draft: bool = True
    is_archived: bool = False
    item_id: str | None = None
    created_on: str | None = None  # the seed sets fixed times; None = now
    # values stored as given, past validation: read-only fields (User) for the demo seed
    raw: dict[str, Any] | None = None


class Store:
    """SQLite-backed Webflow CMS state. Thread-safe through one lock."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.is_new = path is None or not path.exists() or path.stat().st_size == 0
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            str(path) if path else ":memory:", check_same_thread=False, isolation_level=None
        )
        if path:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        # absolute origin for asset URLs ("http://127.0.0.1:PORT"); set by the server
        self.asset_base = ""
        self._fields: dict[str, list[FieldDef]] = {}
        self._files: dict[str, list[str]] = {}
        self._pages = PageCache()
        self._closed = False
        # The site plan's item limit (items of all the site's collections); None: no limit.
        self.item_limit: int | None = None

    # ------------------------------------------------------------------ plumbing
    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._closed:
                raise WebflowError(503, "service_unavailable", "The sandbox is shutting down")
            self._db.execute("BEGIN")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._db.close()

    def _next(self, db: sqlite3.Connection, counter: str) -> int:
        row = db.execute("SELECT value FROM meta WHERE key = ?", (counter,)).fetchone()
        n = int(row[0]) + 1 if row else 1
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (counter, str(n)))
        return n

    def _new_id(self, db: sqlite3.Connection, kind: str) -> str:
        return f"{ID_PREFIX}{ID_KIND[kind]}{self._next(db, 'seq_' + kind):013x}"

    def get_meta(self, key: str) -> str | None:
        with self._tx() as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # ------------------------------------------------------------------ sites and locales
    def create_site(
        self,
        display_name: str,
        locales: list[dict[str, Any]],
        site_id: str | None = None,
        short_name: str | None = None,
        created_on: str | None = None,
        localized: bool = True,
    ) -> str:
        """Create a site. ``locales[0]`` is primary; each is ``{tag, displayName,
        cmsLocaleId?, id?, subdirectory?}``. ``localized=False``: a site without localization
        (only ``locales[0]`` is kept, hidden; see ``primary_locale``). Returns the site id."""
        if not locales:
            raise ValueError("a site needs at least its primary locale")
        with self._tx() as db:
            sid = site_id or self._new_id(db, "site")
            if not localized:
                locales = [{**locales[0], "cmsLocaleId": HIDDEN_LOCALE + sid}]
            when = created_on or now_iso()
            db.execute(
                "INSERT INTO sites VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (sid, sid[:-4] + "0000", display_name,
                 short_name or display_name.lower().replace(" ", "-"), "UTC", when, when, when),
            )  # fmt: skip
            for pos, loc in enumerate(locales):
                primary = pos == 0
                tag = str(loc["tag"])
                db.execute(
                    "INSERT INTO locales VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (loc.get("cmsLocaleId") or self._new_id(db, "locale"), sid,
                     loc.get("id") or self._new_id(db, "locale"), tag,
                     loc.get("displayName", tag), int(primary), pos, 1,
                     loc.get("subdirectory", "" if primary else tag.lower()), int(primary)),
                )  # fmt: skip
            return sid

    def _site_row(self, db: sqlite3.Connection, site_id: str) -> tuple[Any, ...]:
        row = db.execute("SELECT * FROM sites WHERE id = ?", (site_id,)).fetchone()
        if row is None:
            raise not_found("site")
        return tuple(row)

    def _locales(self, db: sqlite3.Connection, site_id: str) -> list[tuple[Any, ...]]:
        return db.execute(
            "SELECT cms_locale_id, id, tag, display_name, is_primary, position, enabled, "
            "subdirectory, redirect FROM locales WHERE site_id = ? ORDER BY position",
            (site_id,),
        ).fetchall()

    def _site_json(self, db: sqlite3.Connection, site_id: str) -> dict[str, Any]:
        s = self._site_row(db, site_id)
        locs = [
            {
                "id": lid, "cmsLocaleId": cid, "enabled": bool(en), "displayName": dn,
                "displayImageId": None, "redirect": bool(red), "subdirectory": sub, "tag": tag,
            }
            for cid, lid, tag, dn, _p, _pos, en, sub, red in self._locales(db, site_id)
        ]  # fmt: skip
        out = {
            "id": s[0], "workspaceId": s[1], "displayName": s[2], "shortName": s[3],
            "timeZone": s[4], "createdOn": s[5], "lastUpdated": s[6], "lastPublished": s[7],
            "customDomains": [],
            "locales": {"primary": locs[0], "secondary": locs[1:]},
            "dataCollectionEnabled": False, "dataCollectionType": "disabled",
        }  # fmt: skip
        if str(locs[0]["cmsLocaleId"]).startswith(HIDDEN_LOCALE):
            del out["locales"]  # no localization: Webflow leaves the key out (js-webflow-api#223)
        return out

    def primary_locale(self, site_id: str) -> str:
        """The site's primary cmsLocaleId (a site without localization: its hidden one)."""
        with self._tx() as db:
            self._site_row(db, site_id)
            return str(self._locales(db, site_id)[0][0])

    def list_sites(self) -> dict[str, Any]:
        with self._tx() as db:
            ids = [r[0] for r in db.execute("SELECT id FROM sites ORDER BY created_on, id")]
            return {"sites": [self._site_json(db, i) for i in ids]}

    def get_site(self, site_id: str) -> dict[str, Any]:
        with self._tx() as db:
            return self._site_json(db, site_id)

    def site_ids(self) -> list[str]:
        with self._tx() as db:
            return [r[0] for r in db.execute("SELECT id FROM sites ORDER BY created_on, id")]

    # ------------------------------------------------------------------ collections and fields
    def _collection_row(self, db: sqlite3.Connection, cid: str) -> tuple[Any, ...]:
        row = db.execute(
            "SELECT id, site_id, display_name, singular_name, slug, created_on, last_updated "
            "FROM collections WHERE id = ?",
            (cid,),
        ).fetchone()
        if row is None:
            raise not_found("collection")
        return tuple(row)

    def _field_defs(self, db: sqlite3.Connection, cid: str) -> list[FieldDef]:
        cached = self._fields.get(cid)
        if cached is not None:
            return cached
        defs = [
            FieldDef(
                id=r[0], slug=r[1], display_name=r[2], type=r[3], required=bool(r[4]),
                editable=bool(r[5]), help_text=r[6],
                validations=json.loads(r[7]) if r[7] else None,
            )
            for r in db.execute(
                "SELECT id, slug, display_name, type, is_required, is_editable, help_text, "
                "validations FROM fields WHERE collection_id = ? ORDER BY position",
                (cid,),
            )
        ]  # fmt: skip
        self._fields[cid] = defs
        return defs

    def _collection_json(
        self, db: sqlite3.Connection, cid: str, with_fields: bool = True
    ) -> dict[str, Any]:
        c = self._collection_row(db, cid)
        out: dict[str, Any] = {
            "id": c[0], "displayName": c[2], "singularName": c[3], "slug": c[4],
            "createdOn": c[5], "lastUpdated": c[6],
        }  # fmt: skip
        if with_fields:
            out["fields"] = [f.to_json() for f in self._field_defs(db, cid)]
        return out

    def list_collections(self, site_id: str) -> dict[str, Any]:
        with self._tx() as db:
            self._site_row(db, site_id)
            ids = [
                r[0]
                for r in db.execute(
                    "SELECT id FROM collections WHERE site_id = ? ORDER BY created_on, id",
                    (site_id,),
                )
            ]
            return {"collections": [self._collection_json(db, i, False) for i in ids]}

    def get_collection(self, collection_id: str) -> dict[str, Any]:
        with self._tx() as db:
            return self._collection_json(db, collection_id)

    def fields(self, collection_id: str) -> list[FieldDef]:
        with self._tx() as db:
            self._collection_row(db, collection_id)
            return list(self._field_defs(db, collection_id))

    def create_collection(
        self, site_id: str, body: dict[str, Any], collection_id: str | None = None
    ) -> dict[str, Any]:
        """``POST /sites/{id}/collections``: displayName, singularName, slug?, fields[]."""
        if not isinstance(body, dict):
            raise bad_request()
        errors = [
            FieldError(k, "Field is required")
            for k in ("displayName", "singularName")
            if not isinstance(body.get(k), str) or not body.get(k)
        ]
        if "slug" in body and (not isinstance(body["slug"], str) or not body["slug"]):
            errors.append(FieldError("slug", "Expected a non-empty string"))
        raw_fields = body.get("fields", [])
        if not isinstance(raw_fields, list) or not all(isinstance(f, dict) for f in raw_fields):
            errors.append(FieldError("fields", "Expected an array of field objects"))
        if errors:
            raise validation_error(errors)
        with self._tx() as db:
            self._site_row(db, site_id)
            cid = collection_id or self._new_id(db, "collection")
            slug = body.get("slug") or _slugify(str(body["singularName"]))
            taken = db.execute(
                "SELECT 1 FROM collections WHERE site_id = ? AND slug = ?", (site_id, slug)
            ).fetchone()
            if taken:
                raise WebflowError(
                    409, "duplicate_collection", f"Collection with slug '{slug}' already exists"
                )
            when = now_iso()
            db.execute(
                "INSERT INTO collections VALUES (?, ?, ?, ?, ?, ?, ?)",
                (cid, site_id, body["displayName"], body["singularName"], slug, when, when),
            )
            self._fields.pop(cid, None)
            base = [
                {"type": "PlainText", "displayName": "Name", "isRequired": True, "slug": "name"},
                {"type": "PlainText", "displayName": "Slug", "isRequired": True, "slug": "slug"},
            ]
            for spec in base + list(raw_fields):
                self._add_field(db, cid, spec)
            return self._collection_json(db, cid)

    def create_field(self, collection_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /collections/{id}/fields``; returns the field with ``validations`` and, for
        Option/Reference fields, the ``metadata`` the request used (ids filled in)."""
        if not isinstance(body, dict):
            raise bad_request()
        with self._tx() as db:
            self._collection_row(db, collection_id)
            fdef = self._add_field(db, collection_id, body)
            db.execute(
                "UPDATE collections SET last_updated = ? WHERE id = ?", (now_iso(), collection_id)
            )
            db.execute("INSERT OR IGNORE INTO schema_changed VALUES (?)", (collection_id,))
            out = fdef.to_json()
            rules = fdef.validations or {}
            if fdef.type == "Option":
                out["metadata"] = {"options": rules.get("options", [])}
            elif fdef.type in ("Reference", "MultiReference"):
                out["metadata"] = {"collectionId": rules.get("collectionId")}
            return out

    def _add_field(self, db: sqlite3.Connection, cid: str, spec: dict[str, Any]) -> FieldDef:
        ftype = spec.get("type")
        name = spec.get("displayName")
        errors = _field_spec_errors(spec)
        if not isinstance(ftype, str) or ftype not in _ALL_TYPES:
            errors.append(FieldError("type", f"Invalid field type: {ftype!r}"[:200]))
        if not isinstance(name, str) or not name.strip():
            errors.append(FieldError("displayName", "Field is required"))
        if errors:
            raise validation_error(errors)
        assert isinstance(ftype, str) and isinstance(name, str)
        slug = str(spec.get("slug") or _slugify(name))
        existing = {f.slug for f in self._field_defs(db, cid)}
        if slug in existing:
            raise validation_error([FieldError("slug", f"Field slug '{slug}' already exists")])
        given_id = spec.get("id")
        if given_id and db.execute("SELECT 1 FROM fields WHERE id = ?", (given_id,)).fetchone():
            raise validation_error([FieldError("id", f"Field id '{given_id}' already exists")])
        meta = spec.get("metadata") or {}
        validations: dict[str, Any] | None = spec.get("validations") or None
        if ftype == "Option":
            opts = meta.get("options") if isinstance(meta, dict) else None
            if not isinstance(opts, list) or not opts:
                raise validation_error([FieldError("metadata", "options are required")])
            if not all(
                isinstance(o, dict)
                and isinstance(o.get("name"), str)
                and isinstance(o.get("id", ""), str)
                for o in opts
            ):
                raise validation_error(
                    [FieldError("metadata", "every option needs a string name (and id)")]
                )
            validations = {
                "options": [
                    {"name": str(o["name"]), "id": o.get("id") or self._new_id(db, "option")}
                    for o in opts
                    if isinstance(o, dict) and "name" in o
                ]
            }
        elif ftype in ("Reference", "MultiReference"):
            target = meta.get("collectionId") if isinstance(meta, dict) else None
            target = target or (validations or {}).get("collectionId")
            if (
                not isinstance(target, str)
                or not db.execute("SELECT 1 FROM collections WHERE id = ?", (target,)).fetchone()
            ):
                raise validation_error(
                    [FieldError("metadata", f"Reference collection not found: {target!r}")]
                )
            validations = {"collectionId": target}
        fdef = FieldDef(
            id=spec.get("id") or self._new_id(db, "field"),
            slug=slug,
            display_name=name,
            type=ftype,
            required=bool(spec.get("isRequired", False)),
            editable=ftype != "User" and bool(spec.get("isEditable", True)),
            help_text=spec.get("helpText"),
            validations=validations,
        )
        pos = len(existing)
        db.execute(
            "INSERT INTO fields VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (fdef.id, cid, pos, fdef.slug, fdef.display_name, fdef.type, int(fdef.required),
             int(fdef.editable), fdef.help_text,
             _dumps(fdef.validations) if fdef.validations is not None else None),
        )  # fmt: skip
        self._fields.pop(cid, None)
        self._files.pop(cid, None)
        return fdef

    # ------------------------------------------------------------------ helpers for items
    def _coll_ctx(self, db: sqlite3.Connection, cid: str) -> tuple[str, list[tuple[Any, ...]]]:
        c = self._collection_row(db, cid)
        return c[1], self._locales(db, c[1])

    @staticmethod
    def _resolve_locale(
        locales: list[tuple[Any, ...]], holder: dict[str, Any], key: str = "cmsLocaleId"
    ) -> str:
        if key not in holder:
            return str(locales[0][0])
        value = holder[key]
        if not isinstance(value, str):
            raise WebflowError(400, "validation_error", LOCALE_TYPE_ERROR)
        # Inferred: a site without localization knows no cmsLocaleId, so any is refused.
        if value.startswith(HIDDEN_LOCALE) or value not in {loc[0] for loc in locales}:
            raise validation_error([FieldError(key, f"Invalid cmsLocaleId: '{value}'")])
        return value

    @staticmethod
    def _locale_list(locales: list[tuple[Any, ...]], values: Any, key: str) -> list[str]:
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise WebflowError(
                400, "validation_error", f'Validation Error: ["Value ({key}) should be array"]'
            )
        known = {loc[0] for loc in locales}
        bad = [v for v in values if v not in known or v.startswith(HIDDEN_LOCALE)]
        if bad:
            raise validation_error([FieldError(key, f"Invalid cmsLocaleId: '{bad[0]}'")])
        return list(dict.fromkeys(values))

    def _value_ctx(self, db: sqlite3.Connection, skip_invalid_files: bool) -> ValueContext:
        def reference_exists(target: str, item_id: str) -> bool:
            return (
                db.execute(
                    "SELECT 1 FROM entries WHERE side = 0 AND item_id = ? AND collection_id = ? "
                    "LIMIT 1",
                    (item_id, target),
                ).fetchone()
                is not None
            )

        def register_asset(url: str) -> tuple[str, str]:
            fid = hashlib.sha1(url.encode()).hexdigest()[:24]
            name = PurePosixPath(unquote(urlsplit(url).path)).name or "file"
            name = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
            rel = f"/assets/{fid}/{name}"
            db.execute("INSERT OR IGNORE INTO assets VALUES (?, ?, ?)", (fid, url, rel))
            return fid, rel

        def lookup_asset(fid: str) -> str | None:
            row = db.execute("SELECT rel FROM assets WHERE file_id = ?", (fid,)).fetchone()
            return None if row is None else str(row[0])

        return ValueContext(
            skip_invalid_files=skip_invalid_files,
            reference_exists=reference_exists,
            register_asset=register_asset,
            lookup_asset=lookup_asset,
            host_file=lambda got: files.host(db, got),
        )

    def asset(self, file_id: str) -> tuple[str, str] | None:
        """(original url, relative path) of an asset, for ``GET /assets/...``."""
        with self._tx() as db:
            row = db.execute("SELECT url, rel FROM assets WHERE file_id = ?", (file_id,)).fetchone()
            return None if row is None else (str(row[0]), str(row[1]))

    def asset_content(self, file_id: str) -> tuple[str, bytes] | None:
        """(content type, bytes) of an asset fetched from a loopback URL; None otherwise."""
        with self._tx() as db:
            return files.content(db, file_id)

    def _check_field_data(
        self,
        defs: dict[str, FieldDef],
        data: Any,
        ctx: ValueContext,
        errors: list[FieldError],
    ) -> dict[str, Any]:
        """Validated values of one item's ``fieldData`` (DROP entries removed)."""
        if data is None:
            return {}
        if not isinstance(data, dict):
            errors.append(FieldError("fieldData", "Expected an object"))
            return {}
        out: dict[str, Any] = {}
        for slug, value in data.items():
            fdef = defs.get(slug)
            if fdef is None:
                errors.append(FieldError(slug, "Field not described in schema: undefined"))
                continue
            try:
                checked = validate_value(fdef, value, ctx)
            except FieldError as e:
                errors.append(e)
                continue
            if checked is not DROP:
                out[slug] = checked
        return out

    @staticmethod
    def _check_flags(item: dict[str, Any], errors: list[FieldError]) -> None:
        for flag in ("isDraft", "isArchived"):
            if flag in item and not isinstance(item[flag], bool):
                errors.append(FieldError(flag, f"Value ({flag})'s type should be boolean"))

    def _check_slugs(
        self,
        db: sqlite3.Connection,
        cid: str,
        entries: list[Entry],
        errors: list[FieldError],
    ) -> None:
        """A slug must be unique per collection and locale, among staged and live versions."""
        claimed: dict[tuple[str, str], str] = {}
        for e in entries:
            slug = e.field_data.get("slug")
            if not isinstance(slug, str):
                continue
            key = (e.cms_locale_id, slug)
            other = claimed.setdefault(key, e.item_id)
            clash = (
                other != e.item_id
                or db.execute(
                    "SELECT 1 FROM entries WHERE collection_id = ? AND cms_locale_id = ? "
                    "AND slug = ? AND item_id != ? LIMIT 1",
                    (cid, e.cms_locale_id, slug, e.item_id),
                ).fetchone()
                or db.execute(
                    "SELECT 1 FROM reserved_slugs WHERE collection_id = ? AND cms_locale_id = ? "
                    "AND slug = ?",
                    (cid, e.cms_locale_id, slug),
                ).fetchone()
            )
            if clash:
                errors.append(FieldError("slug", f"Unique value is already in database: '{slug}'"))

    def _render(self, db: sqlite3.Connection, e: Entry) -> dict[str, Any]:
        data = e.field_data
        files = self._file_slugs(db, e.collection_id)
        if files and self.asset_base:
            data = dict(data)
            for slug in files:
                value = data.get(slug)
                if isinstance(value, dict):
                    data[slug] = self._absolute(value)
                elif isinstance(value, list):
                    data[slug] = [self._absolute(v) for v in value]
        out = {
            "id": e.item_id, "cmsLocaleId": e.cms_locale_id, "lastPublished": e.last_published,
            "lastUpdated": e.last_updated, "createdOn": e.created_on,
            "isArchived": e.is_archived, "isDraft": e.is_draft, "fieldData": data,
        }  # fmt: skip
        if e.cms_locale_id.startswith(HIDDEN_LOCALE):
            del out["cmsLocaleId"]
        return out

    def _file_slugs(self, db: sqlite3.Connection, cid: str) -> list[str]:
        cached = self._files.get(cid)
        if cached is None:
            defs = self._field_defs(db, cid)
            cached = self._files[cid] = [f.slug for f in defs if f.type in _FILE_FIELD_TYPES]
        return cached

    def _absolute(self, value: Any) -> Any:
        if isinstance(value, dict) and str(value.get("url", "")).startswith("/assets/"):
            return {**value, "url": self.asset_base + value["url"]}
        return value

    def _fetch(
        self, db: sqlite3.Connection, side: int, keys: list[tuple[str, str]]
    ) -> dict[tuple[str, str], Entry]:
        """Entries of one side by (item id, cmsLocaleId), a few queries per request."""
        found: dict[tuple[str, str], Entry] = {}
        for r in self._rows(db, side, keys, _ENTRY_COLS):
            e = Entry.from_row(r)
            found[(e.item_id, e.cms_locale_id)] = e
        return found

    def _owners(
        self, db: sqlite3.Connection, side: int, keys: list[tuple[str, str]]
    ) -> dict[tuple[str, str], str]:
        """(item id, cmsLocaleId) -> collection id for the variants that exist on ``side``."""
        return {
            (r[0], r[1]): r[2]
            for r in self._rows(db, side, keys, "item_id, cms_locale_id, collection_id")
        }

    @staticmethod
    def _rows(
        db: sqlite3.Connection, side: int, keys: list[tuple[str, str]], cols: str
    ) -> Iterator[tuple[Any, ...]]:
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 400):
            chunk = unique[start : start + 400]
            values = ",".join("(?, ?)" for _ in chunk)
            flat = [x for key in chunk for x in key]
            yield from db.execute(
                f"SELECT {cols} FROM entries WHERE side = ? AND (item_id, cms_locale_id) IN "
                f"(VALUES {values})",
                (side, *flat),
            )

    @staticmethod
    def _items_of(body: Any, key: str = "items") -> list[Any]:
        if not isinstance(body, dict):
            raise bad_request()
        items = body.get(key)
        if not isinstance(items, list):
            raise bad_request(f"Bad Request: '{key}' must be an array")
        if len(items) > MAX_ITEMS:
            raise bad_request(
                f"Bad Request: too many items ({len(items)}); a request takes at most {MAX_ITEMS}"
            )
        if not all(isinstance(i, dict) for i in items):
            raise bad_request(f"Bad Request: every entry of '{key}' must be an object")
        return items

    # ------------------------------------------------------------------ reading items
    def list_items(self, collection_id: str, live: bool, q: ListQuery) -> dict[str, Any]:
        with self._tx() as db:
            _site, locales = self._coll_ctx(db, collection_id)
            wanted = (
                [self._resolve_locale(locales, {"cmsLocaleId": v}) for v in q.locales]
                if q.locales
                else [str(locales[0][0])]
            )
            side = LIVE if live else STAGED
            where, args = where_clause(q, collection_id, side, wanted)
            key = self._pages.key(q, collection_id, side, wanted)
            total = self._pages.total(key)
            if total is None:
                total = db.execute(f"SELECT COUNT(*) FROM entries WHERE {where}", args).fetchone()
                total = int(total[0])
                self._pages.put_total(key, total)
            after = self._pages.cursor(key, q.offset) if q.sort_by is None else None
            if after is not None:
                # continue from the previous page's last row: an index seek, no OFFSET scan
                op = "<" if q.descending else ">"
                sql = (
                    f"SELECT rowid, ord FROM entries WHERE {where} AND ord {op} ? "
                    f"ORDER BY {order_clause(q)} LIMIT ?"
                )
                page = db.execute(sql, (*args, after, q.limit)).fetchall()
            else:
                # two steps so paging walks the covering index, not the table
                sql = (
                    f"SELECT rowid, ord FROM entries WHERE {where} ORDER BY {order_clause(q)} "
                    "LIMIT ? OFFSET ?"
                )
                page = db.execute(sql, (*args, q.limit, q.offset)).fetchall()
            if page and q.sort_by is None:
                self._pages.put_cursor(key, q.offset + len(page), page[-1][1])
            rowids = [r[0] for r in page]
            by_rowid: dict[int, Entry] = {}
            if rowids:
                for r in db.execute(
                    f"SELECT rowid, {_ENTRY_COLS} FROM entries WHERE rowid IN "
                    f"({','.join('?' * len(rowids))})",
                    rowids,
                ):
                    by_rowid[r[0]] = Entry.from_row(r[1:])
            items = [self._render(db, by_rowid[i]) for i in rowids]
            return {
                "items": items,
                "pagination": {"limit": q.limit, "offset": q.offset, "total": total},
            }

    def get_item(
        self, collection_id: str, item_id: str, live: bool, cms_locale_id: str | None = None
    ) -> dict[str, Any]:
        with self._tx() as db:
            _site, locales = self._coll_ctx(db, collection_id)
            holder = {} if cms_locale_id is None else {"cmsLocaleId": cms_locale_id}
            loc = self._resolve_locale(locales, holder)
            found = self._fetch(db, LIVE if live else STAGED, [(item_id, loc)]).get((item_id, loc))
            if found is None or found.collection_id != collection_id:
                raise not_found("item")
            return self._render(db, found)

    def variant(
        self, collection_id: str, item_id: str, cms_locale_id: str | None = None, live: bool = True
    ) -> dict[str, Any] | None:
        """One variant as the API would return it, or None (test helper)."""
        try:
            return self.get_item(collection_id, item_id, live, cms_locale_id)
        except WebflowError:
            return None

    def count(self, collection_id: str, live: bool = True, cms_locale_id: str | None = None) -> int:
        """Number of variants on one side (all locales unless one is given)."""
        with self._tx() as db:
            sql = "SELECT COUNT(*) FROM entries WHERE collection_id = ? AND side = ?"
            args: list[Any] = [collection_id, LIVE if live else STAGED]
            if cms_locale_id:
                sql += " AND cms_locale_id = ?"
                args.append(cms_locale_id)
            return int(db.execute(sql, args).fetchone()[0])

    # ------------------------------------------------------------------ creating items
    def create_items(
        self,
        collection_id: str,
        body: Any,
        live: bool,
        skip_invalid_files: bool = True,
        reject: Callable[[str | None, str, dict[str, Any]], FieldError | None] | None = None,
    ) -> dict[str, Any]:
        """``POST /items`` or ``/items/live``: a single item object or ``{"items": [...]}``.
        Returns the created variant, or ``{"items": [...]}`` for the list form."""
        single = isinstance(body, dict) and "items" not in body
        items = [body] if single else self._items_of(body)
        with self._tx() as db:
            _site, locales = self._coll_ctx(db, collection_id)
            new = []
            for item in items:
                loc = self._resolve_locale(locales, item)
                draft = False if live else item.get("isDraft", True)
                new.append(
                    (
                        NewItem(
                            field_data={loc: item.get("fieldData")},
                            is_draft=draft,
                            is_archived=item.get("isArchived", False),
                        ),
                        item,
                    )
                )
            created = self._create(db, collection_id, new, live, skip_invalid_files, reject)
            rendered = [self._render(db, e) for e in created]
            return rendered[0] if single else {"items": rendered}

    def create_items_bulk(
        self,
        collection_id: str,
        body: Any,
        skip_invalid_files: bool = True,
        reject: Callable[[str | None, str, dict[str, Any]], FieldError | None] | None = None,
    ) -> dict[str, Any]:
        """``POST /items/bulk``: one item per fieldData, a variant per cmsLocaleId."""
        if not isinstance(body, dict):
            raise bad_request()
        data = body.get("fieldData")
        datas = data if isinstance(data, list) else [data]
        if len(datas) > MAX_ITEMS:
            raise bad_request(
                f"Bad Request: too many items ({len(datas)}); a request takes at most {MAX_ITEMS}"
            )
        with self._tx() as db:
            _site, locales = self._coll_ctx(db, collection_id)
            # left out, the primary locale only (the spec's create-items note)
            locs = (
                self._locale_list(locales, body["cmsLocaleIds"], "cmsLocaleIds")
                if "cmsLocaleIds" in body
                else [str(locales[0][0])]
            )
            new = [
                (
                    NewItem(
                        field_data={loc: d for loc in locs},
                        is_draft=body.get("isDraft", True),
                        is_archived=body.get("isArchived", False),
                    ),
                    body,
                )
                for d in datas
            ]
            created = self._create(db, collection_id, new, False, skip_invalid_files, reject)
            return {"items": [self._render(db, e) for e in created]}

    def seed_items(
        self, collection_id: str, items: list[NewItem], live: bool, when: str
    ) -> list[str]:
        """Create items with fixed ids and times (the demo seed). Returns the item ids."""
        with self._tx() as db:
            created = self._create(
                db, collection_id, [(i, {}) for i in items], live, True, None, when
            )
            return list(dict.fromkeys(e.item_id for e in created))

    def _create(
        self,
        db: sqlite3.Connection,
        cid: str,
        new: list[tuple[NewItem, dict[str, Any]]],
        live: bool,
        skip_invalid_files: bool,
        reject: Callable[[str | None, str, dict[str, Any]], FieldError | None] | None,
        when: str | None = None,
    ) -> list[Entry]:
        if live and when is None:
            self._check_structure(db, cid)
        defs = {f.slug: f for f in self._field_defs(db, cid)}
        positions = {loc[0]: loc[5] for loc in self._locales(db, self._collection_row(db, cid)[1])}
        ctx = self._value_ctx(db, skip_invalid_files)
        errors: list[FieldError] = []
        entries: list[Entry] = []
        stamp = when or now_iso()
        for spec, _raw in new:
            self._check_flags({"isDraft": spec.is_draft, "isArchived": spec.is_archived}, errors)
            item_id = spec.item_id or self._new_id(db, "item")
            seq = self._next(db, "seq_ord")
            for loc, data in spec.field_data.items():
                if not isinstance(data, dict):
                    errors.append(FieldError("fieldData", "Field is required"))
                    continue
                values = self._check_field_data(defs, data, ctx, errors)
                values = {k: v for k, v in values.items() if v is not None}
                values.update(spec.raw or {})
                errors.extend(
                    FieldError(f.slug, "Field is required")
                    for f in defs.values()
                    if f.required and f.slug not in values
                    and not any(e.param == f.slug for e in errors)
                )  # fmt: skip
                if reject and (hit := reject(None, loc, data)):
                    errors.append(hit)
                entries.append(
                    Entry(
                        side=STAGED, collection_id=cid, item_id=item_id, cms_locale_id=loc,
                        ord=seq * 64 + int(positions[loc]),
                        created_on=spec.created_on or stamp, last_updated=stamp,
                        last_published=stamp if live else None,
                        is_draft=bool(spec.is_draft) and not live,
                        is_archived=bool(spec.is_archived), field_data=values,
                    )
                )  # fmt: skip
        self._check_slugs(db, cid, entries, errors)
        if errors:
            raise validation_error(errors)
        if self.item_limit is not None and when is None:
            self._check_item_limit(db, cid, len(new))
        rows = [e.row() for e in entries]
        if live:
            rows += [(LIVE, *r[1:]) for r in rows]
        db.executemany(f"INSERT INTO entries ({_ENTRY_COLS}) VALUES ({_PLACEHOLDERS})", rows)
        self._pages.bump(cid, membership=True)
        if live:
            return [Entry(**{**e.__dict__, "side": LIVE}) for e in entries]
        return entries

    def site_item_count(self, site_id: str) -> int:
        """Items of all the site's collections (drafts and archived ones too; an item in
        several locales counts once): what a plan's item limit counts."""
        with self._tx() as db:
            return self._site_items(db, site_id)

    @staticmethod
    def _site_items(db: sqlite3.Connection, site_id: str) -> int:
        row = db.execute(
            "SELECT COUNT(DISTINCT item_id) FROM entries WHERE side = ? AND collection_id IN "
            "(SELECT id FROM collections WHERE site_id = ?)",
            (STAGED, site_id),
        ).fetchone()
        return int(row[0])

    def _check_item_limit(self, db: sqlite3.Connection, cid: str, new: int) -> None:
        # Inferred: a request that would cross the limit is refused whole, like any refused
        # create here; the limit counts the site's items, not the collection's (flowout.com).
        limit = self.item_limit
        site = self._collection_row(db, cid)[1]
        if limit is not None and self._site_items(db, site) + new > limit:
            raise item_limit_reached(limit)

    # ------------------------------------------------------------------ updating items
    def update_items(
        self,
        collection_id: str,
        body: Any,
        live: bool,
        skip_invalid_files: bool = True,
        reject: Callable[[str | None, str, dict[str, Any]], FieldError | None] | None = None,
    ) -> dict[str, Any]:
        """``PATCH /items`` or ``/items/live``: ``{"items": [{id, cmsLocaleId?, fieldData,
        isDraft?, isArchived?}]}``. All or nothing; returns the updated variants."""
        items = self._items_of(body)
        side = LIVE if live else STAGED
        with self._tx() as db:
            _site, locales = self._coll_ctx(db, collection_id)
            errors: list[FieldError] = []
            keys: list[tuple[str, str]] = []
            for item in items:
                if not isinstance(item.get("id"), str):
                    raise validation_error([FieldError("id", "Field is required")])
                keys.append((item["id"], self._resolve_locale(locales, item)))
            current = self._fetch(db, side, keys)
            staged = self._owners(db, STAGED, keys)
            # structural problems first: an unknown item fails the batch with 404
            if any(staged.get(key) != collection_id for key in keys):
                raise not_found("item")
            if live:
                self._check_structure(db, collection_id)
                for key in keys:
                    e = current.get(key)
                    if e is None or e.is_archived:
                        raise WebflowError(409, "conflict", NEVER_PUBLISHED)
            defs = {f.slug: f for f in self._field_defs(db, collection_id)}
            ctx = self._value_ctx(db, skip_invalid_files)
            stamp = now_iso()
            pending: dict[tuple[str, str], Entry] = {}
            for item, key in zip(items, keys, strict=True):
                self._check_flags(item, errors)
                values = self._check_field_data(defs, item.get("fieldData"), ctx, errors)
                if reject and (hit := reject(key[0], key[1], item.get("fieldData") or {})):
                    errors.append(hit)
                prev = pending.get(key) or current[key]
                data = dict(prev.field_data)
                for slug, value in values.items():
                    if value is None:
                        data.pop(slug, None)
                    else:
                        data[slug] = value
                pending[key] = Entry(
                    **{
                        **prev.__dict__,
                        "field_data": data,
                        "last_updated": stamp,
                        "last_published": stamp if live else prev.last_published,
                        "is_draft": item.get("isDraft", prev.is_draft),
                        "is_archived": item.get("isArchived", prev.is_archived),
                    }
                )
            changed_slugs = [
                e
                for k, e in pending.items()
                if e.field_data.get("slug") != current[k].field_data.get("slug")
            ]
            self._check_slugs(db, collection_id, changed_slugs, errors)
            if errors:
                raise validation_error(errors)
            db.executemany(
                "UPDATE entries SET last_updated = ?, last_published = ?, is_draft = ?, "
                "is_archived = ?, name = ?, slug = ?, field_data = ? "
                "WHERE side = ? AND item_id = ? AND cms_locale_id = ?",
                [
                    (e.last_updated, e.last_published, int(e.is_draft), int(e.is_archived),
                     e.field_data.get("name"), e.field_data.get("slug"), _dumps(e.field_data),
                     side, e.item_id, e.cms_locale_id)
                    for e in pending.values()
                ],
            )  # fmt: skip
            self._pages.bump(collection_id, membership=False)
            return {"items": [self._render(db, pending[k]) for k in keys]}

    def update_item(
        self,
        collection_id: str,
        item_id: str,
        body: Any,
        live: bool,
        skip_invalid_files: bool = True,
        reject: Callable[[str | None, str, dict[str, Any]], FieldError | None] | None = None,
    ) -> dict[str, Any]:
        """Single-item ``PATCH /items/{id}`` (or ``/live``)."""
        if not isinstance(body, dict):
            raise bad_request()
        out = self.update_items(
            collection_id, {"items": [{**body, "id": item_id}]}, live, skip_invalid_files, reject
        )
        return dict(out["items"][0])

    # ------------------------------------------------------------------ publishing
    def publish(
        self,
        collection_id: str,
        body: Any,
        reject: Callable[[str | None, str, dict[str, Any]], FieldError | None] | None = None,
    ) -> dict[str, Any]:
        """``POST /items/publish``: copy staged -> live. Partial success goes to ``errors``."""
        if not isinstance(body, dict):
            raise bad_request()
        with self._tx() as db:
            _site, locales = self._coll_ctx(db, collection_id)
            primary = str(locales[0][0])
            wanted: list[tuple[str, list[str]]] = []
            if "itemIds" in body:
                ids = body["itemIds"]
                if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                    raise bad_request("Bad Request: 'itemIds' must be an array of ids")
                if len(ids) > MAX_ITEMS:
                    raise bad_request(f"Bad Request: at most {MAX_ITEMS} items per request")
                wanted = [(i, [primary]) for i in ids]
            else:
                for item in self._items_of(body):
                    if not isinstance(item.get("id"), str):
                        raise validation_error([FieldError("id", "Field is required")])
                    locs = (
                        self._locale_list(locales, item["cmsLocaleIds"], "cmsLocaleIds")
                        if "cmsLocaleIds" in item
                        else [primary]
                    )
                    wanted.append((item["id"], locs))
            stamp = now_iso()
            staged = self._fetch(db, STAGED, [(i, loc) for i, locs in wanted for loc in locs])
            published: list[str] = []
            errors: list[str] = []
            rows = []
            for item_id, locs in wanted:
                found = [staged.get((item_id, loc)) for loc in locs]
                if any(e is None or e.collection_id != collection_id for e in found):
                    errors.append(f"Staging item ID {item_id} not found.")
                    continue
                refused = next(
                    (r for loc in locs if reject and (r := reject(item_id, loc, {}))), None
                )
                if refused is not None:
                    errors.append(f"Item {item_id} could not be published: {refused.description}")
                    continue
                for e in found:
                    assert e is not None
                    e.is_draft = False
                    e.last_published = stamp
                    rows.append(e)
                if item_id not in published:
                    published.append(item_id)
            db.executemany(
                "UPDATE entries SET is_draft = 0, last_published = ? "
                "WHERE side = 0 AND item_id = ? AND cms_locale_id = ?",
                [(stamp, e.item_id, e.cms_locale_id) for e in rows],
            )
            live_rows = [(LIVE, *e.row()[1:]) for e in rows]
            db.executemany(
                f"INSERT OR REPLACE INTO entries ({_ENTRY_COLS}) VALUES ({_PLACEHOLDERS})",
                [(*r[:6], stamp, *r[7:]) for r in live_rows],
            )
            self._pages.bump(collection_id, membership=True)
            return {"publishedItemIds": published, "errors": errors}

    def _variant_keys(self, items: list[dict[str, Any]], locales: Any) -> list[tuple[str, str]]:
        """(item id, cmsLocaleId) of each ``{id, cmsLocaleIds?}`` (the primary locale unless
        given), as DELETE /items and DELETE /items/live take them."""
        keys: list[tuple[str, str]] = []
        for item in items:
            if not isinstance(item.get("id"), str):
                raise validation_error([FieldError("id", "Field is required")])
            locs = (
                self._locale_list(locales, item["cmsLocaleIds"], "cmsLocaleIds")
                if "cmsLocaleIds" in item
                else [str(locales[0][0])]
            )
            keys.extend((item["id"], loc) for loc in locs)
        return keys

    def unpublish(self, collection_id: str, body: Any) -> int:
        """``DELETE /items/live``: remove live versions; staged become drafts never published.
        Returns the number of variants unpublished."""
        items = self._items_of(body)
        with self._tx() as db:
            _site, locales = self._coll_ctx(db, collection_id)
            keys = self._variant_keys(items, locales)
            staged = self._owners(db, STAGED, keys)
            if any(staged.get(key) != collection_id for key in keys):
                raise not_found("item")
            db.executemany(
                "DELETE FROM entries WHERE side = 1 AND item_id = ? AND cms_locale_id = ?", keys
            )
            db.executemany(
                "UPDATE entries SET is_draft = 1, last_published = NULL "
                "WHERE side = 0 AND item_id = ? AND cms_locale_id = ?",
                keys,
            )
            self._pages.bump(collection_id, membership=True)
            return len(keys)

    # ------------------------------------------------------------------ deleting, site publish
    def delete_items(self, collection_id: str, body: Any) -> int:
        """``DELETE /items``: ``{"items": [{id, cmsLocaleIds?}]}`` (primary locale unless
        given). Both sides go; each slug stays taken until the next site publish."""
        items = self._items_of(body)
        with self._tx() as db:
            _site, locales = self._coll_ctx(db, collection_id)
            keys = self._variant_keys(items, locales)
            return self._delete(db, collection_id, keys)

    def delete_item(self, collection_id: str, item_id: str, cms_locale_id: str | None) -> int:
        """``DELETE /items/{id}`` (``?cmsLocaleId=``, comma-separated; primary by default)."""
        with self._tx() as db:
            _site, locales = self._coll_ctx(db, collection_id)
            wanted = [v for v in (cms_locale_id or "").split(",") if v]
            locs = self._locale_list(locales, wanted, "cmsLocaleId") or [str(locales[0][0])]
            return self._delete(db, collection_id, [(item_id, loc) for loc in locs])

    def _delete(self, db: sqlite3.Connection, cid: str, keys: list[tuple[str, str]]) -> int:
        staged = self._fetch(db, STAGED, keys)
        if any(k not in staged or staged[k].collection_id != cid for k in keys):
            raise not_found("item")
        live = self._fetch(db, LIVE, keys)
        slugs = {
            (e.cms_locale_id, str(e.field_data["slug"]))
            for e in [*staged.values(), *live.values()]
            if isinstance(e.field_data.get("slug"), str)
        }
        db.executemany(
            "INSERT OR IGNORE INTO reserved_slugs VALUES (?, ?, ?)",
            [(cid, loc, slug) for loc, slug in slugs],
        )
        db.executemany("DELETE FROM entries WHERE item_id = ? AND cms_locale_id = ?", keys)
        self._pages.bump(cid, membership=True)
        return len(keys)

    def publish_site(self, site_id: str) -> str:
        """A site publish: live writes after a field change work again, deleted items' slugs
        are free. (Staged items are not copied to live here.) Returns the publish time."""
        with self._tx() as db:
            self._site_row(db, site_id)
            stamp = now_iso()
            db.execute("UPDATE sites SET last_published = ? WHERE id = ?", (stamp, site_id))
            mine = "SELECT id FROM collections WHERE site_id = ?"
            db.execute(f"DELETE FROM schema_changed WHERE collection_id IN ({mine})", (site_id,))
            db.execute(f"DELETE FROM reserved_slugs WHERE collection_id IN ({mine})", (site_id,))
            return stamp

    def reserved_slugs(self, collection_id: str) -> set[tuple[str, str]]:
        """(cmsLocaleId, slug) held by deleted items until the next site publish (tests)."""
        with self._tx() as db:
            rows = db.execute(
                "SELECT cms_locale_id, slug FROM reserved_slugs WHERE collection_id = ?",
                (collection_id,),
            )
            return {(str(r[0]), str(r[1])) for r in rows}

    @staticmethod
    def _check_structure(db: sqlite3.Connection, cid: str) -> None:
        if db.execute("SELECT 1 FROM schema_changed WHERE collection_id = ?", (cid,)).fetchone():
            raise WebflowError(409, "conflict", STRUCTURE_CHANGED)


_PLACEHOLDERS = ",".join("?" * 13)
_FILE_FIELD_TYPES = frozenset({"Image", "File", "MultiImage"})
_ALL_TYPES = frozenset(
    ("Color", "DateTime", "Email", "ExtFileRef", "File", "Image", "Link", "MultiImage",
     "MultiReference", "Number", "Option", "Phone", "PlainText", "Reference", "RichText",
     "Switch", "VideoLink", "User")
)  # fmt: skip


def _field_spec_errors(spec: dict[str, Any]) -> list[FieldError]:
    """The optional keys of a field definition, checked for their JSON types."""
    errors = []
    for key in ("slug", "id"):
        if key in spec and (not isinstance(spec[key], str) or not spec[key]):
            errors.append(FieldError(key, "Expected a non-empty string"))
    if spec.get("helpText") is not None and not isinstance(spec["helpText"], str):
        errors.append(FieldError("helpText", "Expected a string"))
    for key in ("isRequired", "isEditable"):
        if key in spec and not isinstance(spec[key], bool):
            errors.append(FieldError(key, "Expected a boolean"))
    for key in ("metadata", "validations"):
        if spec.get(key) is not None and not isinstance(spec[key], dict):
            errors.append(FieldError(key, "Expected an object"))
    return errors


def _slugify(name: str) -> str:
    """Webflow's field-slug rule: lowercase, spaces to hyphens (other characters dropped)."""
    out = "".join(c if c.isalnum() or c in " -_" else "" for c in name.strip().lower())
    return "-".join(out.split())
