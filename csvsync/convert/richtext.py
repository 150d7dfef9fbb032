"""RichText in a canonical form, for comparison only: two HTML strings that show the same text.

Webflow does not keep a RichText value byte for byte. Its field docs say code blocks become
empty strings; HTML pasted from Word or Google Docs is sanitised when the Designer opens it; and
an HTML serializer may re-quote attributes or re-encode entities. So csvsync sends the sheet's
HTML as written but compares the canonical form of both sides, so that a run after a write sees
no change. The form is deliberately generous (it may call equal two values that differ in markup
but not in what a reader sees); it never drops text:

- comments, ``<style>``, ``<script>``, ``<meta>``, ``<link>``, ``<title>``, ``<xml>`` elements
  (with their content) and Office namespace tags (``<o:p>``) are dropped;
- ``style``, ``class``, ``id``, ``lang`` and ``dir`` attributes are dropped, ``<span>`` and
  ``<font>`` unwrapped, ``<b>`` read as ``<strong>`` and ``<i>`` as ``<em>``;
- the content of ``<pre>`` (a code block) is empty, as Webflow stores it;
- tags are lowercase, attributes double-quoted and escaped, void tags without a slash;
- text is entity-decoded and escaped again (``&``, ``<``, ``>``; ``&nbsp;`` is a space), runs of
  whitespace are one space, and whitespace between tags and at the ends is dropped.

The sandbox has an implementation of its own (``sandbox/richtext.py``): the two are compared by
a property test, never shared.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

_DROPPED = frozenset({"style", "script", "meta", "link", "title", "xml", "head"})
_UNWRAPPED = frozenset({"span", "font"})
_RENAMED = {"b": "strong", "i": "em"}
_VOID = frozenset({"br", "img", "hr", "wbr", "input", "source", "embed", "col", "area"})
_NOISE_ATTRS = frozenset({"style", "class", "id", "lang", "dir"})
# Already canonical: paragraphs of plain, single-spaced text (the common case, no parse).
_SIMPLE = re.compile(r"(?:<p>[^<>&\s](?:[^<>&\s]| (?! ))*</p>)+")
_SPACES = re.compile(r"\s+")
_BLOCKS = (
    "p|div|h[1-6]|ul|ol|li|blockquote|figure|figcaption|pre|table|thead|tbody|tfoot|tr|td|th"
    "|br|hr|section|article|header|footer|nav|aside|dl|dt|dd"
)
_AROUND_BLOCK = re.compile(rf" ?(</?(?:{_BLOCKS})\b[^>]*>) ?")


def canonical_html(value: str) -> str:
    """The canonical form of a RichText value (see the module docstring)."""
    if not value or _SIMPLE.fullmatch(value):
        return value
    if "<" not in value and "&" not in value:
        return _SPACES.sub(" ", value).strip()
    parser = _Canonical()
    parser.feed(value)
    parser.close()
    return parser.result()


class _Canonical(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0  # inside a dropped element
        # Inside a code block: what it would hold, dropped at its first ``</pre>`` (Webflow
        # empties it; blocks do not nest) and kept if it never closes.
        self.pre: list[str] | None = None

    def _emit(self, text: str) -> None:
        (self.out if self.pre is None else self.pre).append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skip or tag in _DROPPED:
            self.skip += tag in _DROPPED and tag not in _VOID
            return
        if ":" in tag or tag in _UNWRAPPED:
            return
        tag = _RENAMED.get(tag, tag)
        kept = [(k, v) for k, v in attrs if k not in _NOISE_ATTRS]
        text = "".join(
            f' {k}="{html.escape(v or "", quote=True)}"' if v is not None else f" {k}"
            for k, v in kept
        )
        if tag == "pre" and self.pre is None:
            self.out.append(f"<pre{text}>")
            self.pre = []
            return
        self._emit(f"<{tag}{text}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID and not (self.skip or ":" in tag or tag in _UNWRAPPED):
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.skip:
            if tag in _DROPPED:
                self.skip -= 1
            return
        if ":" in tag or tag in _UNWRAPPED or tag in _VOID:
            return
        tag = _RENAMED.get(tag, tag)
        if tag == "pre" and self.pre is not None:
            self.pre = None
            self.out.append("</pre>")
            return
        self._emit(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self._emit(html.escape(data.replace("\xa0", " "), quote=False))

    def result(self) -> str:
        if self.pre is not None:  # a code block never closed: Webflow keeps what follows
            self.out.extend(self.pre)
        text = _SPACES.sub(" ", "".join(self.out))
        # Whitespace next to a block tag shows nothing; next to an inline tag it is a space.
        return _AROUND_BLOCK.sub(r"\1", text).strip()
