"""HTML shapes editors paste into a RichText cell: Word, Google Docs, the Designer, hand-written.

Each is what a sheet cell holds; the tests check that a sync writes it once and a re-run finds
nothing to send, whatever the sandbox (like Webflow) made of it.
"""

from __future__ import annotations

CORPUS: dict[str, str] = {
    "designer": (
        "<h2>Materials</h2><p>Solid <strong>oak</strong> and <em>linen</em>.</p>"
        "<ul><li>Seat: 45 cm</li><li>Back: 80 cm</li></ul>"
        '<blockquote>Built to last.</blockquote><p><a href="https://example.com/care">Care</a></p>'
    ),
    "word": (
        "<!--[if gte mso 9]><xml><o:OfficeDocumentSettings></o:OfficeDocumentSettings></xml>"
        "<![endif]-->"
        '<p class="MsoNormal" style="margin-bottom:0cm;line-height:normal">'
        '<span lang="EN-GB" style="font-size:11.0pt;font-family:Calibri">A sturdy chair'
        "<o:p></o:p></span></p>\r\n"
        '<p class="MsoNormal"><b><span lang="EN-GB">Solid oak</span></b>'
        '<span lang="EN-GB">&nbsp;frame.<o:p></o:p></span></p>'
    ),
    "google-docs": (
        '<meta charset="utf-8"><b style="font-weight:normal;" id="docs-internal-guid-1a2b3c">'
        '<p dir="ltr" style="line-height:1.38;margin-top:0pt;margin-bottom:0pt;">'
        '<span style="font-size:11pt;font-family:Arial;color:#000000;">A sturdy chair</span></p>'
        '<br><p dir="ltr" style="line-height:1.38;"><span style="font-size:11pt;">'
        "Second line</span></p></b>"
    ),
    "code-block": "<p>Install it:</p><pre><code>pip install chair</code></pre><p>Done.</p>",
    "self-closing": "<p>Line one<br/>Line two<br />Line three</p>",
    "uppercase": "<P>Shouting <STRONG>tags</STRONG></P>",
    "entities": "<p>Tom &amp; Jerry &#39;quoted&#39; &quot;twice&quot; &lt;3</p>",
    "comment": "<p>Visible</p><!-- an editor's note -->",
    "whitespace": "\n  <p>  Spaced   out  </p>\n\n  <p>text</p>  ",
    "nested-lists": "<ol><li>One<ul><li>One a</li></ul></li><li>Two</li></ol>",
    "image": '<figure><img src="https://images.example.com/a.jpg" alt="A chair"/></figure>',
}
