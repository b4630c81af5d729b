"""The baseline migrator is compared with: a Scrapy spider that runs trafilatura on every page.

It is what a competent engineer would write instead of migrator: robots.txt obeyed, sitemap
from robots.txt plus link following inside the site, 16 concurrent requests and no delay, no
HTTP cache. Per page it runs ``trafilatura.extract(..., output_format="markdown")`` for the
body and uses generic selectors for the five structured fields (not tuned to the benchmark
site's markup beyond the usual WordPress/Bootstrap class names):

* title: the first ``<h1>``, else ``og:title``, else ``<title>``.
* published: JSON-LD ``datePublished``, ``article:published_time``, the first
  ``time[datetime]`` outside sidebars and comments, else the first date written in the
  page's first 3 kB of visible text.
* breadcrumbs: common breadcrumb containers (``nav[aria-label=breadcrumb]``, ``.breadcrumb``,
  ``#breadcrumbs``, ``[class*=breadcrumb]``) or a JSON-LD ``BreadcrumbList``.
* sections: the headings of trafilatura's Markdown with the text after each (Markdown
  inline syntax stripped).
* sidebar links: links inside ``aside`` / ``#sidebar`` / ``.sidebar`` widgets that carry a date
  (a related-posts list), or whose widget heading names a list of posts ("Recent Posts",
  "Popular Posts", "Related articles", …: WordPress's and Blogger's stock widgets, undated),
  grouped by the widget's heading; a link to the page itself is dropped.

URLs are canonicalised the way migrator stores them (``canonical``: fragment, tracking
parameters such as ``utm_*`` and ``index.html`` file names dropped, query sorted), so both
crawlers fetch the same pages: without it the spider fetched every ``…/index.html`` and
``?utm_source=feed`` duplicate a second time. Scrapy's own duplicate filter does the rest.

A page links to the same few hundred menu, widget and footer URLs as every other page, so
the spider keeps a set of the canonical URLs it has already requested and yields a request
only for a new one (``--follow-every-link``: the idiomatic ``yield response.follow`` of
every link, leaving duplicates to Scrapy's filter, which costs ~0.3 ms of fingerprinting
and middleware per link: ~1.8 times the CPU per page on the realistic benchmark site).

Writes one JSON object per page (JSON lines) to OUT.

    .venv/bin/python benchmarks/scrapy_spider.py BASE OUT.jsonl [--follow-every-link]
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import scrapy
import trafilatura
from dateutil import parser as dateparser
from scrapy.crawler import CrawlerProcess
from scrapy.spiders import SitemapSpider

SKIP_EXT = re.compile(r"\.(?:jpe?g|png|gif|webp|svg|css|js|xml|txt|pdf|zip|ico)$", re.I)
CRUMB_CONTAINERS = (
    "nav[aria-label*=readcrumb]",
    "[class*=breadcrumb]",
    "[id*=breadcrumb]",
)
SIDEBAR_CONTAINERS = ("aside", "#sidebar", ".sidebar", "#secondary")
DATE_TEXT = re.compile(
    r"\b(?:\d{4}-\d{2}-\d{2}|\d{1,2} [A-Z][a-z]+ \d{4}|[A-Z][a-z]{2,8}\.? \d{1,2}, \d{4})\b"
)
POST_LIST = re.compile(
    r"\b(?:recent|latest|popular|related|similar|more)\s+(?:posts|articles|entries|stories)\b"
    r"|you may also like|read next",
    re.I,
)
INDEX_FILE = re.compile(r"/(?:index|default)\.(?:html?|php|aspx?|jsp)$", re.I)
TRACKING = frozenset({"fbclid", "gclid", "ref", "replytocom", "sid", "sessionid", "_ga"})
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
MD_EMPH = re.compile(r"(\*\*|__|\*|_|`)(.+?)\1")
MD_BULLET = re.compile(r"^\s*(?:[-*+]|\d+\.)\s+")
MD_QUOTE = re.compile(r"^\s*>\s?")


def ws(text: str | None) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def canonical(url: str) -> str:
    """The URL as migrator would store it (the rules of ``migrator.urls.canonical_url``
    that matter on a blog): no fragment, no tracking parameters, no index file name."""
    parts = urlsplit(url)
    query = urlencode(
        sorted(
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if k.lower() not in TRACKING and not k.lower().startswith("utm_")
        )
    )
    path = INDEX_FILE.sub("/", parts.path or "/")
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, query, ""))


def iso_date(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return dateparser.parse(text.strip(), fuzzy=False).date().isoformat()
    except (ValueError, OverflowError):
        return None


def json_ld(response: scrapy.http.Response) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for blob in response.css('script[type="application/ld+json"]::text').getall():
        try:
            data = json.loads(blob)
        except ValueError:
            continue
        items = data if isinstance(data, list) else data.get("@graph", [data])
        found += [i for i in items if isinstance(i, dict)]
    return found


def find_title(response: scrapy.http.Response) -> str | None:
    h1 = ws(" ".join(response.css("h1 ::text").getall()[:20]))
    if h1:
        return h1
    og = response.css('meta[property="og:title"]::attr(content)').get()
    return ws(og or response.css("title::text").get()) or None


def find_published(response: scrapy.http.Response, ld: list[dict[str, Any]]) -> str | None:
    for value in (
        *(i.get("datePublished") for i in ld),
        response.css('meta[property="article:published_time"]::attr(content)').get(),
        response.xpath(
            "//time[@datetime][not(ancestor::aside)][not(ancestor::*[@id='sidebar'])]"
            "[not(ancestor::*[contains(@class,'sidebar')])][not(ancestor::*[@id='comments'])]"
            "/@datetime"
        ).get(),
    ):
        if value and (day := iso_date(value)):
            return day
    text = " ".join(response.css("body *:not(script):not(style)::text").getall())[:3000]
    match = DATE_TEXT.search(text)
    return iso_date(match.group(0)) if match else None


def find_breadcrumbs(
    response: scrapy.http.Response, ld: list[dict[str, Any]]
) -> list[dict[str, str | None]]:
    for css in CRUMB_CONTAINERS:
        for box in response.css(css):
            crumbs: list[dict[str, str | None]] = []
            for node in box.xpath(".//a | .//li[not(.//a)] | .//*[@aria-current]"):
                label = ws(" ".join(node.css("::text").getall()))
                href = node.attrib.get("href")
                if label and not any(c["label"] == label for c in crumbs):
                    crumbs.append({"label": label, "url": response.urljoin(href) if href else None})
            # an unlinked last crumb written as plain text after the last separator
            tail = ws(box.xpath("./text()[last()]").get() or "").strip("»›>/|· ")
            if tail and not any(c["label"] == tail for c in crumbs):
                crumbs.append({"label": tail, "url": None})
            if len(crumbs) >= 2:
                return crumbs
    for item in ld:
        if item.get("@type") == "BreadcrumbList":
            elements = sorted(item.get("itemListElement", []), key=lambda e: e.get("position", 0))
            crumbs = []
            for el in elements:
                target = el.get("item")
                url = target.get("@id") if isinstance(target, dict) else target
                crumbs.append(
                    {"label": ws(el.get("name")), "url": response.urljoin(url) if url else None}
                )
            return crumbs
    return []


def plain(md: str) -> str:
    md = MD_QUOTE.sub("", MD_BULLET.sub("", md))
    md = MD_LINK.sub(r"\1", md)
    for _ in range(2):
        md = MD_EMPH.sub(r"\2", md)
    return ws(md)


def find_sections(markdown: str) -> list[dict[str, Any]]:
    sections: list[dict[str, Any]] = []
    blocks: list[str] = []
    for para in re.split(r"\n\s*\n|\n(?=\s*(?:[-*+]|\d+\.)\s)|\n(?=#)", markdown):
        lines = para.strip().splitlines()
        if not lines:
            continue
        match = HEADING.match(lines[0])
        if match:
            if sections:
                sections[-1]["text"] = "\n\n".join(blocks)
            sections.append({"level": len(match.group(1)), "heading": plain(match.group(2))})
            blocks = []
            rest = plain(" ".join(lines[1:]))
            if rest:
                blocks.append(rest)
        elif text := plain(" ".join(lines)):
            blocks.append(text)
    if sections:
        sections[-1]["text"] = "\n\n".join(blocks)
    return [s for s in sections if s["level"] >= 2]


def find_sidebar_links(response: scrapy.http.Response) -> list[dict[str, str | None]]:
    links: list[dict[str, str | None]] = []
    seen: set[tuple[str | None, str]] = set()
    for css in SIDEBAR_CONTAINERS:
        for box in response.css(css):
            group = None
            for node in box.xpath(".//h2 | .//h3 | .//h4 | .//li"):
                if node.root.tag in {"h2", "h3", "h4"}:
                    group = ws(" ".join(node.css("::text").getall()))
                    continue
                anchor = node.css("a")
                if not anchor:
                    continue
                url = response.urljoin(anchor[0].attrib.get("href", ""))
                key = (group, url)  # nested containers (aside#secondary) match twice
                if key in seen or canonical(url) == canonical(response.url):
                    continue
                seen.add(key)
                stamp = node.css("time::attr(datetime)").get()
                if not stamp:
                    text = ws(" ".join(node.xpath("./text() | ./*[not(self::a)]//text()").getall()))
                    match = DATE_TEXT.search(text)
                    stamp = match.group(0) if match else None
                day = iso_date(stamp)
                if day is None and not POST_LIST.search(group or ""):
                    continue  # an undated list (categories, archives) is navigation
                links.append(
                    {
                        "group": group,
                        "label": ws(" ".join(anchor[0].css("::text").getall())),
                        "url": url,
                        "date": day,
                    }
                )
    return links


class BlogSpider(SitemapSpider):
    name = "blog"
    custom_settings = {  # noqa: RUF012 - Scrapy's convention
        "CONCURRENT_REQUESTS": 16,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
        "DOWNLOAD_DELAY": 0,
        "ROBOTSTXT_OBEY": True,
        "HTTPCACHE_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        "TELNETCONSOLE_ENABLED": False,
        "USER_AGENT": "bench-spider (+https://example.invalid/contact)",
    }

    def __init__(self, base: str, follow_every_link: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base = base.rstrip("/")
        self.follow_every_link = follow_every_link
        self.requested: set[str] = set()
        self.host = urlsplit(self.base).netloc
        self.sitemap_urls = [self.base + "/robots.txt"]

    async def start(self):  # type: ignore[no-untyped-def]
        yield scrapy.Request(self.base + "/", callback=self.parse)
        async for request in super().start():
            yield request

    def parse(self, response: scrapy.http.Response):  # type: ignore[no-untyped-def]
        if not isinstance(response, scrapy.http.HtmlResponse):
            return
        html = response.text
        markdown = (
            trafilatura.extract(
                html, url=response.url, output_format="markdown", include_comments=False
            )
            or ""
        )
        ld = json_ld(response)
        yield {
            "url": response.url,
            "title": find_title(response),
            "published": find_published(response, ld),
            "breadcrumbs": find_breadcrumbs(response, ld),
            "sections": find_sections(markdown),
            "sidebar_links": find_sidebar_links(response),
            "body_markdown": markdown,
        }
        for href in response.css("a::attr(href)").getall():
            url = canonical(response.urljoin(href))
            if url in self.requested:
                continue
            parts = urlsplit(url)
            if parts.netloc == self.host and not SKIP_EXT.search(parts.path):
                if not self.follow_every_link:
                    self.requested.add(url)
                yield scrapy.Request(url, callback=self.parse)


def main(argv: list[str]) -> int:
    args = [a for a in argv[1:] if a != "--follow-every-link"]
    base, out = args[0], args[1]
    process = CrawlerProcess(
        settings={"FEEDS": {out: {"format": "jsonlines", "encoding": "utf-8", "overwrite": True}}}
    )
    process.crawl(BlogSpider, base=base, follow_every_link="--follow-every-link" in argv)
    process.start()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
