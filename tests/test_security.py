"""Security: hostile legacy content must not reach the new site, the server config or
another host (issue #15).

One hostile site is crawled through the real command line (``migrator run``), with a
second server on another port of the same host that must never be asked anything;
its database is exported to every format through ``migrator export`` and the outputs
are checked by the real tools: ``nginx -t`` and ``apache2 -t`` and both servers
answering requests for the intended and the hostile paths, a Hugo build whose HTML is
searched for live script, and a Liquid engine (python-liquid) rendering the Jekyll
posts. nginx, apache2 and hugo skip outside CI when absent; CI installs them.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import http.client
import io
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from click.testing import CliRunner
from liquid import Environment
from markdown_it import MarkdownIt
from selectolax.lexbor import LexborHTMLParser

from migrator.cli import cli
from migrator.config import Config
from migrator.errors import StoreLocked
from migrator.export.frontmatter import front_matter
from migrator.export.hugo import escape_shortcodes
from migrator.export.jekyll import protect_liquid
from migrator.export.redirects import is_safe_redirect_path
from migrator.load import Store
from migrator.models import Page
from migrator.scope import Scope
from servers import Reply, Request, TestServer, page, redirect

pytestmark = pytest.mark.slow

HOSTILE_PATHS = [
    "/h/x%0ARewriteRule%20%5E%20http://evil.example/%20%5BR=302,L%5D",
    "/h/q%22uote/",
    "/h/nul%00/",
    "/h/semi;colon/",
    "/h/brace%7Bx%7D/",
    "/h/dollar$host/",
    "/h/sp%20ace/",
    "/h/nl%0Ainclude%20/etc/passwd;/",
    "/h/back%5Cslash/",
]
LONG_PATH = "/h/" + "a" * 300 + "/"
GOOD_PATHS = ["/h/dash---/", LONG_PATH, "/h/caf%C3%A9/"]

POST = """<!doctype html><html><head><meta charset=utf-8><title>{title}</title>
<script type="application/ld+json">{{"@context":"https://schema.org","@type":"BlogPosting",
"headline":"{title}","datePublished":"2020-01-02"}}</script>
<script type="application/ld+json">{{"@context":"https://schema.org","@type":"BreadcrumbList",
"itemListElement":[{{"@type":"ListItem","position":1,"name":"Home","item":"{base}/"}},
{{"@type":"ListItem","position":2,"name":"News","item":"{base}/blog/news/"}},
{{"@type":"ListItem","position":3,"name":"{title}"}}]}}</script>
</head><body><main><article><h1>{title}</h1>{body}</article></main></body></html>"""

HOSTILE_BODY = """
<p>Spam &lt;script&gt;alert(1)&lt;/script&gt; and &lt;img src=x onerror=alert(2)&gt; and
[x](javascript:alert(3)) and &lt;a href="javascript:alert(5)"&gt;y&lt;/a&gt; in a body long
enough for the extractor to keep every paragraph of it as the article.</p>
<p>{% endraw %}{{ 7 | times: 6 }}{%- endraw -%}{%endraw%}{% assign x = 1 %} {{< shortcode >}}
{{% sc %}} --- <a href="javascript:alert(4)">js</a> <a href="data:text/html,x">d</a>
<a href="vbscript:msgbox(1)">vb</a> <a href="http://example.org/a) ![x](javascript:alert(6)">t</a>
<img src="{base}/img/ok.png" alt="ok"><img src="{other}/secret.png" alt="other port">
<img src="http://169.254.169.254/latest/meta-data.png" alt="metadata">
<img src="http://10.1.2.3/internal.png" alt="private"></p>
<pre><code>```
&lt;script&gt;alert(7)&lt;/script&gt;
{{< keep >}} {% raw %}</code></pre>
"""

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _needs(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is required in CI but is not on PATH")
        pytest.skip(f"{tool} is not installed")
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _hostile_site(server: TestServer, other: TestServer) -> None:
    base, far = server.base_url, other.base_url
    hello = base + "/blog/news/hello/"
    server.set_robots(
        f"User-agent: *\nAllow: /\nSitemap: {base}/sitemap_index.xml\n"
        f"Sitemap: {far}/robots-sitemap.xml\n"
    )
    server.script(
        "/sitemap_index.xml",
        Reply(
            body=(
                '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/'
                f'sitemap/0.9"><sitemap><loc>{base}/sitemap-posts.xml</loc></sitemap>'
                f"<sitemap><loc>{far}/child-index.xml</loc></sitemap></sitemapindex>"
            ).encode(),
            content_type="application/xml",
        ),
    )
    urls = [hello, base + "/blog/news/hijack/", base + "/about-us/", far + "/from-sitemap/"]
    server.script(
        "/sitemap-posts.xml",
        Reply(
            body=(
                '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                + "".join(f"<url><loc>{u}</loc></url>" for u in urls)
                + "</urlset>"
            ).encode(),
            content_type="application/xml",
        ),
    )
    links = [
        *HOSTILE_PATHS,
        *GOOD_PATHS,
        "/?p=12",
        "/posts/news/hijack/",
        "/go-other/",
        far + "/linked/",
        "/blog/news/hello/",
    ]
    server.script("/", Reply(body=page("Home", *links)))
    server.script("/?p=12", redirect(hello, 301))
    server.script("/posts/news/hijack/", redirect(hello, 301))
    server.script("/go-other/", redirect(far + "/trap/", 302))
    server.route("/h/", lambda _request: redirect(hello, 301))
    body = HOSTILE_BODY.replace("{base}", base).replace("{other}", far)
    server.script(
        "/blog/news/hello/", Reply(body=POST.format(title="Hello", base=base, body=body).encode())
    )
    server.script(
        "/blog/news/hijack/",
        Reply(
            body=POST.format(title="Hijack", base=base, body="<p>" + "word " * 60 + "</p>").encode()
        ),
    )
    server.script(
        "/about-us/",
        Reply(body=page("About us", body="<p>" + "about " * 60 + "</p>")),
    )
    server.script("/img/ok.png", Reply(body=PNG, content_type="image/png"))

    def anything(_request: Request) -> Reply:
        return Reply(body=page("Other port", "/more/"))

    other.route("/", anything)
    other.script("/secret.png", Reply(body=PNG, content_type="image/png"))


@pytest.fixture(scope="module")
def crawled(tmp_path_factory) -> Iterator[tuple[Path, TestServer, TestServer, Path]]:
    """The hostile site migrated with ``migrator run``; yields (db, site, other, config)."""
    folder = tmp_path_factory.mktemp("hostile")
    with TestServer() as server, TestServer() as other:
        _hostile_site(server, other)
        config = folder / "site.toml"
        config.write_text(
            f'[site]\nstart = "{server.base_url}/"\n'
            "[fetch]\ndelay = 0.0\nconcurrency = 4\ntimeout = 5.0\ndeadline = 10.0\n"
            "max_attempts = 1\n[extract]\nworkers = 1\n"
        )
        db = folder / "m.db"
        result = CliRunner().invoke(
            cli, ["run", "--config", str(config), "--db", str(db), "--json", "-q"]
        )
        assert result.exit_code == 0, result.output
        yield db, server, other, config


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _export(db: Path, out: Path, *args: str, config: Path | None = None) -> dict[str, object]:
    argv = ["export", *args, "--db", str(db), "--out", str(out), "--json", "-q"]
    if config is not None:
        argv += ["--config", str(config)]
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 0, result.output
    report: dict[str, object] = json.loads(result.stdout)
    return report


# ------------------------------------------------------------------------ scope


def test_security_crawl_never_touches_another_port(crawled):
    """robots Sitemap lines, sitemap indexes, links and redirects to :other are refused."""
    db, server, other, _ = crawled
    assert other.requests == []
    far = other.base_url
    for table, column in (("crawl_state", "url"), ("raw_pages", "url"), ("pages", "url")):
        assert _rows(db, f"SELECT {column} FROM {table} WHERE {column} LIKE '{far}%'") == []
    titles = {str(t) for (t,) in _rows(db, "SELECT title FROM pages")}
    assert {"Hello", "Hijack"} <= titles
    assert server.count("/go-other/") == 1  # asked once, its redirect refused


def test_security_scope_is_the_origin():
    scope = Scope.from_config(Config(), ["http://127.0.0.1:8000/", "https://blog.example.com/"])
    assert scope.allows("http://127.0.0.1:8000/a/")
    assert not scope.allows("http://127.0.0.1:8001/a/")
    assert not scope.allows("http://localhost:8000/a/")
    assert scope.allows("http://blog.example.com/a/")  # http <-> https upgrade, default ports
    assert not scope.allows("https://blog.example.com:8443/a/")


# ------------------------------------------------------------------- redirects


@pytest.fixture(scope="module")
def redirect_files(crawled, tmp_path_factory) -> dict[str, tuple[Path, dict[str, object]]]:
    db = crawled[0]
    out = tmp_path_factory.mktemp("redirects")
    return {
        fmt: (out / fmt, _export(db, out / fmt, "redirects", "--format", fmt))
        for fmt in ("csv", "nginx", "apache", "netlify")
    }


def _csv_rows(redirect_files) -> list[dict[str, str]]:
    folder, _ = redirect_files["csv"]
    return list(csv.DictReader(io.StringIO((folder / "redirects.csv").read_text())))


def test_security_redirects_skip_hostile_paths_and_report_them(redirect_files, crawled):
    base = crawled[1].base_url
    rows = _csv_rows(redirect_files)
    olds = {r["old_path"] for r in rows}
    assert {"/?p=12", "/h/dash---/", LONG_PATH, "/h/caf%C3%A9/", "/blog/news/hello/"} <= olds
    assert not any(p.startswith("/h/") and p not in GOOD_PATHS for p in olds)
    # never shadow a path the new site serves, never redirect "/"
    served = {r["new_path"] for r in rows}
    assert "/" not in olds
    assert not olds & served
    assert "/posts/news/hijack/" not in olds
    for fmt, (_, report) in redirect_files.items():
        skipped = set(report["skipped_urls"])  # type: ignore[arg-type]
        for path in HOSTILE_PATHS:
            if path == "/h/semi;colon/":
                continue  # ";" stays raw in a canonical path: checked below
            assert any(s.startswith(base + path.split("%", 1)[0]) for s in skipped), (fmt, path)
        assert any(";" in s for s in skipped)


def test_security_redirects_netlify_and_csv_are_well_formed(redirect_files):
    folder, _ = redirect_files["netlify"]
    for line in (folder / "_redirects").read_text().splitlines()[1:]:
        fields = line.split()
        assert len(fields) in {3, 4}, line
        assert fields[-1] == "301!"
        assert fields[0].startswith("/")
    for row in _csv_rows(redirect_files):
        assert row["old_url"].startswith("http://127.0.0.1:")
        assert is_safe_redirect_path(row["old_path"])


def _http_get(port: int, path: str) -> tuple[int, str | None]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest("GET", path, skip_accept_encoding=True)
        conn.endheaders()
        response = conn.getresponse()
        response.read()
        return response.status, response.getheader("Location")
    finally:
        conn.close()


@contextmanager
def _running(argv: list[str], port: int, log: Path) -> Iterator[None]:
    """Run a server in the foreground until the block ends; wait until it listens."""
    with log.open("wb") as stderr:
        process = subprocess.Popen(argv, stdout=stderr, stderr=stderr)
        try:
            for _ in range(400):
                if process.poll() is not None:
                    pytest.fail(f"server exited: {log.read_text()}")
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                        break
                except OSError:
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        process.wait(timeout=0.05)
            else:
                pytest.fail("server did not start")
            yield
        finally:
            process.terminate()
            process.wait(timeout=10)


def _check_live(port: int, rows: list[dict[str, str]]) -> None:
    expected = {r["old_path"]: r["new_path"] for r in rows}
    for old, new in expected.items():
        status, location = _http_get(port, old)
        assert status == 301, old
        assert location is not None
        assert location.endswith((new, quote(new, safe="/-._~"))), (old, location)
    for path in [*HOSTILE_PATHS, "/about-us/", "/", "/posts/news/hijack/", "/posts/news/hello/"]:
        status, location = _http_get(port, path.replace(" ", "%20"))
        assert status != 301 or location is None or "evil" not in location, path
        assert path not in expected
        assert status in {400, 403, 404}, (path, status, location)


def test_security_redirects_nginx_checked_and_served(redirect_files, tmp_path):
    nginx = _needs("nginx")
    folder, _ = redirect_files["nginx"]
    included = folder / "redirects.nginx.conf"
    port = _free_port()
    conf = tmp_path / "nginx.conf"
    (tmp_path / "www").mkdir()
    conf.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  include {included};\n"
        f"  server {{\n    listen 127.0.0.1:{port};\n    root {tmp_path}/www;\n"
        "    if ($migrator_redirect) { return 301 $migrator_redirect; }\n  }\n}\n"
    )
    argv = [nginx, "-p", str(tmp_path), "-c", str(conf)]
    check = subprocess.run([*argv, "-t"], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr
    with _running([*argv, "-g", "daemon off; master_process off;"], port, tmp_path / "log"):
        _check_live(port, _csv_rows(redirect_files))


def test_security_redirects_apache_checked_and_served(redirect_files, tmp_path):
    apache = _needs("apache2")
    modules = Path("/usr/lib/apache2/modules")
    if not (modules / "mod_rewrite.so").is_file():
        pytest.skip("apache2 modules not found")
    folder, _ = redirect_files["apache"]
    www = tmp_path / "www"
    www.mkdir()
    shutil.copy(folder / "redirects.htaccess", www / ".htaccess")
    port = _free_port()
    head = (
        "".join(
            f"LoadModule {name}_module {modules}/mod_{name}.so\n"
            for name in ("mpm_event", "authz_core", "rewrite")
        )
        + f"Listen 127.0.0.1:{port}\nServerName 127.0.0.1\nPidFile {tmp_path}/httpd.pid\n"
        f"ErrorLog {tmp_path}/error.log\nDocumentRoot {www}\n"
    )
    # -t parses the rules (it never reads .htaccess): include them in <Directory>.
    checked = tmp_path / "check.conf"
    checked.write_text(
        head + f"<Directory {www}>\n  Include {folder / 'redirects.htaccess'}\n</Directory>\n"
    )
    check = subprocess.run(
        [apache, "-t", "-f", str(checked)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stderr
    assert "Syntax OK" in check.stderr + check.stdout
    served = tmp_path / "httpd.conf"
    served.write_text(
        head + f"<Directory {www}>\n  AllowOverride FileInfo\n  Require all granted\n</Directory>\n"
    )
    with _running([apache, "-X", "-f", str(served)], port, tmp_path / "log"):
        _check_live(port, _csv_rows(redirect_files))


# --------------------------------------------------------------------- sites


def _live_markup(html: str) -> list[str]:
    """Script elements, event-handler attributes and script URLs in an HTML document."""
    tree = LexborHTMLParser(html)
    found = [f"<{n.tag}>" for n in tree.css("script, iframe, object, embed")]
    for node in tree.css("*"):
        for name, value in node.attributes.items():
            if name.lower().startswith("on"):
                found.append(f"{node.tag}[{name}]")
            if name.lower() in {"href", "src", "action", "formaction"} and value:
                scheme = value.strip().split(":", 1)[0].lower()
                if scheme in {"javascript", "data", "vbscript"}:
                    found.append(f"{node.tag}[{name}={value[:30]}]")
    return found


def test_security_hugo_site_builds_and_serves_no_script(crawled, tmp_path):
    hugo = _needs("hugo")
    db = crawled[0]
    site = tmp_path / "site"
    _export(db, site, "hugo")
    assert "unsafe = false" in (site / "config.toml").read_text()
    public = tmp_path / "public"
    run = subprocess.run(
        [hugo, "--source", str(site), "--destination", str(public), "--quiet"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    pages = list(public.rglob("*.html"))
    assert pages
    for html in pages:
        assert _live_markup(html.read_text()) == [], html
    hello = (public / "posts/news/hello/index.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hello  # kept, as text
    assert "{{&lt; keep &gt;}}" in hello  # a shortcode inside code shows as written
    assert "{{ 7 | times: 6 }}" in hello


def test_security_jekyll_posts_render_liquid_as_text(crawled, tmp_path):
    db = crawled[0]
    _export(db, tmp_path, "jekyll")
    env = Environment()
    md = MarkdownIt("commonmark", {"html": True})  # kramdown passes raw HTML through too
    (post,) = [p for p in (tmp_path / "_posts").glob("*.md") if p.name.endswith("-hello.md")]
    _, _, body = post.read_text().split("---\n", 2)
    rendered = env.from_string(body).render()
    assert "{%- endraw -%}" in rendered
    assert "{{ 7 | times: 6 }}" in rendered  # printed, not evaluated
    assert "{% assign x = 1 %}" in rendered
    assert _live_markup(md.render(rendered)) == []
    for file in (tmp_path / "_posts").glob("*.md"):
        env.from_string(file.read_text().split("---\n", 2)[2]).render()  # never a syntax error


def test_security_markdown_from_sanitized_tree(crawled):
    (markdown,) = _rows(crawled[0], "SELECT body_markdown FROM pages WHERE title = 'Hello'")[0:1]
    text = str(markdown[0])
    outside_code = re.sub(r"(?ms)^(`{3,})\n.*?^\1$", "", text)
    assert "<script" in text  # the <pre> text, inside its fence ...
    assert "<script" not in outside_code  # ... and nowhere else
    # No link or image made of anything but http(s)/mailto: the escaped "[x](javascript:"
    # of the text stays text ("\\]("), the <a href="javascript:"> lost its href.
    assert not re.search(r"(?<!\\)\]\(\s*(?!https?:|mailto:|#)", text)
    assert "\\[x\\](javascript:alert(3))" in text
    md = MarkdownIt("commonmark", {"html": True})
    assert _live_markup(md.render(text)) == []
    for (section,) in _rows(crawled[0], "SELECT markdown FROM sections"):
        assert _live_markup(md.render(str(section or ""))) == []


def test_security_hostile_values_round_trip_in_every_writer():
    hostile = ["a\n---\nb", '"q"', "%0A", "\x00", ";", "{", "$", "{{< x >}}", "{% raw %}",
               "<script>", "javascript:alert(1)", "{%endraw%}", "{%- endraw -%}", "'"]  # fmt: skip
    for value in hostile:
        block = front_matter({"title": value, "tags": [value]})
        assert block.startswith("---\n")
        assert block.count("\n---\n") == 1
        assert yaml.safe_load(block.split("---\n", 1)[1].rsplit("---\n", 1)[0]) == {
            "title": value,
            "tags": [value],
        }
        assert Environment().from_string(protect_liquid(value)).render() == value
        assert "{{<" not in escape_shortcodes(value)
    unsafe = ["%0A", "%0D", "%00", "%22", "%27", "%5C", "%7B", "%24", "%25", "%20", "%23", "%3B",
              '"', "\n", ";", "{", "}", "$", " ", "\\", "<", "`"]  # fmt: skip
    for value in unsafe:
        assert not is_safe_redirect_path(f"/a{value}b/"), value
    for value in ["---", "%C3%A9", "(x)", "@", "~", "a+b", "!"]:
        assert is_safe_redirect_path(f"/a{value}b/"), value
    assert is_safe_redirect_path("/?p=1%0A2")  # a query is compared raw by every server
    assert not is_safe_redirect_path("/?p=1;2")


# ----------------------------------------------------------------------- assets


def test_security_assets_only_from_the_site_and_listed_cdns(crawled, tmp_path):
    db, _, other, config = crawled
    report = _export(db, tmp_path / "a", "hugo", "--download-assets", config=config)
    failed = report["assets"]["failed"]  # type: ignore[index]
    assert report["assets"]["fetched"] == 1  # type: ignore[index]
    assert failed[f"{other.base_url}/secret.png"] == "out_of_scope"
    assert failed["http://169.254.169.254/latest/meta-data.png"] == "out_of_scope"
    assert other.requests == []
    # A CDN list opens its hosts, but never a link-local or private address.
    cdn = tmp_path / "cdn.toml"
    cdn.write_text(
        config.read_text()
        + f'[export]\nasset_hosts = ["127.0.0.1:{other.port}", "169.254.169.254", "10.1.2.3"]\n'
    )
    report = _export(db, tmp_path / "b", "hugo", "--download-assets", config=cdn)
    failed = report["assets"]["failed"]  # type: ignore[index]
    assert failed["http://169.254.169.254/latest/meta-data.png"] == "blocked_address"
    assert failed["http://10.1.2.3/internal.png"] == "blocked_address"
    assert [r.path for r in other.requests if r.path == "/secret.png"] == ["/secret.png"]
    media = list((tmp_path / "b/static/media").iterdir())
    assert len(media) == 1  # ok.png and secret.png share bytes


# ---------------------------------------------------------------------- budgets


def _word(i: int) -> str:
    """A digit-free name per number, so each URL has its own path shape."""
    letters = ""
    i += 1
    while i:
        i, rest = divmod(i - 1, 26)
        letters = chr(97 + rest) + letters
    return letters


def _urlset(urls: list[str]) -> Reply:
    body = (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(f"<url><loc>{u}</loc></url>" for u in urls)
        + "</urlset>"
    )
    return Reply(body=body.encode(), content_type="application/xml")


def _run(server: TestServer, folder: Path, scope: str) -> Path:
    config = folder / "site.toml"
    config.write_text(
        f'[site]\nstart = "{server.base_url}/"\n[scope]\n{scope}\n'
        "[fetch]\ndelay = 0.0\nconcurrency = 4\nmax_attempts = 1\n[extract]\nworkers = 1\n"
    )
    db = folder / "m.db"
    result = CliRunner().invoke(cli, ["run", "--config", str(config), "--db", str(db), "-q"])
    assert result.exit_code == 0, result.output
    return db


def test_security_sitemap_urls_spend_the_page_and_pattern_budgets(tmp_path):
    with TestServer() as server:
        base = server.base_url
        server.set_robots(f"User-agent: *\nAllow: /\nSitemap: {base}/index.xml\n")
        children = "".join(
            f"<sitemap><loc>{base}/s{n}.xml</loc></sitemap>" for n in ("a", "b", "c")
        )
        server.script(
            "/index.xml",
            Reply(
                body=(
                    '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/'
                    f'schemas/sitemap/0.9">{children}</sitemapindex>'
                ).encode(),
                content_type="application/xml",
            ),
        )
        server.script("/sa.xml", _urlset([f"{base}/cal/{2000 + i}/" for i in range(100)]))
        for n, offset in (("b", 0), ("c", 300)):
            server.script(
                f"/s{n}.xml", _urlset([f"{base}/{_word(offset + i)}/" for i in range(300)])
            )
        server.route("/", lambda _request: Reply(body=page("A page")))
        db = _run(server, tmp_path, "max_pages = 25\nmax_urls_per_pattern = 5")
        fetched = [r.path for r in server.requests if not r.path.endswith((".xml", ".txt"))]
    assert 0 < len(fetched) <= 25
    assert len(set(fetched)) == len(fetched)
    assert sum(p.startswith("/cal/") for p in fetched) <= 5
    (queued,) = _rows(db, "SELECT count(*) FROM crawl_state")[0]
    assert isinstance(queued, int)
    assert queued <= 25


def _run_json(server: TestServer, folder: Path, scope: str, start: str) -> dict[str, object]:
    """``migrator run START --json`` with a fast config; the run's report."""
    config = folder / "site.toml"
    config.write_text(
        f"[scope]\n{scope}\n[fetch]\ndelay = 0.0\nconcurrency = 4\nmax_attempts = 1\n"
        "[extract]\nworkers = 1\n"
    )
    db = folder / "m.db"
    result = CliRunner().invoke(
        cli, ["run", start, "--config", str(config), "--db", str(db), "--json", "-q"]
    )
    assert result.exit_code == 0, result.output
    report: dict[str, object] = json.loads(result.stdout)
    return report


def _fanout(server: TestServer, width: int, *, leaves: bool = False) -> None:
    """``/fan/<name>.xml``: an index of ``width`` child indexes, forever; with ``leaves``,
    the children of the root's children are urlsets of ``width`` pages each."""
    base = server.base_url

    def index(request: Request) -> Reply:
        name = request.path.removeprefix("/fan/").removesuffix(".xml")
        if leaves and name.count("-") == 2:
            return _urlset([f"{base}/post/{name}/{_word(i)}/" for i in range(width)])
        entries = "".join(
            f"<sitemap><loc>{base}/fan/{name}-{i}.xml</loc></sitemap>" for i in range(width)
        )
        body = (
            '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/'
            f'sitemap/0.9">{entries}</sitemapindex>'
        )
        return Reply(body=body.encode(), content_type="application/xml")

    server.route("/fan/", index)
    server.route("/post/", lambda _request: Reply(body=page("A post", body="<p>Words.</p>")))


def test_security_sitemap_fanout_stops_at_max_sitemaps_and_says_so(tmp_path):
    """An index of indexes of indexes with no page: the walk reads max_sitemaps files."""
    with TestServer() as server:
        _fanout(server, 500)
        report = _run_json(server, tmp_path, "max_sitemaps = 30", server.url("/fan/root.xml"))
        read = [r.path for r in server.requests if r.path.startswith("/fan/")]
    # 30 files; the start is asked once more to see whether it was a page after all.
    assert len(set(read)) == 30
    assert len(read) <= 31
    counts = report["counts"]
    assert isinstance(counts, dict)
    assert counts["limited_max_sitemaps"] >= 1  # a lower bound: the rest was never parsed
    assert "child sitemaps or more not read (scope.max_sitemaps)" in str(report["message"])


def test_security_sitemap_nesting_stops_at_max_sitemap_depth_and_says_so(tmp_path):
    with TestServer() as server:
        _fanout(server, 2)
        report = _run_json(server, tmp_path, "max_sitemap_depth = 2", server.url("/fan/root.xml"))
        read = [r.path for r in server.requests if r.path.startswith("/fan/")]
    assert set(read) == set(
        ["/fan/root.xml"]
        + [f"/fan/root-{i}.xml" for i in range(2)]
        + [f"/fan/root-{i}-{j}.xml" for i in range(2) for j in range(2)]
    )
    counts = report["counts"]
    assert isinstance(counts, dict)
    assert counts["limited_max_sitemap_depth"] == 4  # the four indexes at depth 2
    assert "4 sitemap indexes too deeply nested (scope.max_sitemap_depth)" in str(report["message"])


def test_security_sitemap_fanout_with_pages_stops_at_max_pages(tmp_path):
    """Indexes of indexes of urlsets: the run stores max_pages pages and reads no more."""
    with TestServer() as server:
        _fanout(server, 60, leaves=True)
        report = _run_json(server, tmp_path, "max_pages = 40", server.url("/fan/root.xml"))
        read = [r.path for r in server.requests if r.path.startswith("/fan/")]
        posts = [r.path for r in server.requests if r.path.startswith("/post/")]
    # Depth first: the root, its first child index, that child's first urlset.
    assert read == ["/fan/root.xml", "/fan/root-0.xml", "/fan/root-0-0.xml"]
    assert len(posts) == 40
    rows = _rows(tmp_path / "m.db", "SELECT count(*) FROM crawl_state")
    assert rows == [(40,)]
    assert "URLs refused by scope.max_pages" in str(report["message"])


def test_security_huge_gzipped_sitemap_streams_to_max_pages(tmp_path):
    """One gzipped sitemap of 300,000 URLs: read as it inflates, stopped at max_pages."""
    with TestServer() as server:
        base = server.base_url
        entries = "".join(f"<url><loc>{base}/post/{i}/</loc></url>" for i in range(300_000))
        body = (
            '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"{entries}</urlset>"
        ).encode()
        server.script(
            "/big.xml.gz",
            Reply(body=gzip.compress(body, compresslevel=1), content_type="application/gzip"),
        )
        server.route("/post/", lambda _request: Reply(body=page("A post", body="<p>Words.</p>")))
        report = _run_json(server, tmp_path, "max_pages = 25", server.url("/big.xml.gz"))
        posts = [r.path for r in server.requests if r.path.startswith("/post/")]
    assert len(posts) == 25
    assert _rows(tmp_path / "m.db", "SELECT count(*) FROM crawl_state") == [(25,)]
    assert "URLs refused by scope.max_pages" in str(report["message"])


def test_security_links_per_page_capped(tmp_path):
    with TestServer() as server:
        links = [f"/{_word(i)}/" for i in range(300)]
        server.script("/", Reply(body=page("Link farm", *links)))
        server.route("/", lambda _request: Reply(body=page("Leaf")))
        db = _run(server, tmp_path, "max_links_per_page = 10\nmax_depth = 1")
        leaves = [r.path for r in server.requests if r.path in set(links)]
    assert 0 < len(leaves) <= 10
    (queued,) = _rows(db, "SELECT count(*) FROM crawl_state WHERE via = 'link'")[0]
    assert isinstance(queued, int)
    assert 0 < queued <= 10


# ------------------------------------------------------------------------ smaller


def test_security_dot_dot_tags_keep_the_hugo_build(tmp_path):
    hugo = _needs("hugo")
    base = "http://127.0.0.1:8000"
    db = tmp_path / "m.db"
    with Store.open(db) as store:
        for slug, tags in (("one", ("..", ".", "../../escape", "a/../b", "ok")), ("two", ("/",))):
            url = f"{base}/blog/{slug}/"
            store.save_page(
                Page(
                    url=url,
                    source_url=url,
                    canonical_url=url,
                    title=slug,
                    page_type="post",
                    published=date(2020, 1, 2),
                    tags=tags,
                    categories=("..",),
                    body_markdown="Body.",
                )
            )
    site, public = tmp_path / "site", tmp_path / "out" / "public"
    _export(db, site, "hugo")
    run = subprocess.run(
        [hugo, "--source", str(site), "--destination", str(public), "--quiet"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert (public / "tags/ok/index.html").is_file()
    assert sorted(p.name for p in (public / "tags").iterdir() if p.is_dir()) == [
        "..-..-escape",
        "a-..-b",
        "ok",
    ]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["public"]
    assert not (public / "escape").exists()


def test_security_run_lock_follows_the_file_through_a_symlink(tmp_path):
    real = tmp_path / "real.db"
    link = tmp_path / "link.db"
    with Store.open(real):
        pass
    link.symlink_to(real)
    with Store.open(real):
        result = CliRunner().invoke(cli, ["extract", "--db", str(link), "-q"])
    assert result.exit_code == 5, result.output


def test_security_run_lock_follows_the_file_through_a_hard_link(tmp_path):
    """A hard link in another directory is the same file: it meets the same lock."""
    real = tmp_path / "a" / "real.db"
    other = tmp_path / "b" / "alias.db"
    with Store.open(real):
        pass
    other.parent.mkdir()
    os.link(real, other)
    with Store.open(real):
        result = CliRunner().invoke(cli, ["extract", "--db", str(other), "-q"])
        assert result.exit_code == 5, result.output
        assert f"another migrator run is using {other}" in result.output
    # Released with the store: the hard link opens now, in both directions.
    with Store.open(other):
        result = CliRunner().invoke(cli, ["extract", "--db", str(real), "-q"])
        assert result.exit_code == 5, result.output
    assert CliRunner().invoke(cli, ["extract", "--db", str(real), "-q"]).exit_code == 0


def test_security_run_lock_across_processes_and_names(tmp_path):
    """A run in another process holds the lock for every name of the file: a symlink to
    a hard link of the database is refused while it runs, and free once it ends."""
    real = tmp_path / "real.db"
    with Store.open(real):
        pass
    hard = tmp_path / "hard.db"
    os.link(real, hard)
    (tmp_path / "sym.db").symlink_to(hard)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys\nfrom migrator.load import Store\n"
            f"s = Store.open({str(real)!r})\nprint('ready', flush=True)\nsys.stdin.readline()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "ready"
        for name in ("real.db", "hard.db", "sym.db"):
            with pytest.raises(StoreLocked):
                Store.open(tmp_path / name)
    finally:
        holder.communicate("\n", timeout=30)
    assert holder.returncode == 0
    for name in ("real.db", "hard.db", "sym.db"):
        Store.open(tmp_path / name).close()


def test_security_deep_nesting_keeps_the_body(tmp_path):
    """4,000 nested elements used to end Markdown conversion in a RecursionError (blank)."""
    html = tmp_path / "deep.html"
    nested = "<div>" * 4000 + "<p>Deep text &lt;script&gt; survives.</p>" + "</div>" * 4000
    html.write_text(
        "<!doctype html><html><head><title>Deep</title></head><body><article><h1>Deep</h1>"
        f"<p>{'Top words here. ' * 20}</p>{nested}</article></body></html>"
    )
    result = CliRunner().invoke(cli, ["parse", str(html), "--url", "http://127.0.0.1:8000/d/"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert "Top words here." in record["body_markdown"]
    assert "Deep text &lt;script&gt; survives." in record["body_markdown"]
