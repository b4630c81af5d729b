"""URL normalization: one spelling per page, idempotent, never raising."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from migrator.urls import absolute_url, canonical_url, host_of, is_http_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # case of scheme and host, not of the path
        ("HTTP://Blog.Example.COM/Post/", "http://blog.example.com/Post/"),
        # default ports dropped, others kept
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("https://example.com:80/a", "https://example.com:80/a"),
        # empty path, fragments
        ("https://example.com", "https://example.com/"),
        ("https://example.com/a/#comments", "https://example.com/a/"),
        # index files
        ("https://example.com/blog/index.html", "https://example.com/blog/"),
        ("https://example.com/index.php", "https://example.com/"),
        ("https://example.com/blog/default.aspx", "https://example.com/blog/"),
        ("https://example.com/blog/indexes.html", "https://example.com/blog/indexes.html"),
        # dot segments
        ("https://example.com/a/./b/../c", "https://example.com/a/c"),
        ("https://example.com/../../a", "https://example.com/a"),
        ("https://example.com/a/b/..", "https://example.com/a/"),
        # tracking parameters, query order
        ("https://example.com/a?utm_source=x&utm_medium=y", "https://example.com/a"),
        ("https://example.com/a?p=2&fbclid=abc&gclid=1", "https://example.com/a?p=2"),
        ("https://example.com/a?b=2&a=1", "https://example.com/a?a=1&b=2"),
        ("https://example.com/a?PHPSESSID=1&p=3", "https://example.com/a?p=3"),
        # percent-escapes: unreserved decoded, reserved kept, hex upper-cased
        ("https://example.com/%7euser/", "https://example.com/~user/"),
        ("https://example.com/a%2fb", "https://example.com/a%2Fb"),
        ("https://example.com/caf%c3%a9", "https://example.com/caf%C3%A9"),
        ("https://example.com/café", "https://example.com/caf%C3%A9"),
        ("https://example.com/a b", "https://example.com/a%20b"),
        ("https://example.com/?q=a%2Bb", "https://example.com/?q=a%2Bb"),
        ("https://example.com/?q=a+b", "https://example.com/?q=a%20b"),
        ("https://example.com/?q=caf%E9", "https://example.com/?q=caf%E9"),
        # trailing dot of a host, userinfo
        ("https://example.com./a", "https://example.com/a"),
        ("https://user:pw@example.com/a", "https://example.com/a"),
        # internationalized host
        ("https://bücher.example/", "https://xn--bcher-kva.example/"),
        # IPv6
        ("http://[::1]:8080/x", "http://[::1]:8080/x"),
    ],
)
def test_canonical_url_normalizes(url, expected):
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    "url",
    ["mailto:a@b.c", "javascript:alert(1)", "not a url", "", "http://[::1/", "ftp://x.org/"],
)
def test_canonical_url_leaves_non_http_unchanged(url):
    assert canonical_url(url) == url.strip()


def test_canonical_url_duplicate_variants_collapse():
    variants = [
        "http://127.0.0.1:8000/ok/",
        "http://127.0.0.1:8000/ok/index.html",
        "http://127.0.0.1:8000/ok/?utm_source=feed&utm_medium=rss",
        "http://127.0.0.1:8000/ok/#comments",
        "http://127.0.0.1:8000/./ok/",
        "HTTP://127.0.0.1:8000/ok/",
    ]
    assert {canonical_url(v) for v in variants} == {"http://127.0.0.1:8000/ok/"}


@given(st.text())
@settings(max_examples=400)
def test_canonical_url_idempotent_and_total_on_any_text(text):
    once = canonical_url(text)
    assert canonical_url(once) == once


_segments = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/?#"), max_size=8
)
_urls = st.builds(
    lambda scheme, host, port, segs, query, frag: (
        f"{scheme}://{host}{port}/{'/'.join(segs)}{query}{frag}"
    ),
    st.sampled_from(["http", "https", "HTTP"]),
    st.sampled_from(["example.com", "Example.COM", "127.0.0.1", "xn--bcher-kva.de", "bücher.de"]),
    st.sampled_from(["", ":80", ":443", ":8080"]),
    st.lists(st.one_of(_segments, st.sampled_from([".", "..", "index.html", "%2F", "%7e"]))),
    st.one_of(
        st.just(""),
        st.builds(lambda q: "?" + q, st.text(max_size=30)),
        st.sampled_from(["?a=%2B", "?a=+&b=%E9", "?utm_source=x&p=1", "?p=1&p=0"]),
    ),
    st.sampled_from(["", "#x", "#"]),
)


@given(_urls)
@settings(max_examples=600)
def test_canonical_url_idempotent_on_http_urls(url):
    once = canonical_url(url)
    assert canonical_url(once) == once
    assert is_http_url(once)
    assert "#" not in once


def test_absolute_url_resolves_and_filters():
    base = "https://example.com/blog/post/"
    assert absolute_url("../other/", base) == "https://example.com/blog/other/"
    assert absolute_url("/x?utm_source=a", base) == "https://example.com/x"
    assert absolute_url("  //cdn.example.org/a  ", base) == "https://cdn.example.org/a"
    assert absolute_url("#top", base) is None
    assert absolute_url("", base) is None
    assert absolute_url(None, base) is None
    assert absolute_url("mailto:me@example.com", base) is None
    assert absolute_url("javascript:void(0)", base) is None
    assert absolute_url("data:text/html,hi", base) is None


def test_host_of_and_is_http_url():
    assert host_of("https://Blog.Example.com:8080/x") == "blog.example.com"
    assert host_of("not a url") == ""
    assert is_http_url("https://example.com/")
    assert not is_http_url("file:///etc/passwd")
    assert not is_http_url("https:///nohost")
