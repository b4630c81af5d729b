"""The featured image (issue #10): the picture at a post's head, never the site's card,
a logo, an avatar or a widget's thumbnail; written into the exports' front matter."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import yaml

from migrator.config import ExtractConfig, Selectors
from migrator.export.hugo import _page_file
from migrator.export.links import Entry
from migrator.export.site import SiteContext
from migrator.extract import extract_page
from migrator.models import RawPage, SiteModel

URL = "https://blog.example/2021/05/a-walk/"


def _page(head: str, article: str, sidebar: str = "") -> RawPage:
    html = (
        f"<html><head><title>A walk – Blog</title>{head}</head><body>"
        f'<article class="post"><h1 class="entry-title">A walk</h1>'
        '<time class="entry-date published" datetime="2021-05-02">May 2, 2021</time>'
        f"{article}<p>{'We walked along the river for a long time. ' * 20}</p></article>"
        f'<aside class="widget-area">{sidebar}</aside></body></html>'
    )
    return RawPage(
        url=URL,
        requested_url=URL,
        status=200,
        headers=(("content-type", "text/html; charset=utf-8"),),
        body=html.encode(),
        fetched_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_theme_thumbnail_beats_the_avatar_and_the_widgets():
    raw = _page(
        "",
        '<img src="/avatar/ann.png" class="avatar" width="48" height="48" alt="">'
        '<img src="/logo.svg" alt="Blog">'
        '<figure class="post-thumbnail"><img src="/up/2021/05/river.jpg" '
        'class="attachment-post-thumbnail wp-post-image" alt="The river"></figure>',
        '<img src="/up/other-post.jpg" class="wp-post-image" alt="Another post">',
    )
    page = extract_page(raw, ExtractConfig())
    assert page.featured_image is not None
    assert (page.featured_image.src, page.featured_image.alt) == (
        "https://blog.example/up/2021/05/river.jpg",
        "The river",
    )
    assert dict(page.sources)["featured_image"] == "heuristic"


def test_jsonld_image_object_then_og_image():
    jsonld = {
        "@context": "https://schema.org",
        "@type": "BlogPosting",
        "headline": "A walk",
        "image": {"@type": "ImageObject", "url": "https://cdn.example/river-1200.jpg"},
    }
    raw = _page(
        f'<script type="application/ld+json">{json.dumps(jsonld)}</script>'
        '<meta property="og:image" content="https://cdn.example/og.jpg">',
        "",
    )
    page = extract_page(raw, ExtractConfig())
    assert page.featured_image is not None
    assert page.featured_image.src == "https://cdn.example/river-1200.jpg"
    only_og = _page('<meta property="og:image" content="https://cdn.example/og.jpg">', "")
    found = extract_page(only_og, ExtractConfig()).featured_image
    assert found is not None
    assert found.src == "https://cdn.example/og.jpg"


def test_the_sites_card_logos_tiny_and_inline_images_are_nobodys():
    card = '<meta property="og:image" content="https://blog.example/card.png">'
    model = SiteModel(pages_sampled=50, shared_images=frozenset({"blog.example/card.png"}))
    assert extract_page(_page(card, ""), ExtractConfig(), model).featured_image is None
    # Without the site's evidence one page cannot tell its card from its picture.
    assert extract_page(_page(card, ""), ExtractConfig()).featured_image is not None
    for img in (
        '<img class="wp-post-image" src="/site-logo.png">',
        '<img class="wp-post-image" src="/x.png" width="16" height="16">',
        '<img class="wp-post-image" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">',
        '<img class="wp-post-image" src="javascript:alert(1)">',
    ):
        assert extract_page(_page("", img), ExtractConfig()).featured_image is None, img


def test_config_selector_wins():
    raw = _page(
        '<meta property="og:image" content="https://cdn.example/og.jpg">',
        '<div class="hero"><img src="/hero.jpg" alt="Hero"></div>',
    )
    rules = ExtractConfig(selectors=Selectors(featured_image=".hero"))
    page = extract_page(raw, rules)
    assert page.featured_image is not None
    assert page.featured_image.src == "https://blog.example/hero.jpg"
    assert dict(page.sources)["featured_image"] == "config"


def test_learned_from_the_og_image_every_page_repeats():
    from migrator.extract.site import learn_site

    pages = [
        (
            f"https://blog.example/p/{n}/",
            f'<html><head><title>Post {n} – Blog</title><meta property="og:image" '
            f'content="https://blog.example/card.png?v=2"></head><body><h1>Post {n}</h1>'
            f"<p>{'Some words here. ' * (n + 5)}</p></body></html>",
        )
        for n in range(12)
    ]
    model = learn_site(pages)
    assert model is not None
    assert model.shared_images == frozenset({"blog.example/card.png"})


def test_front_matter_carries_the_featured_image_or_its_downloaded_copy():
    from migrator.export.links import SitePlan

    record = {
        "url": URL,
        "title": "A walk",
        "published": "2021-05-02",
        "featured_image": {"src": "https://blog.example/up/river.jpg", "alt": "The river"},
    }
    entry = Entry(
        record=record,
        kind="post",
        slug="a-walk",
        category=None,
        categories=(),
        new_path="/posts/a-walk/",
        old_urls=(URL,),
    )
    plan = SitePlan(entries=[entry])
    text = _page_file(SiteContext(plan=plan), entry, set())
    assert yaml.safe_load(text.split("---\n")[1])["images"] == ["https://blog.example/up/river.jpg"]
    copied = SiteContext(plan=plan, assets={"https://blog.example/up/river.jpg": "/media/ab.jpg"})
    text = _page_file(copied, entry, set())
    assert yaml.safe_load(text.split("---\n")[1])["images"] == ["/media/ab.jpg"]
