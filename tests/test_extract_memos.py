"""The worker's memos and shortcuts give exactly the answers of the plain computations.

Extraction with a site model keeps, across pages, what does not change from one page to
the next (a model's fingerprint, the junk test of a class list, the resolution of a
site-wide href), and skips the second body search when the furniture removal left the
nodes that placed the body alone. Each is checked here against the computation it
replaces, so a memo or a shortcut that drifts fails.
"""

from __future__ import annotations

import dataclasses
import pickle
import random
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser, LexborNode

import migrator.extract as extract
from migrator.config import ExtractConfig
from migrator.extract import furniture, links, markers, region, version_tag, versioning
from migrator.extract.site import learn_site
from migrator.models import RawPage, SiteModel
from migrator.urls import absolute_url

DEMO = Path(__file__).resolve().parents[1] / "src" / "migrator" / "demo_site"


def _demo_pages() -> list[RawPage]:
    from datetime import UTC, datetime

    pages = []
    for path in sorted(DEMO.rglob("index.html")):
        url = "http://127.0.0.1:8000/" + path.parent.relative_to(DEMO).as_posix() + "/"
        pages.append(
            RawPage(
                url=url.replace("/./", "/"),
                requested_url=url,
                status=200,
                headers=(("content-type", "text/html; charset=utf-8"),),
                body=path.read_bytes(),
                fetched_at=datetime(2030, 1, 1, tzinfo=UTC),
            )
        )
    return pages


@pytest.fixture(scope="module")
def demo() -> tuple[list[RawPage], SiteModel]:
    pages = _demo_pages()
    model = learn_site([(p.url, p.body.decode("utf-8")) for p in pages])
    assert model is not None
    return pages, model


# ---------------------------------------------------------------- the model's fingerprint


def test_version_tag_names_the_fingerprint_of_equal_and_changed_models(demo):
    """A fresh copy (as a worker receives it with each page) and a changed model each get
    their own fingerprint, and the memo stays bounded."""
    _, model = demo
    copy = pickle.loads(pickle.dumps(model))
    assert copy is not model
    assert version_tag(copy, "sig") == f"{extract.EXTRACTOR_VERSION}+sig:{model.fingerprint}"
    changed = dataclasses.replace(model, date_order="DMY" if model.date_order != "DMY" else "MDY")
    assert changed.fingerprint != model.fingerprint
    assert version_tag(changed) == f"{extract.EXTRACTOR_VERSION}+-:{changed.fingerprint}"
    assert version_tag(model) == f"{extract.EXTRACTOR_VERSION}+-:{model.fingerprint}"
    for number in range(versioning._MAX_FINGERPRINTS + 5):
        other = dataclasses.replace(model, site_names=frozenset({f"site {number}"}))
        assert version_tag(other).endswith(":" + other.fingerprint)
    assert len(versioning._FINGERPRINTS) <= versioning._MAX_FINGERPRINTS


# ---------------------------------------------------------------- junk markers


def _reference_junk_marker(node: LexborNode) -> bool:
    """``junk_marker`` as it was before its memo: every token matched on every call."""
    attrs = node.attributes
    tokens = (attrs.get("class") or "").split()
    node_id = attrs.get("id")
    if node_id and node.tag not in markers.HEADING_TAGS:
        tokens.append(node_id)
    return any(
        markers.BODY_JUNK_WORDS.search(token)
        for token in tokens
        if not markers._TAXONOMY_TOKEN.match(token)
    )


_WORDS = ["", "post", "share-box", "category-social", "entry-content", "widget", "sidebar"]


def _random_page(seed: int, depth: int = 8) -> str:
    rng = random.Random(seed)
    tags = ["div", "section", "ul", "li", "p", "span", "aside", "nav", "footer", "h2", "main"]

    def node(level: int) -> str:
        if level >= depth or rng.random() < 0.2:
            return rng.choice(["Some words, and more words, for a paragraph of text.", "x"])
        tag = rng.choice(tags)
        attrs = f' class="{rng.choice(_WORDS)} {rng.choice(_WORDS)}"'
        if rng.random() < 0.3:
            attrs += f' id="{rng.choice(_WORDS) or "related-posts"}"'
        inner = "".join(node(level + 1) for _ in range(rng.randint(1, 3)))
        return f"<{tag}{attrs}>{inner}</{tag}>"

    return f"<html><body>{node(0)}{node(0)}</body></html>"


@settings(max_examples=60, deadline=None)  # no timing: the machine is shared
@given(seed=st.integers(0, 10_000))
def test_junk_marker_matches_the_plain_test(seed):
    """The memoized class-list test answers as the plain token match."""
    tree = LexborHTMLParser(_random_page(seed))
    assert tree.body is not None
    for node in tree.body.traverse(include_text=False):
        assert markers.junk_marker(node) == _reference_junk_marker(node)


# ---------------------------------------------------------------- the body's region


@pytest.mark.parametrize("selector", region.STRONG_SELECTORS)
def test_find_region_finds_each_well_known_container(selector):
    """The one walk over all the containers sees each of them (the group parses)."""
    tag = "div"
    attrs = ""
    if match := re.fullmatch(r"\[itemprop=\"(\w+)\"\]", selector):
        attrs = f'itemprop="{match.group(1)}"'
    elif selector.startswith("#"):
        attrs = f'id="{selector[1:]}"'
    elif selector.startswith("."):
        attrs = f'class="{selector[1:]}"'
    else:
        tag, _, name = selector.partition(".")
        attrs = f'class="{name}"'
    html = (
        f"<html><body><div><p>{'Menu words. ' * 30}</p></div>"
        f"<{tag} {attrs}><p>{'Article words, many of them. ' * 10}</p></{tag}></body></html>"
    )
    tree = LexborHTMLParser(html)
    found, _, strong = region.find_region(tree, ExtractConfig())
    assert strong
    assert found is not None
    assert found.css_matches(selector)


@settings(max_examples=60, deadline=None)  # no timing: the machine is shared
@given(seed=st.integers(0, 10_000), share=st.floats(0.0, 0.6))
def test_region_from_its_basis_survives_removals_elsewhere(seed, share):
    """Removing nodes that are neither inside a basis node nor one of them or their
    ancestors gives the same region on a second search."""
    rng = random.Random(seed)
    parts = [
        f'<div class="{rng.choice(["entry-content", "post-body", "box"])}">'
        f"<p>{'Words, words and words. ' * rng.randint(1, 6)}</p><p>Menu</p></div>"
        for _ in range(rng.randint(1, 4))
    ]
    html = f"<html><body><ul><li>Home</li><li>About</li></ul>{''.join(parts)}</body></html>"
    tree = LexborHTMLParser(html)
    basis: list[LexborNode] = []
    found, layer, strong = region.find_region(tree, ExtractConfig(), basis=basis)
    if not basis:
        return  # the density search: any removal means searching again
    related = {n.mem_id for b in basis for n in b.traverse(include_text=False)}
    for node in basis:
        current: LexborNode | None = node
        while current is not None:
            related.add(current.mem_id)
            current = current.parent
    assert tree.body is not None
    away = [n for n in tree.body.traverse(include_text=False) if n.mem_id not in related]
    chosen = [n for n in away if rng.random() < share]
    picked = {n.mem_id for n in chosen}
    outermost = []
    for node in chosen:  # each subtree once, all found before anything is freed
        up = node.parent
        while up is not None and up.mem_id not in picked:
            up = up.parent
        if up is None:
            outermost.append(node)
    for node in outermost:
        node.decompose()
    again, again_layer, again_strong = region.find_region(tree, ExtractConfig())
    assert found is not None
    assert again is not None
    assert (again.mem_id, again_layer, again_strong) == (found.mem_id, layer, strong)


def test_records_are_the_same_without_the_region_shortcut(demo, monkeypatch):
    """Every demo page extracts the same with the model whether the body is searched
    again after every furniture removal (the plain way) or only when needed."""
    pages, model = demo
    rules = ExtractConfig()
    calls: list[bool] = []
    original = furniture.remove_furniture

    def counted(*args, **kwargs):
        removed, touched = original(*args, **kwargs)
        calls.append(touched)
        return removed, touched

    monkeypatch.setattr(furniture, "remove_furniture", counted)
    shortcut = [extract.extract_page(raw, rules, model) for raw in pages]
    assert not all(calls), "the shortcut was never taken: the test means nothing"

    def plain(*args, **kwargs):
        removed, _ = original(*args, **kwargs)
        return removed, removed > 0

    monkeypatch.setattr(furniture, "remove_furniture", plain)
    assert [extract.extract_page(raw, rules, model) for raw in pages] == shortcut


# ---------------------------------------------------------------- site-wide hrefs


_BASES = [
    "http://blog.example/2019/08/post/",
    "http://blog.example/other/page.html?x=1",
    "https://blog.example/",
    "blog/relative/base/",
    "",
]
_HREFS = st.sampled_from(
    ["/a/", " /a/ ", "a/", "../b", "#x", "", " ", "//cdn.example/x", "http://x.example/y",
     "/a\\b", "?q=1", "http://", "mailto:x@y.example", "/", "https://blog.example/z#f"]
)  # fmt: skip


@settings(max_examples=200, deadline=None)  # no timing: the machine is shared
@given(order=st.lists(st.tuples(st.sampled_from(_BASES), _HREFS), max_size=12))
def test_site_wide_hrefs_resolve_as_absolute_url_on_every_page(order):
    """Pages of the same origin (and pages without one) share the site-wide answers;
    each answer is still ``absolute_url``'s for that page's base."""
    for base, href in order:
        assert links.PageHrefs(base).resolve(href) == absolute_url(href, base)


def test_site_wide_hrefs_stay_bounded(monkeypatch):
    monkeypatch.setattr(links, "_MAX_SITE_WIDE", 50)
    page = links.PageHrefs("http://blog.example/post/")
    for number in range(200):
        assert page.resolve(f"/p/{number}/") == f"http://blog.example/p/{number}/"
    assert 0 < len(links._SITE_WIDE) <= 50
