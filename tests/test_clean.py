"""sanitize_html and html_to_markdown."""

from __future__ import annotations

from migrator.clean import html_to_markdown, sanitize_html

BASE = "https://blog.example.com/2020/01/post/"


def test_sanitize_html_removes_active_content():
    html = (
        '<div onclick="x()"><script>alert(1)</script><style>p{}</style>'
        '<iframe src="https://evil.example/">fallback</iframe><p style="color:red">Hi</p>'
        '<a href="javascript:alert(1)">bad</a><form><input name=q>search</form></div>'
    )
    clean = sanitize_html(html, BASE)
    for banned in (
        "script",
        "alert",
        "style",
        "iframe",
        "fallback",
        "onclick",
        "javascript",
        "search",
    ):
        assert banned not in clean
    assert "<p>Hi</p>" in clean


def test_sanitize_html_makes_links_and_images_absolute():
    clean = sanitize_html('<p><a href="../other/">o</a><img src="/i.png" alt="A"></p>', BASE)
    assert '<a href="https://blog.example.com/2020/01/other/">o</a>' in clean
    assert '<img src="https://blog.example.com/i.png" alt="A">' in clean


def test_sanitize_html_keeps_in_page_anchors_and_mailto():
    clean = sanitize_html('<a href="#note-1">1</a> <a href="mailto:a@b.c">mail</a>', BASE)
    assert 'href="#note-1"' in clean
    assert 'href="mailto:a@b.c"' in clean


def test_sanitize_html_empty():
    assert sanitize_html("   ", BASE) == ""


def test_html_to_markdown_headings_lists_links():
    html = sanitize_html(
        '<h2>Title</h2><p>Text with <a href="/x">a link</a>.</p><ul><li>one</li><li>two</li></ul>',
        BASE,
    )
    assert html_to_markdown(html) == (
        "## Title\n\nText with [a link](https://blog.example.com/x).\n\n- one\n- two"
    )


def test_html_to_markdown_empty():
    assert html_to_markdown("") == ""
