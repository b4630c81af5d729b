"""The per-page shortcuts of extraction give exactly the answers of the plain walks.

Each shortcut (a per-page href memo, memoized ancestor tests, skipping nodes inside
furniture already found) is checked against a straightforward reference on generated
trees and hrefs, so a shortcut that drifts from its reference fails here.
"""

from __future__ import annotations

import random

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser, LexborNode

from migrator.config import ExtractConfig
from migrator.extract import blocks, dates, site
from migrator.extract.links import PageHrefs
from migrator.extract.links import absolute_url as cached_absolute_url
from migrator.extract.nodes import BoundedMemo, marked_within, memo_ancestors_within
from migrator.extract.sidebar import find_sidebar_links
from migrator.models import SiteModel
from migrator.urls import absolute_url

_HREF_PARTS = st.sampled_from(
    [
        "", "/", "//", "a", "b/", "..", ".", "#top", "?", "?q=1", "&", "index.html", "%7E",
        "%2f", "http:", "https://Other.Example", ":8080", " ", "\\", "mailto:x@y", "é",
        "javascript:void(0)", "utm_source=x", "/p/", "?utm_medium=y&b=2&a=1",
    ]
)  # fmt: skip
_HREFS = st.lists(_HREF_PARTS, max_size=4).map("".join)
_BASES = st.sampled_from(
    [
        "http://blog.example/2019/08/post/",
        "https://Blog.Example:443/a/b.html?x=1",
        "http://blog.example/",
        "http://127.0.0.1:8000/blog/cat/slug/",
    ]
)


# No timing (deadline, slow generation): the machine is shared.
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base=_BASES, hrefs=st.lists(st.one_of(st.none(), _HREFS), max_size=6))
@example(base="http://blog.example/2019/08/post/", hrefs=["http://", "https://", "http:///x"])
def test_page_hrefs_resolve_like_absolute_url(base, hrefs):
    """Every href, first seen or repeated, resolves as ``migrator.urls.absolute_url``."""
    page = PageHrefs(base)
    for href in hrefs + hrefs:
        expected = absolute_url(href, base)
        assert page.resolve(href) == expected
        assert cached_absolute_url(href, base) == expected


def _random_page(seed: int, depth: int = 8) -> str:
    rng = random.Random(seed)
    tags = ["div", "section", "ul", "li", "p", "span", "aside", "nav", "footer", "pre"]
    classes = ["", "widget", "sidebar", "post", "entry", "comment-list", "nav-links", "meta"]

    def node(level: int) -> str:
        if level >= depth or rng.random() < 0.25:
            return rng.choice(["March 3, 2005", "text", "2019-08-01", "Next post"])
        tag = rng.choice(tags)
        cls = rng.choice(classes)
        inner = "".join(node(level + 1) for _ in range(rng.randint(1, 3)))
        return f'<{tag} class="{cls}">{inner}</{tag}>'

    return f"<html><body><main>{node(0)}{node(0)}</main></body></html>"


def _elements(root: LexborNode) -> list[LexborNode]:
    return [n for n in root.traverse(include_text=False) if n.tag not in {"-comment"}]


@settings(max_examples=60, deadline=None)  # no timing: the machine is shared
@given(seed=st.integers(0, 10_000), share=st.floats(0.0, 0.5))
def test_marked_within_matches_an_ancestor_walk(seed, share):
    """Marking nodes in document order, each answer is "this node or an ancestor is marked"."""
    tree = LexborHTMLParser(_random_page(seed))
    rng = random.Random(seed)
    known: dict[int, bool] = {}
    marked: set[int] = set()
    for node in _elements(tree.body):
        current: LexborNode | None = node
        expected = False
        while current is not None:
            if current.mem_id in marked:
                expected = True
                break
            current = current.parent
        assert marked_within(node, known) == expected
        if rng.random() < share:
            marked.add(node.mem_id)
            known[node.mem_id] = True


@settings(max_examples=60, deadline=None)  # no timing: the machine is shared
@given(seed=st.integers(0, 10_000))
def test_junk_below_matches_in_junk(seed):
    tree = LexborHTMLParser(_random_page(seed))
    scope = tree.css_first("main")
    assert scope is not None
    memo = dates._JunkBelow(scope)
    for node in scope.css("*"):
        assert memo(node) == dates._in_junk(node, scope), node.html


def test_junk_below_keeps_the_walk_bound():
    """Past 200 ancestors ``_in_junk`` stops looking: a junk block that far up is not seen."""
    deep = "<div>" * 250 + "<p>March 3, 2005</p>" + "</div>" * 250
    tree = LexborHTMLParser(f"<html><body><aside>{deep}</aside><div>{deep}</div></body></html>")
    scope = tree.body
    assert scope is not None
    memo = dates._JunkBelow(scope)
    nodes = scope.css("p, div")
    assert any(dates._in_junk(n, scope) for n in nodes)
    assert any(not dates._in_junk(n, scope) for n in nodes)
    for node in nodes:
        assert memo(node) == dates._in_junk(node, scope)


def _bounded_walk(node: LexborNode | None, stop: int, limit: int) -> bool:
    """The loop ``memo_ancestors_within`` replaces: at most ``limit`` nodes from ``node``
    up, ending (False) at the node ``stop``, True at a ``widget`` class."""
    steps = 0
    while node is not None and steps < limit:
        if node.mem_id == stop:
            return False
        if "widget" in (node.attributes.get("class") or ""):
            return True
        node = node.parent
        steps += 1
    return False


@settings(max_examples=60, deadline=None)  # no timing: the machine is shared
@given(seed=st.integers(0, 10_000), limit=st.integers(1, 12), nesting=st.integers(0, 30))
def test_bounded_memo_walk_answers_as_the_bounded_loop(seed, limit, nesting):
    """One memo for every node of a page, asked in any order, answers as a fresh bounded
    walk from each: a marked block ``limit`` or more steps up is not seen."""
    inner = _random_page(seed, depth=6).removeprefix("<html><body>").removesuffix("</body></html>")
    html = '<div class="widget">' + "<div>" * nesting + inner + "</div>" * nesting + "</div>"
    tree = LexborHTMLParser(f"<html><body>{html}</body></html>")
    assert tree.body is not None
    stop = tree.body.mem_id
    known: BoundedMemo = {stop: (False, 0)}
    nodes = _elements(tree.body)
    random.Random(seed).shuffle(nodes)
    for node in nodes:
        expected = _bounded_walk(node.parent, stop, limit)
        got = memo_ancestors_within(
            node.parent, known, lambda n: "widget" in (n.attributes.get("class") or ""), limit
        )
        assert got == expected, node.html


def _reference_furniture(tree: LexborHTMLParser, model: SiteModel) -> list[int]:
    """The walk ``furniture_nodes`` shortcuts: every block, an ancestor test for each."""
    found: list[LexborNode] = []
    keys = blocks.BlockKeys()
    assert tree.body is not None
    for count, node in enumerate(tree.body.traverse(include_text=False), start=1):
        if count > blocks._MAX_NODES:
            break
        if node.tag in blocks.NEVER or not blocks._is_block(node):
            continue
        up = node.parent
        inside = False
        while up is not None:
            if any(up.mem_id == f.mem_id for f in found):
                inside = True
                break
            up = up.parent
        if inside:
            continue
        text = blocks.norm(node.text(deep=True, separator=" "))
        if text and len(text) <= blocks._MAX_TEXT and keys.key(node, text) in model.furniture:
            found.append(node)
    return [n.mem_id for n in found]


def test_furniture_nodes_match_the_reference_walk():
    pages = []
    for number in range(12):
        widgets = "".join(
            f'<li class="widget"><h3>Recent</h3><ul><li><a href="/p{k}/">Post {k}</a></li>'
            f"<li><p>Inner {k}</p></li></ul></li>"
            for k in range(3)
        )
        pages.append(
            (
                f"http://blog.example/{number}/",
                f"<html><body><header><h1>The blog</h1><p>Tagline</p></header>"
                f"<ul class='side'>{widgets}</ul><article><h2>Post {number}</h2>"
                f"<p>Own text {number} of the post, long enough to read.</p></article>"
                f"<footer><p>Footer text</p><p>© blog</p></footer></body></html>",
            )
        )
    model = site.learn_site(pages)
    assert model is not None
    assert model.furniture
    for _, html in pages:
        tree = LexborHTMLParser(html)
        got = [n.mem_id for n in blocks.furniture_nodes(tree, model)]
        assert got == _reference_furniture(tree, model)
        assert got  # the test means something: furniture was found


def test_sidebar_reads_a_container_matched_twice_or_nested_once():
    """``aside.sidebar`` is listed once per selector it matches and holds a
    ``.recent-posts`` list: its links come out once, in order, with their group."""
    html = """<html><body><nav class="menu"><ul class="menu-list">
      <li class="menu-item"><a href="/about/">About</a></li></ul></nav>
      <article><h1>Post</h1><p>Text.</p></article>
      <aside class="sidebar" id="sidebar-1"><div class="widget recent-posts">
        <h3>Recent posts</h3><ul>
        <li><a href="/2020/01/one/">The first post</a></li>
        <li><a href="/2020/02/two/">The second post</a></li></ul></div>
        <div class="widget"><h3>You may also like</h3><ul>
        <li><a href="/2019/05/three/">A third one</a></li></ul></div></aside>
    </body></html>"""
    url = "http://blog.example/2021/03/post/"
    links, layer = find_sidebar_links(LexborHTMLParser(html), ExtractConfig(), url, url)
    assert layer == "heuristic"
    assert [(link.group, link.url) for link in links] == [
        ("Recent posts", "http://blog.example/2020/01/one/"),
        ("Recent posts", "http://blog.example/2020/02/two/"),
        ("You may also like", "http://blog.example/2019/05/three/"),
    ]
