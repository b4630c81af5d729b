"""A template the crawl's first model missed gets its own rules from its own pages
(``learn_template``, ``learn.learn_template_from_raw``, ``learn.add_template``)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from migrator.extract.site import learn_site, learn_template
from migrator.extract.template import html_template_signature
from migrator.learn import (
    LEARN_TEMPLATE_DISTINCT,
    add_template,
    learn_from_db,
    learn_from_raw,
    learn_template_from_raw,
)
from site_runs import raw_page

FETCHED = datetime(2026, 1, 1, tzinfo=UTC)


def _post(index: int) -> tuple[str, str]:
    text = f"Paragraph number {index} with enough distinct words to be a real paragraph."
    return (
        f"http://blog.example/post-{index}/",
        f"<html><head><title>Post {index} | Blog</title></head><body>"
        f'<div id="page"><h1 class="site">Blog</h1><article>'
        f'<h1 class="entry-title">Post {index}</h1>'
        f'<p class="meta">March {index % 28 + 1}, 2011</p>'
        f'<div class="entry-content"><p>{text} Intro.</p><p>{text} Closing.</p></div>'
        "</article></div>"
        '<div class="widget"><h3>Related posts</h3><ul><li>x</li></ul></div>'
        "</body></html>",
    )


def _archive(index: int) -> tuple[str, str]:
    entries = "".join(
        f'<div class="entry"><h2><a href="/post-{index * 3 + k}/">Post {index * 3 + k}</a></h2>'
        f'<span class="when">April {(index * 3 + k) % 28 + 1}, 2012</span>'
        f"<p>Summary {index}-{k} of a post with words enough to read as a summary.</p></div>"
        for k in range(3)
    )
    return (
        f"http://blog.example/archive/{index}/",
        f"<html><head><title>Archive {index} | Blog</title></head><body>"
        f'<div id="listing"><h1 class="site">Blog</h1>'
        f'<h1 class="archive-title">Archive {index}</h1>{entries}</div>'
        '<div class="widget"><h3>Related posts</h3><ul><li>x</li></ul></div>'
        "</body></html>",
    )


POSTS = [_post(i) for i in range(60)]
ARCHIVES = [_archive(i) for i in range(40)]
SIGNATURE = html_template_signature(ARCHIVES[0][1]) or ""


def test_learn_template_gives_a_late_template_the_rules_a_mixed_sample_gives_it() -> None:
    """Learned from its own pages for a model that never saw it, a template gets the
    headline and date elements a sample holding both templates finds for it."""
    assert SIGNATURE
    assert html_template_signature(POSTS[0][1]) != SIGNATURE
    site = learn_site(POSTS)
    mixed = learn_site(POSTS + ARCHIVES)
    assert site is not None
    assert mixed is not None
    assert site.for_template(SIGNATURE) is site, "the posts-only model has no archive rules"
    expected = mixed.for_template(SIGNATURE)
    assert expected.signature == SIGNATURE
    rules = learn_template(ARCHIVES, site, SIGNATURE, fetched_at=FETCHED)
    assert rules is not None
    assert rules.signature == SIGNATURE
    assert (rules.title_selector, rules.date_selector) == (
        expected.title_selector,
        expected.date_selector,
    )
    assert rules.title_selector == "h1.archive-title"
    assert rules.furniture >= site.furniture
    assert (rules.date_order, rules.cms, rules.site_names) == (
        site.date_order,
        site.cms,
        site.site_names,
    )
    # Pages of other templates in the sample are skipped, not learned from.
    mixed_in = learn_template(POSTS + ARCHIVES, site, SIGNATURE, fetched_at=FETCHED)
    assert mixed_in is not None
    assert mixed_in.fingerprint == rules.fingerprint
    assert learn_template(POSTS, site, SIGNATURE) is None


def test_copies_of_one_page_teach_a_template_nothing() -> None:
    """A static server's ``/blog/?topic=x`` answers are one page: counted once."""
    site = learn_site(POSTS)
    assert site is not None
    url, html = ARCHIVES[0]
    copies = [
        raw_page(f"{url}?topic={i}", html, "utf-8") for i in range(2 * LEARN_TEMPLATE_DISTINCT)
    ]
    assert learn_template_from_raw(copies, site, SIGNATURE, {}) is None
    distinct = [raw_page(u, h, "utf-8") for u, h in ARCHIVES[:LEARN_TEMPLATE_DISTINCT]]
    rules = learn_template_from_raw(distinct + copies, site, SIGNATURE, {})
    assert rules is not None
    assert rules.pages_sampled == LEARN_TEMPLATE_DISTINCT  # the copies are of a page in it
    assert rules == learn_template(
        [(r.url, r.body.decode()) for r in distinct], site, SIGNATURE, fetched_at=FETCHED
    )


def test_add_template_adds_the_rules_once_and_keeps_every_other() -> None:
    site = learn_site(POSTS)
    assert site is not None
    rules = learn_template(ARCHIVES, site, SIGNATURE, fetched_at=FETCHED)
    assert rules is not None
    added = add_template(site, rules)
    assert added.fingerprint == site.fingerprint, "the site-wide rules stay"
    assert added.for_template(SIGNATURE).fingerprint == rules.fingerprint
    assert added.model_fingerprint != site.model_fingerprint
    assert add_template(added, rules) is added, "a template with rules keeps them"


def test_learn_from_raw_decoding_one_page_at_a_time_learns_the_same_model() -> None:
    raws = [raw_page(u, h, "utf-8") for u, h in POSTS + ARCHIVES]
    streamed = learn_from_raw(raws, {})
    assert streamed is not None
    assert streamed == learn_site(POSTS + ARCHIVES, fetched_at=FETCHED)


def test_learn_from_db_samples_the_answers_stored_when_asked(tmp_path: Path) -> None:
    """The worker reads its sample later than the crawl asked for it: the answers
    stored meanwhile are left out, so the model is the one asked for."""
    from migrator.load import Store

    db = tmp_path / "m.db"
    with Store.open(db) as store:
        for url, html in POSTS[:30]:
            store.save_fetch(url, raw_page(url, html, "utf-8"))
        upto = store.last_raw_id()
        for url, html in ARCHIVES:
            store.save_fetch(url, raw_page(url, html, "utf-8"))
        sampled = {raw.url for raw in store.sample_raw_pages(400, upto=upto)}
        assert sampled == {url for url, _ in POSTS[:30]}
        assert len(store.sample_raw_pages(400)) == 30 + len(ARCHIVES)
        asked = learn_from_raw(store.sample_raw_pages(400, upto=upto), {})
    assert asked is not None
    assert learn_from_db(db, upto) == asked
    assert learn_from_db(db, upto + len(ARCHIVES)) != asked
