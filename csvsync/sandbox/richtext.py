"""What the sandbox stores of a RichText value: Webflow does not keep it byte for byte.

Documented (developers.webflow.com/data/reference/field-types-item-values, "Code blocks in
Rich Text fields"): "Passing any code blocks will result in an empty string between the opening
and closing tags", so the content of every ``<pre>`` element is emptied.

Inferred, marked so in docs/sandbox.md: Webflow stores the HTML through an HTML serializer (a
forum answer, discourse.webflow.com/t/324382: "you can submit pretty anything through the API,
and Webflow will accept it"; the Designer sanitises it when opened). The sandbox therefore does
what a serializer does and no more: tag names lowercase, ``<br/>`` as ``<br>``, comments
(Word's conditional ones among them) dropped. A separate implementation from csvsync's
comparison form (``convert/richtext.py``), on purpose: a property test compares the two.
"""

from __future__ import annotations

import re

_PRE = re.compile(r"(<pre\b[^>]*>).*?(</pre\s*>)", re.IGNORECASE | re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_SELF_CLOSING_BR = re.compile(r"<br\s*/\s*>", re.IGNORECASE)
_TAG_NAME = re.compile(r"(</?)([A-Za-z][A-Za-z0-9:-]*)")


def stored_rich_text(value: str) -> str:
    """The RichText value as the sandbox (like Webflow) stores and returns it."""
    if "<" not in value:
        return value
    value = _COMMENT.sub("", value)
    value = _PRE.sub(r"\1\2", value)
    value = _SELF_CLOSING_BR.sub("<br>", value)
    return _TAG_NAME.sub(lambda m: m.group(1) + m.group(2).lower(), value)
