"""Tests for benchmarks/sitegen.py and the committed demo blog it generates."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

import pytest

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "src" / "migrator" / "demo_site"
EXPECTED = ROOT / "tests" / "fixtures" / "site_expected"
SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
BODY_CLASSES = {"entry", "entry-content", "post-content"}


def _load_sitegen() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sitegen", ROOT / "benchmarks" / "sitegen.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["sitegen"] = module  # dataclasses look their module up while being created
    spec.loader.exec_module(module)
    return module


sitegen = _load_sitegen()


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _manifest() -> dict:
    return json.loads((EXPECTED / "manifest.json").read_text(encoding="utf-8"))


def _expected(name: str) -> dict:
    return json.loads((EXPECTED / name).read_text(encoding="utf-8"))


def _page(path: str) -> str:
    return (SITE / path.strip("/") / "index.html").read_text(encoding="utf-8")


def _posts() -> list[dict]:
    return [p for p in _manifest()["pages"] if p["type"] == "post"]


class _Collector(HTMLParser):
    """Collects links, h1 text and the article body's sections following the documented rule."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.h1: list[str] = []
        self.sections: list[dict] = []
        self.body_text: list[str] = []
        self._stack: list[tuple[str, bool]] = []  # (tag, opens the body container)
        self._in_body = 0
        self._in_h1 = False
        self._heading: tuple[int, list[str]] | None = None
        self._block: list[str] | None = None
        self._blocks: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        for name in ("href", "src"):
            if attr.get(name):
                self.links.append(attr[name] or "")
        if tag in {"img", "br", "input", "meta", "link", "hr"}:
            return
        classes = set((attr.get("class") or "").split())
        opens = tag == "div" and bool(classes & BODY_CLASSES) and not self._in_body
        self._stack.append((tag, opens))
        if opens:
            self._in_body = len(self._stack)
        if tag == "h1":
            self._in_h1 = True
        if not self._in_body:
            return
        if re.fullmatch(r"h[2-4]", tag):
            self._close_section()
            self._heading = (int(tag[1]), [])
        elif tag in {"p", "li"}:
            self._block = []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in {"img", "br", "input", "meta", "link", "hr"}:
            return
        if tag == "h1":
            self._in_h1 = False
        if self._in_body and tag in {"p", "li"} and self._block is not None:
            text = " ".join("".join(self._block).split())
            if text:
                self._blocks.append(text)
            self._block = None
        while self._stack:
            open_tag, opens = self._stack.pop()
            if opens:
                self._close_section()
                self._in_body = 0
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._in_h1:
            self.h1.append(data)
        if not self._in_body:
            return
        self.body_text.append(data)
        if self._block is not None:
            self._block.append(data)
        elif (
            self._heading is not None
            and self._stack
            and self._stack[-1][0] == (f"h{self._heading[0]}")
        ):
            self._heading[1].append(data)

    def _close_section(self) -> None:
        if self._heading is not None:
            level, parts = self._heading
            self.sections.append(
                {
                    "level": level,
                    "heading": "".join(parts).strip(),
                    "text": "\n\n".join(self._blocks),
                }
            )
        self._heading = None
        self._blocks = []


def _parse(html_text: str) -> _Collector:
    collector = _Collector()
    collector.feed(html_text)
    collector.close()
    return collector


def _target(root: Path, link: str) -> Path | None:
    """The file a root-relative link resolves to, or None for external links."""
    parts = urlsplit(link)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    path = parts.path
    if path.endswith("/"):
        return root / path.strip("/") / "index.html"
    return root / path.lstrip("/")


def test_sitegen_committed_demo_matches_generator(tmp_path):
    """The committed fixture is exactly the generator's output for 48 posts, seed 0."""
    sitegen.generate_site(tmp_path / "site", 48, 0, expected_dir=tmp_path / "expected")
    assert _files(tmp_path / "site") == _files(SITE)
    assert _files(tmp_path / "expected") == _files(EXPECTED)


def test_sitegen_is_deterministic_per_seed(tmp_path):
    for name in ("a", "b"):
        sitegen.generate_site(tmp_path / name, 20, 7, expected_dir=tmp_path / f"{name}-exp")
    sitegen.generate_site(tmp_path / "c", 20, 8)
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    assert _files(tmp_path / "a-exp") == _files(tmp_path / "b-exp")
    assert _files(tmp_path / "a") != _files(tmp_path / "c")


def test_sitegen_demo_counts():
    manifest = _manifest()
    posts = _posts()
    assert manifest["posts"] == 48
    assert len(posts) == 48
    post_files = [p for p in SITE.glob("blog/*/*/index.html") if p.parts[-3] != "page"]
    assert len(post_files) == 48
    categories = manifest["categories"]
    assert len(categories) >= 4
    listings = {p["path"] for p in manifest["pages"] if p["type"] == "listing"}
    for slug in categories:
        count = sum(1 for p in posts if p["path"].startswith(f"/blog/{slug}/"))
        pages = -(-count // sitegen.CATEGORY_PER_PAGE)
        assert count >= 5
        assert f"/blog/{slug}/" in listings
        assert {p for p in listings if p.startswith(f"/blog/{slug}/page/")} == {
            f"/blog/{slug}/page/{n}/" for n in range(2, pages + 1)
        }
    blog_pages = -(-48 // sitegen.BLOG_PER_PAGE)
    assert {p for p in listings if p.startswith("/blog/page/")} == {
        f"/blog/page/{n}/" for n in range(2, blog_pages + 1)
    }
    assert {p["path"] for p in manifest["pages"] if p["type"] == "page"} == {"/about/", "/contact/"}
    for entry in manifest["pages"]:
        assert (SITE / entry["path"].strip("/") / "index.html").is_file(), entry["path"]
        if entry["expected"]:
            assert (EXPECTED / entry["expected"]).is_file()


def test_sitegen_every_internal_link_resolves():
    checked = 0
    for page in SITE.rglob("*.html"):
        for link in _parse(page.read_text(encoding="utf-8")).links:
            target = _target(SITE, link)
            if target is None:
                assert link.startswith("https://"), f"{page}: non-root-relative link {link}"
                continue
            assert target.is_file(), f"{page}: broken link {link}"
            checked += 1
    assert checked > 1000


def test_sitegen_sitemap_lists_every_post_and_robots_points_to_it():
    base = _manifest()["base_url"]
    tree = ET.parse(SITE / "sitemap.xml")
    locs = [el.findtext(f"{SITEMAP_NS}loc") for el in tree.getroot()]
    lastmods = [el.findtext(f"{SITEMAP_NS}lastmod") for el in tree.getroot()]
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", m or "") for m in lastmods)
    assert {base + p["path"] for p in _posts()} <= set(locs)
    assert {f"{base}/", f"{base}/blog/", f"{base}/about/", f"{base}/contact/"} <= set(locs)
    assert f"{base}/private/secret/" not in locs
    robots = (SITE / "robots.txt").read_text(encoding="utf-8")
    assert f"Sitemap: {base}/sitemap.xml" in robots
    assert "Disallow: /private/" in robots
    assert (SITE / "private" / "secret" / "index.html").is_file()


def test_sitegen_splits_large_sitemaps(tmp_path):
    sitegen.generate_site(tmp_path, 35, 3, base_url="http://example.test", sitemap_limit=10)
    index = ET.parse(tmp_path / "sitemap.xml").getroot()
    assert index.tag == f"{SITEMAP_NS}sitemapindex"
    children = [el.findtext(f"{SITEMAP_NS}loc") for el in index]
    assert children == [f"http://example.test/sitemap-{n}.xml" for n in range(1, 6)]
    locs: list[str] = []
    for n in range(1, 6):
        urls = ET.parse(tmp_path / f"sitemap-{n}.xml").getroot()
        assert len(urls) <= 10
        locs.extend(el.findtext(f"{SITEMAP_NS}loc") or "" for el in urls)
    assert len(locs) == len(set(locs)) == 35 + 10
    assert sum("/blog/" in loc and loc.count("/") == 6 for loc in locs) == 35


@pytest.mark.parametrize(
    "entry", [p for p in _manifest()["pages"] if p["expected"]], ids=lambda p: p["path"]
)
def test_sitegen_expected_matches_html(entry):
    """Title, sections, body phrases and link targets in the ground truth agree with the HTML."""
    expected = _expected(entry["expected"])
    assert expected["url"] == entry["path"]
    assert expected["page_type"] == entry["type"]
    html_text = _page(entry["path"])
    parsed = _parse(html_text)
    assert "".join(parsed.h1).strip() == expected["title"]
    assert parsed.sections == expected["sections"]
    body = " ".join("".join(parsed.body_text).split())
    for phrase in expected["body_must_contain"]:
        assert phrase in body
    for phrase in expected["body_must_not_contain"]:
        assert phrase not in body
        if phrase != "Categories" or entry["type"] == "post":
            assert phrase in html_text.replace("&#8220;", "“")
    crumbs = expected["breadcrumbs"]
    assert crumbs[0] == {"label": "Home", "url": "/"}
    assert crumbs[-1] == {"label": expected["title"], "url": None}
    for crumb in crumbs[:-1]:
        assert (SITE / crumb["url"].strip("/") / "index.html").is_file()
    by_path = {p["path"]: p for p in _manifest()["pages"]}
    for link in expected["sidebar_links"]:
        assert link["group"] == "You may also like"
        target = by_path[link["url"]]
        assert target["type"] == "post"
        target_expected = _expected(target["expected"])
        assert link["label"] == target_expected["title"]
        assert link["date"] == target_expected["published"]
        assert f'href="{link["url"]}"' in html_text
    if entry["type"] == "page":
        assert expected["published"] is None
        assert expected["sidebar_links"] == []
    else:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", expected["published"])


def test_sitegen_demo_has_the_promised_variety():
    plan = sitegen.plan_posts(48, 0)
    assert {p.theme for p in plan} == {"2012", "2016", "2019"}
    assert sum(not p.sidebar for p in plan) >= 2
    assert sum(p.h4 for p in plan) >= 2
    assert {p.alt_date for p in plan if p.alt_date is not None} == {0, 1, 2}
    assert sum(p.jsonld_crumbs_only for p in plan) == 1
    assert sum(p.jsonld_posting for p in plan) >= 10
    assert sum(p.comments for p in plan) >= 5
    assert {p.link_variant for p in plan if p.link_variant is not None} == {0, 1, 2}
    special = [p for p in plan if p.title == sitegen.SPECIAL_TITLE]
    assert len(special) == 1
    assert special[0].slug == "cafe-culture-uber-stress-why-rest-isnt-lazy"
    crumbs_only = next(p for p in plan if p.jsonld_crumbs_only)
    html_text = _page(crumbs_only.path)
    assert 'aria-label="breadcrumb"' not in html_text
    assert '"@type": "BreadcrumbList"' in html_text
    all_html = "".join(p.read_text(encoding="utf-8") for p in SITE.rglob("*.html"))
    for variant in ('/index.html"', '/?utm_source=feed"', '/#comments"'):
        assert variant in all_html


def test_sitegen_images_are_valid_and_demo_is_small():
    images = list((SITE / "images").iterdir())
    assert len(images) >= 4
    for image in images:
        data = image.read_bytes()
        if image.suffix == ".jpg":
            assert data[:2] == b"\xff\xd8"
            assert data[-2:] == b"\xff\xd9"
        else:
            assert data[:8] == b"\x89PNG\r\n\x1a\n"
    size = sum(len(data) for data in _files(SITE).values())
    size += sum(len(data) for data in _files(EXPECTED).values())
    assert size < 2_000_000


def test_sitegen_cli_writes_site(tmp_path, capsys):
    out = tmp_path / "out"
    status = sitegen.main(
        ["--posts", "12", "--out", str(out), "--seed", "1", "--base-url", "http://127.0.0.1:9999/"]
    )
    assert status == 0
    assert "wrote 12 posts" in capsys.readouterr().out
    assert len(list(out.glob("blog/*/*/index.html"))) >= 12
    assert "Sitemap: http://127.0.0.1:9999/sitemap.xml" in (out / "robots.txt").read_text()
    with pytest.raises(SystemExit):
        sitegen.main(["--posts", "0", "--out", str(out)])


def test_sitegen_realistic_pages_are_blog_sized_with_the_same_ground_truth(tmp_path):
    """--realistic adds theme furniture (20-80 KB pages); the expected records change only by
    the furniture's undated "Recent Posts" widget, listed on every post with a sidebar."""
    sitegen.generate_site(tmp_path / "tiny", 24, 5, expected_dir=tmp_path / "tiny-exp")
    sitegen.generate_site(
        tmp_path / "real", 24, 5, expected_dir=tmp_path / "real-exp", realistic=True
    )
    tiny, real = _files(tmp_path / "tiny-exp"), _files(tmp_path / "real-exp")
    assert tiny.keys() == real.keys()
    newest = [p.path for p in reversed(sitegen.plan_posts(24, 5)[-5:])]
    with_recent = 0
    for name in tiny:
        if not name.endswith(".json") or name == "manifest.json":
            assert tiny[name] == real[name]
            continue
        want, got = json.loads(tiny[name]), json.loads(real[name])
        recent = [s for s in got["sidebar_links"] if s["group"] == "Recent Posts"]
        assert got["sidebar_links"] == want["sidebar_links"] + recent
        assert {k: v for k, v in got.items() if k != "sidebar_links"} == {
            k: v for k, v in want.items() if k != "sidebar_links"
        }
        if want["sidebar_links"]:  # a post with a sidebar: the five newest but itself
            assert [s["url"] for s in recent] == [p for p in newest if p != got["url"]]
            assert all(s["date"] is None for s in recent)
            html_text = (tmp_path / "real" / got["url"].strip("/") / "index.html").read_text()
            assert all(f'href="{s["url"]}"' in html_text for s in recent)
            with_recent += 1
        else:
            assert recent == []
    assert with_recent >= 12
    pages = sorted((tmp_path / "real").rglob("index.html"))
    sizes = sorted(p.stat().st_size for p in pages)
    assert 20_000 <= sizes[len(sizes) // 2] <= 80_000
    post = next(p for p in pages if "/blog/" in p.as_posix() and p.parent.parent.name != "blog")
    text = post.read_text(encoding="utf-8")
    assert "<symbol" in text or 'class="sidebox' in text or "widget_tags" in text
    assert text.count("<script") >= 3
