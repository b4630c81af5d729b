"""The site model: what a whole crawl says about each page that one page cannot.

A blog is a few templates filled hundreds of times. Read across a sample of its pages:

- **furniture**: a block whose text sits at the same place on many pages (the blog's name
  in an ``h1``, the footer, an unchanging widget, "See also" headings, a date in a footer
  "mini-blog") is part of the theme, never a title, a date, a section or the body;
- **site names**: the ``<title>`` parts, ``og:title`` or ``og:site_name`` values that
  repeat across pages name the site, not the page;
- **the headline's element**: the element whose text is the page's own ``<title>``
  headline on most pages (``h3.post-title`` on an old Blogger theme, ``h2 > a`` on a
  Movable Type one) — applied to every page, it gives the title and, where it repeats
  on one page, shows a listing;
- **the date's element**: the element that carries a distinct, plausible date on most
  pages — cross-checked with the feed's dates and dates in the URLs — and the site's
  numeric date order.

``learn_site`` builds a :class:`SiteModel` from a sample of ``(url, html)`` pages; it is
deterministic and pure. It reads the pages with :mod:`migrator.extract.samples` (keys from
:mod:`migrator.extract.blocks`, signatures from :mod:`migrator.extract.template`) and
counts the votes with :mod:`migrator.extract.votes`.
:func:`migrator.extract.blocks.furniture_nodes` finds the furniture of one parsed page
under a model. The model is plain data: stored in the database, shown by ``--explain``,
and written as selectors by ``migrator learn``.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from migrator.extract.samples import Sample, SampleRead, read_samples
from migrator.extract.votes import (
    MIN_FURNITURE_PAGES,
    Votes,
    date_is_exclusive,
    new_votes,
    pick_date,
    pick_title,
    title_names,
    vote_date,
    vote_title,
)
from migrator.models import SiteModel

__all__ = ["learn_site", "learn_template", "model_summary"]

_MIN_SAMPLE = 6  # fewer pages than this: nothing repeats meaningfully, no model
_FURNITURE_SHARE = 0.3  # a block on this share of the sample is furniture
_TEMPLATE_SHARE = 0.6  # … of the pages of its own template
_TEMPLATE_FURNITURE_PAGES = 30  # pages of a template needed to learn its own furniture


def learn_site(
    pages: Iterable[tuple[str, str]],
    *,
    feed_dates: Mapping[str, str] | None = None,
    fetched_at: datetime | None = None,
) -> SiteModel | None:
    """Learn a site's furniture, names, headline and date elements from sample pages.

    Two passes over the sample, one page tree alive at a time: the first counts on how
    many pages each block appears (furniture) and collects ``<title>`` and ``og`` values
    (site names); the second, knowing the furniture, votes for the headline's and the
    date's elements.

    Args:
        pages: ``(url, html)`` of sample pages of one site (a few hundred suffice).
        feed_dates: ISO dates the site's feeds give for some URLs (a strong hint).
        fetched_at: when the pages were fetched (dates after it are not dates).

    Returns:
        The model, or ``None`` when there are too few pages to learn from.
    """
    read = read_samples(pages, feed_dates, fetched_at)
    samples = read.samples
    count = len(samples)
    if count < _MIN_SAMPLE:
        return None
    evidence: list[str] = []
    furniture = _learn_furniture(samples, evidence, share=_FURNITURE_SHARE)
    names = title_names(samples)
    # Templates with enough pages of their own get their own rules (a blog that changed
    # theme, a gallery template); the site-wide ones serve every other page.
    groups: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        groups[sample.template].append(sample)
    big = {
        sig: members
        for sig, members in groups.items()
        if len(groups) > 1 and len(members) >= max(_MIN_SAMPLE, 0.1 * count)
    }
    own_furniture = {sig: _template_furniture(furniture, members) for sig, members in big.items()}
    votes, own_votes = _count_votes(samples, furniture, names, own_furniture)
    site = _site_rules(read, furniture, names, votes, evidence, one_template=len(groups) == 1)
    by_template = []
    for sig, members in sorted(big.items()):
        evidence.append(f"template {sig}: {len(members)} pages")
        by_template.append(
            _template_rules(
                sig, len(members), own_furniture[sig], own_votes[sig], read.texts_of, site, evidence
            )
        )
    return replace(site, evidence=tuple(evidence), by_template=tuple(by_template))


def learn_template(
    pages: Iterable[tuple[str, str]],
    site: SiteModel,
    signature: str,
    *,
    feed_dates: Mapping[str, str] | None = None,
    fetched_at: datetime | None = None,
) -> SiteModel | None:
    """Learn one template's own rules from a sample of its own pages, for ``site``.

    What :func:`learn_site` learns for a template that is big in its sample (its
    furniture on top of the site's, its own headline and date elements), for a template
    the site model's sample missed (a blog's archive pages, found late in a crawl): read
    from that template's pages only, with the site-wide furniture, site names, date order,
    CMS and shared images of ``site``. Pages of other templates in ``pages`` are skipped.

    Returns:
        The template's rules (``signature`` set), or ``None`` when fewer than a handful of
        its pages were given.
    """
    read = read_samples(pages, feed_dates, fetched_at, only=signature)
    members = read.samples
    if len(members) < _MIN_SAMPLE:
        return None
    furniture = _template_furniture(site.furniture, members)
    names = set(site.site_names)
    votes = new_votes()
    for sample in members:
        vote_title(sample, furniture, names, votes)
        vote_date(sample, furniture, votes)
    notes = [f"template {signature}: {len(members)} pages of its own"]
    rules = _template_rules(signature, len(members), furniture, votes, read.texts_of, site, notes)
    return replace(rules, evidence=tuple(notes))


def _learn_furniture(
    samples: list[Sample], evidence: list[str], *, share: float = 0.3
) -> frozenset[int]:
    document_frequency: Counter[int] = Counter()
    for sample in samples:
        document_frequency.update(sample.keys)
    threshold = max(MIN_FURNITURE_PAGES, math.ceil(share * len(samples)))
    # A repeated heading (h2–h6) that mostly opens prose of the page's own (prose that is
    # not itself repeated) is the post's section: "Final Thoughts", "Summary".
    leading: Counter[int] = Counter()
    for sample in samples:
        leading.update(
            heading
            for heading, prose in sample.leading.items()
            if document_frequency[prose] < threshold
        )
    furniture = frozenset(
        k for k, n in document_frequency.items() if n >= threshold and leading[k] < 0.5 * n
    )
    evidence.append(
        f"furniture: {len(furniture)} blocks seen on at least {threshold} of {len(samples)} pages"
    )
    return furniture


def _template_furniture(furniture: frozenset[int], members: list[Sample]) -> frozenset[int]:
    """A template's furniture: the site's ``furniture`` and, from enough of its own pages
    (``members``), its own.

    Within one template, furniture is on nearly every page: more than half of them. A
    template seen on few pages cannot tell its furniture from repeated content: it keeps
    the site-wide furniture only.
    """
    return furniture | (
        _learn_furniture(members, [], share=_TEMPLATE_SHARE)
        if len(members) >= _TEMPLATE_FURNITURE_PAGES
        else frozenset()
    )


def _count_votes(
    samples: list[Sample],
    furniture: frozenset[int],
    names: set[str],
    own_furniture: dict[str, frozenset[int]],
) -> tuple[Votes, dict[str, Votes]]:
    """The second pass: the site-wide votes, and each big template's own (the templates of
    ``own_furniture``, under their own furniture)."""
    votes = new_votes()
    own_votes = {sig: new_votes() for sig in own_furniture}
    for sample in samples:
        for text, key in sample.headings:
            if key in furniture:
                votes.heading_names.add(text)
        vote_title(sample, furniture, names, votes)
        vote_date(sample, furniture, votes)
        if sample.template in own_furniture:
            mine = own_votes[sample.template]
            vote_title(sample, own_furniture[sample.template], names, mine)
            vote_date(sample, own_furniture[sample.template], mine)
    return votes, own_votes


def _site_rules(
    read: SampleRead,
    furniture: frozenset[int],
    names: set[str],
    votes: Votes,
    evidence: list[str],
    *,
    one_template: bool,
) -> SiteModel:
    """The site-wide rules the votes give (no evidence or templates' rules set yet)."""
    count = len(read.samples)
    site_names = frozenset(names | votes.heading_names)
    if site_names:
        evidence.append("site names: " + ", ".join(sorted(site_names)[:5]))
    title_selector, title_agreement = pick_title(votes, evidence)
    date_selector, date_agreement, date_order = pick_date(votes, count, evidence)
    # With several templates the site-wide rules serve the rare ones: too few to tell.
    exclusive = one_template and date_is_exclusive(votes, date_selector, evidence)
    return SiteModel(
        pages_sampled=count,
        furniture=furniture,
        furniture_texts=_texts(furniture, read.texts_of),
        site_names=site_names,
        title_selector=title_selector,
        title_agreement=title_agreement,
        date_selector=date_selector,
        date_agreement=date_agreement,
        date_exclusive=exclusive,
        date_order=date_order,
        cms=_pick_cms(read.cms_votes, count, evidence),
        shared_images=_shared_images(read.og_images, count, evidence),
        templates=tuple(read.templates.most_common(20)),
    )


def _pick_cms(cms_votes: Counter[str], count: int, evidence: list[str]) -> str | None:
    cms = cms_votes.most_common(1)[0][0] if cms_votes else None
    if cms is not None and cms_votes[cms] < 0.3 * count:
        cms = None  # a few pages (a saved foreign page, a plugin's asset) name no CMS
    if cms:
        evidence.append(f"cms: {cms} on {cms_votes[cms]} of {count} pages")
    return cms


def _shared_images(og_images: Counter[str], count: int, evidence: list[str]) -> frozenset[str]:
    shared_images = frozenset(
        key
        for key, seen in og_images.items()
        if seen >= max(MIN_FURNITURE_PAGES, _FURNITURE_SHARE * count)
    )
    if shared_images:
        evidence.append(f"og:image shared by many pages (the site's card): {len(shared_images)}")
    return shared_images


def _template_rules(
    signature: str,
    pages: int,
    furniture: frozenset[int],
    votes: Votes,
    texts_of: dict[int, int],
    site: SiteModel,
    notes: list[str],
) -> SiteModel:
    """One template's rules from its own votes, with the site names, date order, CMS and
    shared images of ``site`` (no evidence set: what decided them is added to ``notes``)."""
    title, title_agreement = pick_title(votes, notes)
    date_selector, date_agreement, _ = pick_date(votes, pages, notes)
    exclusive = date_is_exclusive(votes, date_selector, notes)
    return SiteModel(
        signature=signature,
        pages_sampled=pages,
        furniture=furniture,
        furniture_texts=_texts(furniture, texts_of),
        site_names=site.site_names,
        title_selector=title,
        title_agreement=title_agreement,
        date_selector=date_selector,
        date_agreement=date_agreement,
        date_exclusive=exclusive,
        date_order=site.date_order,
        cms=site.cms,
        shared_images=site.shared_images,
    )


def _texts(furniture: frozenset[int], texts_of: dict[int, int]) -> frozenset[int]:
    """The text keys of the ``furniture`` blocks (``SiteModel.furniture_texts``)."""
    return frozenset(texts_of[k] for k in furniture if k in texts_of)


def model_summary(model: SiteModel) -> dict[str, Any]:
    """A short JSON-friendly view for ``--explain`` and the run report."""
    return {
        "fingerprint": model.model_fingerprint,
        "pages_sampled": model.pages_sampled,
        "furniture_blocks": len(model.furniture),
        "site_names": sorted(model.site_names)[:10],
        "title_selector": model.title_selector,
        "title_agreement": list(model.title_agreement),
        "date_selector": model.date_selector,
        "date_agreement": list(model.date_agreement),
        "date_order": model.date_order,
        "cms": model.cms,
        "templates": [list(t) for t in model.templates],
        "by_template": [
            {
                "signature": t.signature,
                "pages_sampled": t.pages_sampled,
                "title_selector": t.title_selector,
                "date_selector": t.date_selector,
                "furniture_blocks": len(t.furniture),
            }
            for t in model.by_template
        ],
        "evidence": list(model.evidence),
    }
