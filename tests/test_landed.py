"""Which images of a gallery Webflow kept when it skipped some (``pipeline/landed.py``)."""

from __future__ import annotations

import pytest

from csvsync.pipeline.landed import landed_files

SANDBOX = "http://127.0.0.1:8787/assets"
CDN = "https://cdn.prod.website-files.com/64f0c0ffee0000000000aaaa"


@pytest.mark.parametrize(
    ("sent", "hosted", "kept"),
    [
        # the sandbox's own paths, and a CDN's <fileId>_<name>
        (["h/photo.png", "h/missing.png", "h/second.png"],
         [f"{SANDBOX}/f1/photo.png", f"{SANDBOX}/f2/second.png"], ["h/photo.png", "h/second.png"]),
        (["h/a/photo%201.png", "h/b.png"], [f"{CDN}/65aa_photo%201.png"], ["h/a/photo%201.png"]),
        (["h/photo 1.png", "h/b.png"], [f"{SANDBOX}/f1/photo_1.png"], ["h/photo 1.png"]),
        # a name that merely ends like another is not that file
        (["h/1.jpg", "h/21.jpg"], [f"{CDN}/65aa_21.jpg"], ["h/21.jpg"]),
        # objects with alt texts, as the page sends them
        ([{"url": "h/x.png", "alt": "X"}, {"url": "h/y.png"}], [f"{SANDBOX}/f/y.png"],
         [{"url": "h/y.png"}]),
        # two sent files of one name: which one was kept is not known
        (["a.com/x/image.jpg", "b.com/y/image.jpg"], [f"{CDN}/65aa_image.jpg"], None),
        # a hosted file no sent name matches
        (["h/a.png", "h/b.png"], [f"{CDN}/65aa_c.png"], None),
        # order is kept: a copy cannot come from a file sent before the one matched last
        (["h/a.png", "h/b.png", "h/c.png"], [f"{SANDBOX}/1/b.png", f"{SANDBOX}/2/a.png"], None),
    ],
)  # fmt: skip
def test_kept_images_are_matched_by_file_name(
    sent: list[object], hosted: list[str], kept: list[object] | None
) -> None:
    assert landed_files(sent, hosted) == kept
