"""Export: Hugo (built with a real hugo), Jekyll, JSONL, redirects (nginx -t), assets,
incremental re-export and front matter escaping."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
import yaml
from click.testing import CliRunner

from migrator.cli import cli
from migrator.config import Config
from migrator.errors import ExportError
from migrator.export import export
from migrator.export.assets import safe_asset_name
from migrator.export.files import safe_join
from migrator.export.frontmatter import front_matter
from migrator.load import Store
from migrator.models import Crumb, Image, Page, RawPage, SidebarLink

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = ROOT / "tests" / "fixtures" / "site_expected"
BASE = "http://127.0.0.1:8000"
SPECIAL = "Café & Über: “Quotes” \"double\" 'single' — Ünïcödé 日本語 #1"


def _needs(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is required in CI but is not on PATH")
        pytest.skip(f"{tool} is not installed")
    return path


def _pages_from_ground_truth() -> list[Page]:
    manifest = json.loads((EXPECTED / "manifest.json").read_text())
    pages = []
    for item in manifest["pages"]:
        if not item["expected"]:
            continue
        exp = json.loads((EXPECTED / item["expected"]).read_text())
        url = BASE + exp["url"]
        links = [BASE + s["url"] for s in exp["sidebar_links"]]
        body = "\n\n".join(
            f"{'#' * s['level']} {s['heading']}\n\n{s['text']}" for s in exp["sections"]
        )
        if links:
            body += f"\n\nSee [a related post]({links[0]}) and [comments]({url}#comments)."
        body += f"\n\n![A path]({BASE}/images/forest-path.jpg)"
        pages.append(
            Page(
                url=url,
                source_url=url,
                canonical_url=url,
                title=exp["title"],
                published=date.fromisoformat(exp["published"]) if exp["published"] else None,
                page_type=exp["page_type"],
                breadcrumbs=tuple(
                    Crumb(label=c["label"], url=BASE + c["url"] if c["url"] else None)
                    for c in exp["breadcrumbs"]
                ),
                sidebar_links=tuple(
                    SidebarLink(group=s["group"], label=s["label"], url=BASE + s["url"])
                    for s in exp["sidebar_links"]
                ),
                images=(Image(src=f"{BASE}/images/forest-path.jpg", alt="A path"),),
                body_markdown=body,
            )
        )
    return pages


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    """A migration database of the demo blog (records from its ground truth)."""
    path = tmp_path_factory.mktemp("db") / "demo.db"
    with Store.open(path) as store:
        for page in _pages_from_ground_truth():
            store.save_page(page)
        store.save_listing(BASE + "/blog/anxiety/page/2/", "listing")
    return path


def _export(db: Path, out: Path, fmt: str, **kwargs):
    with Store.open(db, lock=False) as store:
        return export(store, Config(), fmt=fmt, out=out, **kwargs)


def _posts(db: Path) -> list[tuple[str, str, str]]:
    with Store.open(db, lock=False) as store:
        return [
            (str(u), str(t), str(p))
            for u, t, p in store.query(
                "SELECT url, title, published_at FROM pages WHERE page_type = 'post'"
            )
        ]


def test_export_hugo_builds_with_real_hugo(demo_db, tmp_path):
    hugo = _needs("hugo")
    site = tmp_path / "site"
    report = _export(demo_db, site, "hugo")
    public = tmp_path / "public"
    run = subprocess.run(
        [hugo, "--source", str(site), "--destination", str(public), "--quiet"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    posts = _posts(demo_db)
    built = list((public / "posts").glob("*/*/index.html"))
    assert len(built) == len(posts) == 48
    published = next(p for p in posts if "a-beginners-guide-to-rest" in p[0])[2]
    page = (public / "posts/self-care/a-beginners-guide-to-rest/index.html").read_text()
    assert "A Beginner&rsquo;s Guide to Rest" in page or "A Beginner&#39;s Guide to Rest" in page
    assert published == "2012-11-14"
    assert '<time datetime="2012-11-14">' in page
    # internal links rewritten, own fragment kept
    assert 'href="/posts/self-care/a-beginners-guide-to-rest/#comments"' in page
    assert f'href="{BASE}' not in page.split("<article>")[1].split("</article>")[0]
    for old_url, _, _ in posts:
        old_path = old_url.removeprefix(BASE)
        alias = public / old_path.strip("/") / "index.html"
        assert alias.is_file(), old_path
        assert re.search(r'http-equiv="refresh" content="0; url=/posts/[^"]+/"', alias.read_text())
    # the category listing of the old site lands on the new section
    assert "/posts/anxiety/" in (public / "blog/anxiety/index.html").read_text()
    assert "/posts/anxiety/" in (public / "blog/anxiety/page/2/index.html").read_text()
    assert report.broken_links == ()


def test_export_hugo_front_matter_is_yaml_and_exact(demo_db, tmp_path):
    _export(demo_db, tmp_path, "hugo")
    files = list((tmp_path / "content").rglob("*.md"))
    titles = set()
    for file in files:
        head = file.read_text().split("---\n")[1]
        data = yaml.safe_load(head)
        titles.add(data["title"])
    assert {t for _, t, _ in _posts(demo_db)} <= titles


def test_export_jekyll_front_matter_parses_as_yaml(demo_db, tmp_path):
    report = _export(demo_db, tmp_path, "jekyll")
    posts = sorted((tmp_path / "_posts").glob("*.md"))
    assert len(posts) == 48
    by_title = {}
    for file in posts:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}-[a-z0-9-]+\.md", file.name)
        data = yaml.safe_load(file.read_text().split("---\n")[1])
        by_title[data["title"]] = (file.name, data)
    name, data = by_title["A Beginner's Guide to Rest"]
    assert name == "2012-11-14-a-beginners-guide-to-rest.md"
    assert data["permalink"] == "/posts/self-care/a-beginners-guide-to-rest/"
    assert data["redirect_from"] == ["/blog/self-care/a-beginners-guide-to-rest/"]
    assert data["categories"] == ["Self-Care"]
    assert report.pages == 50


def test_export_front_matter_round_trips_hard_titles():
    odd = [SPECIAL, "a: b", "- list?", "#hash", "null", "yes", "\x85\u2028\ufeff ctrl\x01", "é\\n"]
    text = front_matter(
        {"title": odd[0], "tags": odd, "related": [{"title": odd[1], "url": "/x/"}]}
    )
    data = yaml.safe_load(text.split("---\n")[1])
    assert data == {"title": SPECIAL, "tags": odd, "related": [{"title": "a: b", "url": "/x/"}]}


def test_export_jekyll_config_is_yaml_from_a_library(demo_db, tmp_path):
    """_config.yml is dumped by PyYAML: a site name that looks like YAML stays one value."""
    from migrator.export.frontmatter import yaml_document

    _export(demo_db, tmp_path, "jekyll")
    config = yaml.safe_load((tmp_path / "_config.yml").read_text())
    assert config["plugins"] == ["jekyll-redirect-from"]
    assert config["exclude"] == ["migrator-report.json"]
    assert isinstance(config["title"], str)
    assert config["title"]
    hostile = 'Blog"\nplugins: [evil]\n---\n#x: {{ y }}'
    text = yaml_document({"title": hostile, "plugins": ["jekyll-redirect-from"]})
    assert yaml.safe_load(text) == {"title": hostile, "plugins": ["jekyll-redirect-from"]}


def test_export_special_title_survives_hugo_and_jekyll(tmp_path):
    db = tmp_path / "m.db"
    url = BASE + "/blog/x/cafe/"
    page = Page(
        url=url,
        source_url=url,
        canonical_url=url,
        title=SPECIAL,
        page_type="post",
        published=date(2020, 1, 2),
        body_markdown="Body {{< not a shortcode >}} {% raw %}",
    )
    with Store.open(db) as store:
        store.save_page(page)
    _export(db, tmp_path / "h", "hugo")
    _export(db, tmp_path / "j", "jekyll")
    (md,) = (tmp_path / "h/content/posts").glob("[!_]*.md")
    assert yaml.safe_load(md.read_text().split("---\n")[1])["title"] == SPECIAL
    assert "{{<" not in md.read_text()
    (post,) = (tmp_path / "j/_posts").glob("*.md")
    assert yaml.safe_load(post.read_text().split("---\n")[1])["title"] == SPECIAL
    body = post.read_text().split("---\n", 2)[2]
    assert '{{ "{" }}% raw %}' in body  # Liquid prints "{% raw %}" back, runs nothing


def test_export_reports_links_to_unmigrated_pages(tmp_path):
    db = tmp_path / "m.db"
    a, b = BASE + "/a/", BASE + "/b/"
    body = f"[b]({b}) [gone]({BASE}/gone/) [ext](https://example.org/x)"
    with Store.open(db) as store:
        store.save_page(
            Page(
                url=a,
                source_url=a,
                canonical_url=a,
                title="A",
                page_type="post",
                body_markdown=body,
            )
        )
        store.save_page(Page(url=b, source_url=b, canonical_url=b, title="B", page_type="post"))
    report = _export(db, tmp_path / "out", "hugo")
    assert [(x.page, x.url) for x in report.broken_links] == [(a, BASE + "/gone/")]
    text = (tmp_path / "out/content/posts/a.md").read_text()
    assert "[b](/posts/b/)" in text
    assert f"[gone]({BASE}/gone/)" in text
    assert "(https://example.org/x)" in text
    saved = json.loads((tmp_path / "out/migrator-report.json").read_text())
    assert saved["broken_links"] == [{"page": a, "url": BASE + "/gone/"}]


def test_export_incremental_writes_only_changes_and_removes(tmp_path):
    db = tmp_path / "m.db"
    urls = [f"{BASE}/p{i}/" for i in range(3)]
    with Store.open(db) as store:
        for i, u in enumerate(urls):
            store.save_page(
                Page(
                    url=u,
                    source_url=u,
                    canonical_url=u,
                    title=f"P{i}",
                    page_type="post",
                    published=date(2020, 1, i + 1),
                )
            )
    out = tmp_path / "out"
    first = _export(db, out, "hugo")
    assert "content/posts/p1.md" in first.written
    again = _export(db, out, "hugo")
    assert again.written == ()
    assert again.removed == ()
    with Store.open(db) as store:
        u = urls[0]
        store.save_page(
            Page(
                url=u,
                source_url=u,
                canonical_url=u,
                title="P0 changed",
                page_type="post",
                published=date(2020, 1, 1),
            )
        )
        store.mark_removed(urls[2], at=first_seen_now())
    kept = _export(db, out, "hugo", keep_removed=True)
    assert kept.written == ("content/posts/p0.md",)
    assert kept.removed == ("content/posts/p2.md",)
    assert (out / "content/posts/p2.md").exists()
    gone = _export(db, out, "hugo")
    assert gone.removed == ("content/posts/p2.md",)
    assert not (out / "content/posts/p2.md").exists()
    assert (out / "content/posts/p1.md").exists()


def first_seen_now():
    from datetime import UTC, datetime

    return datetime.now(UTC)


def test_export_jsonl_one_record_per_page(demo_db, tmp_path):
    report = _export(demo_db, tmp_path, "jsonl")
    lines = (tmp_path / "pages.jsonl").read_text().splitlines()
    assert len(lines) == report.pages == 50
    records = [json.loads(line) for line in lines]
    assert {r["url"] for r in records} >= {BASE + "/about/"}
    assert all(r["url"].startswith(BASE) for r in records)
    assert _export(demo_db, tmp_path, "jsonl").written == ()


@pytest.fixture
def aliased_db(tmp_path) -> Path:
    db = tmp_path / "m.db"
    u = BASE + "/blog/news/hello/"
    with Store.open(db) as store:
        store.save_page(
            Page(
                url=u,
                source_url=u,
                canonical_url=u,
                title="Hello",
                page_type="post",
                published=date(2020, 1, 1),
                breadcrumbs=(
                    Crumb(label="Home", url=BASE + "/"),
                    Crumb(label="News", url=BASE + "/blog/news/"),
                    Crumb(label="Hello"),
                ),
            )
        )
        for old in (BASE + "/?p=12", BASE + "/2020/01/hello.html"):
            # A redirect the legacy site answered: the real fetch path records it.
            store.save_fetch(
                old,
                RawPage(
                    url=u,
                    requested_url=old,
                    status=200,
                    headers=(("content-type", "text/html"),),
                    body=b"<h1>Hello</h1>",
                    fetched_at=datetime(2024, 1, 1, tzinfo=UTC),
                    redirects=(old,),
                ),
            )
    return db


def test_export_redirects_csv_lists_every_old_url(aliased_db, tmp_path):
    report = _export(aliased_db, tmp_path, "redirects", redirect_format="csv")
    rows = (tmp_path / "redirects.csv").read_text().splitlines()
    assert rows[0] == "old_url,old_path,new_path,status,kind"
    table = {r.split(",")[1]: r.split(",")[2] for r in rows[1:]}
    assert table["/blog/news/hello/"] == "/posts/news/hello/"
    assert table["/?p=12"] == "/posts/news/hello/"
    assert table["/2020/01/hello.html"] == "/posts/news/hello/"
    assert table["/blog/news/"] == "/posts/news/"
    assert report.redirects == len(rows) - 1


def test_export_redirects_nginx_passes_nginx_t(aliased_db, tmp_path):
    nginx = _needs("nginx")
    _export(aliased_db, tmp_path, "redirects", redirect_format="nginx")
    conf_file = tmp_path / "redirects.nginx.conf"
    assert '"/?p=12" "/posts/news/hello/";' in conf_file.read_text()
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  include {conf_file};\n"
        f"  server {{\n    listen 127.0.0.1:8089;\n"
        "    if ($migrator_redirect) { return 301 $migrator_redirect; }\n  }\n}\n"
    )
    run = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(conf)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "test is successful" in run.stderr


def test_export_redirects_apache_and_netlify(aliased_db, tmp_path):
    _export(aliased_db, tmp_path, "redirects", redirect_format="apache")
    _export(aliased_db, tmp_path, "redirects", redirect_format="netlify")
    apache = (tmp_path / "redirects.htaccess").read_text()
    assert "RewriteEngine On" in apache
    assert 'RewriteCond %{QUERY_STRING} "=p=12"' in apache
    assert apache.index('"=p=12"') < apache.index('"=/blog/news/"')
    netlify = (tmp_path / "_redirects").read_text().splitlines()
    assert "/  p=12  /posts/news/hello/  301!" in netlify
    assert "/2020/01/hello.html  /posts/news/hello/  301!" in netlify


@pytest.mark.parametrize(
    ("url", "stem"),
    [
        ("http://h/images/../../etc/passwd", "passwd"),
        ("http://h/%2e%2e%2f%2e%2e%2fetc%2fshadow.png", "shadow"),
        ("http://h/C:%5CWindows%5Cevil.jpg", "evil"),
        ("http://h//absolute/path.gif", "path"),
        ("http://h/img/Caf%C3%A9%20%E6%97%A5%E6%9C%AC%20x%00y.jpeg", "Cafe-x-y"),
        ("http://h/img/...", "asset"),
        ("http://h/", "asset"),
    ],
)
def test_export_safe_asset_name_never_escapes(url, stem, tmp_path):
    digest = "ab" * 32
    name = safe_asset_name(url, digest, "image/png")
    assert re.fullmatch(r"[A-Za-z0-9_-]+-abababababab\.png", name)
    assert name.startswith(stem + "-")
    assert safe_join(tmp_path, "static/media/" + name).parent == tmp_path / "static/media"


@pytest.mark.parametrize("bad", ["../x", "/etc/passwd", "a/../../x", "a//b", "", "a\\..\\b"])
def test_export_safe_join_refuses_escapes(bad, tmp_path):
    with pytest.raises(ExportError):
        safe_join(tmp_path, bad)


PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6300010000000500010d0a2db40000000049454e44ae426082"
)


class _ImageHandler(BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        type(self).hits.append(self.path)
        if self.path == "/robots.txt":
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = PNG if "other" not in self.path else PNG + b"\x00"
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def image_server():
    _ImageHandler.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ImageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_export_downloads_assets_once_dedupes_and_rewrites(tmp_path, image_server):
    db = tmp_path / "m.db"
    base = image_server
    odd = f"{base}/img/..%2F..%2Fescape%20me.png"
    same = f"{base}/img/copy.png"
    other = f"{base}/img/other.png"
    u1, u2 = f"{base}/p1/", f"{base}/p2/"
    with Store.open(db) as store:
        store.save_page(
            Page(
                url=u1,
                source_url=u1,
                canonical_url=u1,
                title="P1",
                page_type="post",
                images=(Image(src=odd),),
                body_markdown=f"![a]({odd}) ![b]({same})",
            )
        )
        store.save_page(
            Page(
                url=u2,
                source_url=u2,
                canonical_url=u2,
                title="P2",
                page_type="post",
                body_markdown=f'<img src="{other}"> ![c]({odd})',
            )
        )
    config = Config().with_fetch(delay=0.0)
    out = tmp_path / "out"
    with Store.open(db, lock=False) as store:
        report = export(store, config, fmt="hugo", out=out, download_assets=True)
        rows = store.query("SELECT url, content_hash, file_name FROM assets ORDER BY url")
    assert report.assets_fetched == 3
    assert report.assets_failed == {}
    files = sorted(p.name for p in (out / "static/media").iterdir())
    assert len(files) == 2  # odd and copy share bytes
    assert all(re.fullmatch(r"[A-Za-z0-9_-]+-[0-9a-f]{12}\.png", f) for f in files)
    assert {r[0] for r in rows} == {odd, same, other}
    assert len({r[2] for r in rows}) == 2
    p1 = (out / "content/posts/p1.md").read_text()
    assert base not in p1
    assert "](/media/" in p1
    assert '<img src="/media/other-' in (out / "content/posts/p2.md").read_text()
    assert not any(p for p in tmp_path.rglob("escape*") if out / "static/media" not in p.parents)
    assert sum(1 for h in _ImageHandler.hits if h.startswith("/img/")) == 3
    with Store.open(db, lock=False) as store:
        again = export(store, config, fmt="hugo", out=out, download_assets=True)
    assert again.assets_fetched == 0
    assert again.assets_reused == 3
    assert sum(1 for h in _ImageHandler.hits if h.startswith("/img/")) == 3


def test_cli_export_hugo_and_redirects(demo_db, tmp_path):
    runner = CliRunner()
    result = runner.invoke(
        cli, ["export", "hugo", "--db", str(demo_db), "--out", str(tmp_path / "s"), "--json", "-q"]
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["pages"] == 50
    result = runner.invoke(
        cli,
        [
            "export",
            "hugo",
            "--flavor",
            "jekyll",
            "--db",
            str(demo_db),
            "--out",
            str(tmp_path / "j"),
            "-q",
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert len(list((tmp_path / "j/_posts").glob("*.md"))) == 48
    result = runner.invoke(
        cli,
        [
            "export",
            "redirects",
            "--format",
            "nginx",
            "--db",
            str(demo_db),
            "--out",
            str(tmp_path / "r"),
            "-q",
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "r/redirects.nginx.conf").is_file()


def test_cli_export_missing_db_exits_2(tmp_path):
    result = CliRunner().invoke(
        cli, ["export", "hugo", "--db", str(tmp_path / "no.db"), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert "no migration database" in result.stderr


def test_export_hugo_of_real_pipeline_builds(tmp_path):
    """The demo blog crawled by the real pipeline exports and builds, images included."""
    hugo = _needs("hugo")
    from migrator.demo import demo_site_dir, serve_site
    from migrator.pipeline import run

    config = Config().with_fetch(delay=0.0, concurrency=8)
    with serve_site(demo_site_dir(), port=0) as server, Store.open(tmp_path / "m.db") as store:
        run(config, store, start=server.base_url + "/")
        report = export(store, config, fmt="hugo", out=tmp_path / "site", download_assets=True)
        posts = store.page_count()
    assert report.broken_links == ()
    assert report.unmapped_urls == ()
    assert report.assets_fetched > 0
    assert report.assets_failed == {}
    public = tmp_path / "public"
    built = subprocess.run(
        [hugo, "--source", str(tmp_path / "site"), "--destination", str(public), "--quiet"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    assert len(list((public / "posts").glob("*/*/index.html"))) == posts - 2 == 48
