"""Image alt text on the way out: alt-text fields (``image@alt``) folded into their Image values.

The diff treats an Image's alt text as a field of its own (see ``models.ALT_SUFFIX``); Webflow
takes it inside the image value. Folding also keeps what the sheet does not mention: an Image
value sent without alt keeps the live variant's alt text (replacing a photo does not wipe its
description), and a MultiImage keeps each image's alt text where the sheet keeps the image.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from csvsync.models import alt_of

Live = Callable[[str], Any]  # an Image/MultiImage field's live value in this variant


def fold_alt(
    field_data: dict[str, Any],
    live: Live,
    images: Collection[str],
    sources: dict[str, str] | None = None,
) -> dict[str, Any]:
    """``field_data`` as Webflow takes it. ``images``: the Image and MultiImage field slugs;
    ``sources``: hosted file URL -> the URL it was copied from (to know an image again)."""
    out = {k: v for k, v in field_data.items() if alt_of(k) is None}
    for key, alt in field_data.items():
        image = alt_of(key)
        if image is None:
            continue
        value = out.get(image)
        if not isinstance(value, dict):  # only the alt text changed: the live image with it
            current = live(image)
            if not isinstance(current, dict):
                continue  # no image to describe
            value = current
        out[image] = {**value, "alt": alt}
    for slug in images:
        value = out.get(slug)
        if isinstance(value, dict) and "alt" not in value:
            current = live(slug)
            if isinstance(current, dict) and current.get("alt"):
                out[slug] = {**value, "alt": current["alt"]}
        elif isinstance(value, list) and value:
            out[slug] = _keep_alts(value, live(slug), sources or {})
    return out


def _keep_alts(new: list[Any], current: Any, sources: dict[str, str]) -> list[Any]:
    if not isinstance(current, list):
        return new
    alts: dict[str, Any] = {}
    for img in current:
        if isinstance(img, dict) and img.get("alt"):
            url = str(img.get("url") or "")
            alts[url] = img["alt"]
            alts[sources.get(url, url)] = img["alt"]
    out = []
    for img in new:
        if isinstance(img, dict) and "alt" not in img and img.get("url") in alts:
            img = {**img, "alt": alts[img["url"]]}
        out.append(img)
    return out
