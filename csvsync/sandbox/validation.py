"""Field values as Webflow checks and transforms them: one function per field type.

``validate_value`` returns the value to store (dates normalized, files re-hosted as
``{fileId, url, alt}``), ``DROP`` for a file skipped under ``skipInvalidFiles``, or raises
``FieldError`` naming the field slug, which the store collects into a ``validation_error``.

A rule here is one Webflow documents, or an inference marked as such in ``docs/field-rules.md``;
where Webflow documents only "string" (Link, Phone) any string is taken, as Webflow would.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from .apierrors import FieldError
from .files import Fetched, checked, fetched, is_loopback_url
from .richtext import stored_rich_text


class _Drop:
    """Sentinel: leave the field out (an invalid file skipped under skipInvalidFiles)."""

    def __repr__(self) -> str:
        return "DROP"


DROP: Any = _Drop()

SLUG_RE = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")


@dataclass(frozen=True)
class FieldDef:
    """One collection field as the store keeps it (``GET /collections/{id}`` ``fields[]``)."""

    id: str
    slug: str
    display_name: str
    type: str
    required: bool = False
    editable: bool = True
    help_text: str | None = None
    validations: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "isEditable": self.editable,
            "isRequired": self.required,
            "type": self.type,
            "slug": self.slug,
            "displayName": self.display_name,
            # the spec types helpText as a string, never null: no help text is ""
            "helpText": self.help_text or "",
            "validations": self.validations,
        }


@dataclass
class ValueContext:
    """What validators need from the store, injected so this module stays pure."""

    skip_invalid_files: bool = True
    reference_exists: Callable[[str, str], bool] = lambda _coll, _item: False
    register_asset: Callable[[str], tuple[str, str]] = lambda url: ("", url)
    lookup_asset: Callable[[str], str | None] = lambda _fid: None
    # loopback URLs are really fetched (files.py); host_file keeps the bytes as an asset
    fetch_file: Callable[[str], Fetched] = fetched
    host_file: Callable[[Fetched], tuple[str, str]] | None = None
    # file ids of sandbox asset URLs seen in this request (so a re-sent read URL is stable)
    notes: dict[str, Any] = field(default_factory=dict)


Validator = Callable[[FieldDef, Any, ValueContext], Any]


def _rules(f: FieldDef) -> dict[str, Any]:
    return f.validations or {}


def _text(f: FieldDef, v: Any, ctx: ValueContext) -> Any:
    if not isinstance(v, str):
        raise FieldError(f.slug, f"Expected a string, got {_jtype(v)}")
    rules = _rules(f)
    if rules.get("maxLength") is not None and len(v) > int(rules["maxLength"]):
        raise FieldError(f.slug, f"Must be at most {rules['maxLength']} characters")
    if rules.get("minLength") is not None and len(v) < int(rules["minLength"]):
        raise FieldError(f.slug, f"Must be at least {rules['minLength']} characters")
    if f.slug == "slug" and not SLUG_RE.match(v):
        raise FieldError(
            "slug", f"Invalid slug '{v}': use lowercase letters, digits and single hyphens"
        )
    return v


def _number(f: FieldDef, v: Any, ctx: ValueContext) -> Any:
    # bool is an int subclass in Python but never a JSON number
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise FieldError(f.slug, f"Expected a number, got {_jtype(v)}")
    rules = _rules(f)
    if rules.get("format") == "integer" and isinstance(v, float):
        if not v.is_integer():
            raise FieldError(f.slug, f"Expected an integer, got {v}")
        v = int(v)
    if rules.get("allowNegative") is False and v < 0:
        raise FieldError(f.slug, f"Negative numbers are not allowed: {v}")
    if rules.get("allowZero") is False and v == 0:
        raise FieldError(f.slug, "Zero is not allowed")
    if rules.get("minValue") is not None and v < rules["minValue"]:
        raise FieldError(f.slug, f"Must be at least {rules['minValue']}")
    if rules.get("maxValue") is not None and v > rules["maxValue"]:
        raise FieldError(f.slug, f"Must be at most {rules['maxValue']}")
    return v


def _switch(f: FieldDef, v: Any, ctx: ValueContext) -> Any:
    if not isinstance(v, bool):
        raise FieldError(f.slug, f"Expected a boolean, got {_jtype(v)}")
    return v


def parse_datetime(v: str) -> str:
    """ISO 8601 (or a bare date, read as midnight UTC) -> ``YYYY-MM-DDTHH:MM:SS.mmmZ``."""
    text = v.strip()
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    dt = datetime.fromisoformat(text)  # raises ValueError
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return format_datetime(dt)


def format_datetime(dt: datetime) -> str:
    dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _datetime(f: FieldDef, v: Any, ctx: ValueContext) -> Any:
    if not isinstance(v, str):
        raise FieldError(f.slug, f"Expected an ISO 8601 date string, got {_jtype(v)}")
    try:
        return parse_datetime(v)
    except ValueError:
        raise FieldError(f.slug, f"Invalid date: '{v}'") from None


_CSS_COLORS = frozenset(
    """aliceblue antiquewhite aqua aquamarine azure beige bisque black blanchedalmond blue
    blueviolet brown burlywood cadetblue chartreuse chocolate coral cornflowerblue cornsilk crimson
    cyan darkblue darkcyan darkgoldenrod darkgray darkgreen darkgrey darkkhaki darkmagenta
    darkolivegreen darkorange darkorchid darkred darksalmon darkseagreen darkslateblue darkslategray
    darkslategrey darkturquoise darkviolet deeppink deepskyblue dimgray dimgrey dodgerblue firebrick
    floralwhite forestgreen fuchsia gainsboro ghostwhite gold goldenrod gray green greenyellow grey
    honeydew hotpink indianred indigo ivory khaki lavender lavenderblush lawngreen lemonchiffon
    lightblue lightcoral lightcyan lightgoldenrodyellow lightgray lightgreen lightgrey lightpink
    lightsalmon lightseagreen lightskyblue lightslategray lightslategrey lightsteelblue lightyellow
    lime limegreen linen magenta maroon mediumaquamarine mediumblue mediumorchid mediumpurple
    mediumseagreen mediumslateblue mediumspringgreen mediumturquoise mediumvioletred midnightblue
    mintcream mistyrose moccasin navajowhite navy oldlace olive olivedrab orange orangered orchid
    palegoldenrod palegreen paleturquoise palevioletred papayawhip peachpuff peru pink plum
    powderblue purple rebeccapurple red rosybrown royalblue saddlebrown salmon sandybrown seagreen
    seashell sienna silver skyblue slateblue slategray slategrey snow springgreen steelblue tan teal
    thistle tomato turquoise violet wheat white whitesmoke yellow yellowgreen transparent""".split()  # noqa: SIM905
)
# CSS Color 4 syntax for the functions Webflow lists ("accepted formats include" rgb(), rgba(),
# hsl(), hsla()): signed numbers, exponents, % and angle units; commas, spaces or a slash.
_CSS_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?(?:%|deg|rad|grad|turn)?"
_CSS_SEP = r"\s*[,/]\s*|\s+"
_COLOR_RES = (
    re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})"),
    re.compile(rf"(?:rgba?|hsla?)\(\s*{_CSS_NUM}(?:(?:{_CSS_SEP}){_CSS_NUM}){{2,3}}\s*\)", re.I),
)


def _color(f: FieldDef, v: Any, ctx: ValueContext) -> Any:
    if not isinstance(v, str):
        raise FieldError(f.slug, f"Expected a color string, got {_jtype(v)}")
    if v.lower() in _CSS_COLORS or any(r.fullmatch(v) for r in _COLOR_RES):
        return v
    raise FieldError(f.slug, f"Invalid color: '{v}'")


# Webflow documents "an email address" and no syntax: only the shape every address has.
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
# "a URL string for videos hosted on platforms like YouTube or Vimeo": an http(s) URL with an
# authority; the host is not checked (Webflow names platforms as examples, not a list).
_VIDEO_RE = re.compile(r"https?://[^\s/?#]+(?:[/?#]\S*)?", re.I)


def _email(f: FieldDef, v: Any, ctx: ValueContext) -> Any:
    v = _text(f, v, ctx)
    if not _EMAIL_RE.fullmatch(v):
        raise FieldError(f.slug, f"Invalid email address: {v!r}")
    return v


def _is_http_url(v: str) -> bool:
    try:
        parts = urlsplit(v)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _video_link(f: FieldDef, v: Any, ctx: ValueContext) -> Any:
    v = _text(f, v, ctx)
    if not _VIDEO_RE.fullmatch(v):
        raise FieldError(f.slug, f"Invalid video URL: {v!r}")
    return v


def _option(f: FieldDef, v: Any, ctx: ValueContext) -> Any:
    ids = {o.get("id") for o in _rules(f).get("options", [])}
    if not isinstance(v, str) or v not in ids:
        raise FieldError(f.slug, f"Invalid option id: {v!r}")
    return v


def _reference(f: FieldDef, v: Any, ctx: ValueContext) -> Any:
    target = str(_rules(f).get("collectionId", ""))
    if not isinstance(v, str) or not ctx.reference_exists(target, v):
        raise FieldError(f.slug, f"Referenced item not found: {v!r}")
    return v


def _multi_reference(f: FieldDef, v: Any, ctx: ValueContext) -> Any:
    if not isinstance(v, list):
        raise FieldError(f.slug, f"Expected an array of item ids, got {_jtype(v)}")
    return [_reference(f, x, ctx) for x in v]


def _file_object(f: FieldDef, v: Any, ctx: ValueContext) -> Any:
    if not isinstance(v, dict):
        raise FieldError(f.slug, f"Expected a file object {{url, alt}}, got {_jtype(v)}")
    alt = v.get("alt")
    if alt is not None and not isinstance(alt, str):
        raise FieldError(f.slug, "alt must be a string")
    url = v.get("url")
    fid = v.get("fileId")
    # A fileId of a known asset wins; so does a sandbox asset URL read back earlier.
    if isinstance(fid, str) and (rel := ctx.lookup_asset(fid)):
        return {"fileId": fid, "url": rel, "alt": alt}
    if isinstance(url, str):
        path = urlsplit(url).path if _is_http_url(url) else ""
        m = re.match(r"^/assets/([0-9a-f]{24})/", path)
        if m and (rel := ctx.lookup_asset(m.group(1))):
            return {"fileId": m.group(1), "url": rel, "alt": alt}
        host = (urlsplit(url).hostname or "") if _is_http_url(url) else ""
        if host and is_loopback_url(url):
            return _fetched_file(f, url, alt, ctx)
        if host and not host.endswith(".invalid"):
            fid, rel = ctx.register_asset(url)
            return {"fileId": fid, "url": rel, "alt": alt}
        if ctx.skip_invalid_files:
            return DROP
        raise FieldError(f.slug, f"Invalid file: could not fetch {url!r}")
    if fid is not None:
        raise FieldError(f.slug, f"File not found: {fid!r}")
    raise FieldError(f.slug, "A file needs a url or a fileId")


def _fetched_file(f: FieldDef, url: str, alt: str | None, ctx: ValueContext) -> Any:
    got = checked(ctx.fetch_file(url), f.type)
    if got.problem:
        if ctx.skip_invalid_files:
            return DROP
        raise FieldError(f.slug, f"Invalid file {url!r}: {got.problem}")
    fid, rel = ctx.host_file(got) if ctx.host_file else ctx.register_asset(url)
    return {"fileId": fid, "url": rel, "alt": alt}


def _multi_image(f: FieldDef, v: Any, ctx: ValueContext) -> Any:
    if not isinstance(v, list):
        raise FieldError(f.slug, f"Expected an array of images, got {_jtype(v)}")
    # Webflow takes bare URL strings as well as objects in a MultiImage (docs/sandbox.md)
    out = [_file_object(f, {"url": x} if isinstance(x, str) else x, ctx) for x in v]
    # skipped files drop out of the list; the rest keep their order
    return [x for x in out if x is not DROP]


def _read_only(f: FieldDef, v: Any, ctx: ValueContext) -> Any:
    raise FieldError(f.slug, f"Field is not editable: {f.type} fields cannot be written")


VALIDATORS: dict[str, Validator] = {
    "PlainText": _text,
    "RichText": lambda f, v, ctx: stored_rich_text(_text(f, v, ctx)),
    "Number": _number,
    "Switch": _switch,
    "DateTime": _datetime,
    "Color": _color,
    "Email": _email,
    # Webflow documents Phone and Link values as strings, nothing more (docs/field-rules.md).
    "Phone": _text,
    "Link": _text,
    "VideoLink": _video_link,
    "Option": _option,
    "Reference": _reference,
    "MultiReference": _multi_reference,
    "Image": _file_object,
    "File": _file_object,
    "MultiImage": _multi_image,
    "ExtFileRef": _read_only,
    "User": _read_only,
}


def validate_value(f: FieldDef, value: Any, ctx: ValueContext) -> Any:
    """The stored form of ``value`` for field ``f``; ``None`` clears, ``DROP`` skips."""
    if not f.editable or f.type in ("User", "ExtFileRef"):
        return _read_only(f, value, ctx)
    if value is None or (value == "" and f.required):
        if f.required:
            raise FieldError(f.slug, "Field is required")
        return None
    return VALIDATORS[f.type](f, value, ctx)


def _jtype(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int | float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"
