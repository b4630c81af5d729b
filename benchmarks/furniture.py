"""Theme furniture for the realistic benchmark blog: what real themes wrap around a post.

``benchmarks/sitegen.py --realistic`` passes every page it writes through :func:`dress`,
which adds, per theme generation, the weight real blog pages carry around their content
(checked against ``../shared/corpus``, see ``BENCHMARKS.md``): ``<head>`` meta tags,
preloads and a block of inline CSS; an inline SVG icon sprite; a mega menu of a hundred
links; a search form, tag cloud, archives by month, recent posts and recent comments
(undated), a newsletter form and an ad slot in the sidebar; share buttons with icons; a
comment form under posts; a footer of link columns; a cookie banner and analytics, consent
and theme scripts (inline and external). The furniture holds no other part of a page's
ground truth: no ``h1``, no dated links in the sidebar, no date in the header, no element
whose class names a breadcrumb, nothing inside the article's body. The one widget that is
sidebar links (undated, like a real blog's Recent or Popular Posts) is "Recent Posts", and
``sitegen.post_expected`` lists it. Only the stdlib; deterministic (the page path seeds
the few per-page parts).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence

ICONS = (
    "search", "menu", "close", "facebook", "twitter", "instagram", "pinterest", "youtube",
    "rss", "mail", "arrow-right", "arrow-left", "chevron-down", "heart", "comment", "share",
    "bookmark", "print", "link", "user", "calendar", "tag", "folder", "home",
)  # fmt: skip
MENU = {
    "Start Here": ("New to Calm Harbor", "Our Story", "Reading Lists", "Glossary", "FAQ"),
    "Topics": (
        "Low Mood",
        "Worry",
        "Panic",
        "Sleep Hygiene",
        "Insomnia",
        "Breathing",
        "Meditation",
        "Boundaries",
        "Loneliness",
        "Burnout",
        "Rest",
        "Journaling",
        "Nutrition",
        "Movement",
        "Screens",
        "Stress at Work",
        "Grief",
        "Parenting",
        "Students",
        "Shift Work",
        "Seasons",
        "Self-Compassion",
    ),
    "Guides": (
        "A Calmer Morning",
        "Sleep Reset in Seven Days",
        "Worry Time",
        "Five-Minute Breaks",
        "Talking to Your Doctor",
        "Finding a Therapist",
        "Supporting a Friend",
        "Digital Detox",
        "Kind Self-Talk",
        "Rest Without Guilt",
    ),
    "Resources": (
        "Crisis Lines",
        "Printable Worksheets",
        "Podcast",
        "Newsletter Archive",
        "Recommended Books",
        "Apps We Like",
        "Research Notes",
        "Videos",
    ),
    "Community": ("Forum", "Events", "Write for Us", "Reader Stories", "Volunteer"),
}
TAGS = (
    "anxiety", "apps", "autumn", "balance", "books", "breathing", "burnout", "caffeine",
    "calm", "children", "coffee", "commute", "courage", "dreams", "evenings", "exercise",
    "family", "focus", "food", "friends", "gratitude", "habits", "holidays", "hope",
    "journaling", "kindness", "mornings", "music", "nature", "news", "office", "parents",
    "patience", "phones", "podcasts", "rain", "reading", "rest", "routine", "running",
    "school", "silence", "sleep", "spring", "stress", "summer", "tea", "therapy", "travel",
    "walking", "winter", "work", "worry", "yoga",
)  # fmt: skip
MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
CSS_RULES = (
    "margin:0;padding:0", "display:flex;align-items:center;justify-content:space-between",
    "font:400 1rem/1.6 var(--font-body);color:var(--ink)", "border-bottom:1px solid #e5e5e5",
    "position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)",
    "transition:opacity .2s ease-in-out,transform .2s ease-in-out", "max-width:72rem;margin:0 auto",
    "background:var(--paper);box-shadow:0 1px 3px rgba(0,0,0,.12)", "list-style:none;gap:.75rem",
)  # fmt: skip
SELECTOR_PARTS = (
    ".site-header", ".main-nav", ".mega-menu", ".widget", ".tag-cloud", ".post-content",
    ".share", ".comment-form", ".site-footer", ".cookie-banner", ".icon", ".btn", ".grid",
    ".card", ".newsletter", ".search-form", "a:hover", "li", "ul", "p", "img", "svg",
)  # fmt: skip


def _svg_path(rng: random.Random, points: int) -> str:
    parts = [f"M{rng.uniform(0, 24):.3f} {rng.uniform(0, 24):.3f}"]
    for _ in range(points):
        cmd = rng.choice("LCQ")
        count = {"L": 1, "C": 3, "Q": 2}[cmd]
        coords = " ".join(
            f"{rng.uniform(0, 24):.3f} {rng.uniform(0, 24):.3f}" for _ in range(count)
        )
        parts.append(f"{cmd}{coords}")
    return "".join(parts) + "z"


def _sprite(theme: str) -> str:
    """The icon sprite: none in the 2012 theme (image sprites then), small in 2016."""
    if theme == "2012":
        return ""
    rng = random.Random(f"sprite:{theme}")
    paths = 1 if theme == "2016" else 2
    symbols = "".join(
        f'<symbol id="icon-{name}" viewBox="0 0 24 24"><title>{name}</title>'
        + "".join(f'<path d="{_svg_path(rng, rng.randint(6, 14))}"/>' for _ in range(paths))
        + "</symbol>"
        for name in ICONS
    )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" style="position:absolute;width:0;height:0;'
        f'overflow:hidden" aria-hidden="true"><defs>{symbols}</defs></svg>'
    )


def _icon(name: str) -> str:
    return f'<svg class="icon icon-{name}" aria-hidden="true"><use href="#icon-{name}"></use></svg>'


def _css(theme: str, rules: int) -> str:
    rng = random.Random(f"css:{theme}")
    body = "".join(
        f"{', '.join(rng.sample(SELECTOR_PARTS, 2))} .{theme}-{n}{{{rng.choice(CSS_RULES)}}}"
        for n in range(rules)
    )
    return f'<style id="theme-inline-css">:root{{--ink:#222;--paper:#fff}}{body}</style>'


def _script(name: str, rng: random.Random, statements: int) -> str:
    lines = [f"window.{name}=window.{name}||{{}};"]
    for n in range(statements):
        key = hashlib.md5(f"{name}{n}".encode()).hexdigest()[:10]
        limit = rng.randint(1, 99)
        lines.append(
            f'{name}.q{n}=function(e){{var t=document.querySelectorAll("[data-{key}]");'
            f"for(var i=0;i<t.length;i++){{t[i].classList.toggle('is-{key}',e>{limit})}}}};"
        )
    return "<script>" + "".join(lines) + "</script>"


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


def _mega_menu(theme: str) -> str:
    columns = []
    for title, items in MENU.items():
        links = "".join(
            f'<li class="menu-item"><a href="/blog/?topic={_slug(item)}">{item}</a></li>'
            for item in items
        )
        columns.append(
            f'<li class="menu-item has-children"><a href="/blog/" aria-haspopup="true">{title}'
            f'{_icon("chevron-down")}</a><ul class="sub-menu">{links}</ul></li>'
        )
    return (
        f'<nav class="mega-menu mega-{theme}" aria-label="Topics">'
        f'<button class="menu-toggle" aria-expanded="false">{_icon("menu")}'
        f'<span class="screen-reader-text">Menu</span></button>'
        f'<ul class="mega-list">{"".join(columns)}</ul></nav>'
    )


def _widget(theme: str, title: str, inner: str, css: str) -> str:
    if theme == "2012":
        return f'<div class="sidebox {css}"><h3>{title}</h3>{inner}</div>'
    return f'<section class="widget {css}"><h2 class="widget-title">{title}</h2>{inner}</section>'


def _widgets(theme: str, recent: Sequence[tuple[str, str]]) -> str:
    rng = random.Random(f"widgets:{theme}")
    search = (
        '<form role="search" method="get" class="search-form" action="/">'
        '<label><span class="screen-reader-text">Search for:</span>'
        '<input type="search" class="search-field" placeholder="Search &hellip;" name="s">'
        f'</label><button type="submit" class="search-submit">{_icon("search")}</button></form>'
    )
    cloud = "".join(
        f'<a href="/blog/?tag={tag}" class="tag-cloud-link" style="font-size:'
        f'{rng.uniform(8, 22):.1f}pt" aria-label="{tag} ({rng.randint(2, 90)} items)">{tag}</a> '
        for tag in TAGS
    )
    archives = "".join(
        f'<li><a href="/blog/?m={year}{month:02d}">{MONTHS[month - 1]} {year}</a>'
        f"&nbsp;({rng.randint(3, 30)})</li>"
        for year in range(2024, 2020, -1)
        for month in range(12, 0, -1)
    )
    recent_items = "".join(f'<li><a href="{href}">{label}</a></li>' for label, href in recent)
    people = ("Maria", "Tom", "Aisha", "Jonas", "Priya")
    comments = "".join(
        f'<li class="recentcomments"><span class="comment-author-link">{name}</span> on '
        f'<a href="{href}#comments">{label}</a></li>'
        for name, (label, href) in zip(people, recent, strict=False)
    )
    newsletter = (
        '<p class="newsletter-pitch">One calm email a week: new posts, one exercise, no spam. '
        "Unsubscribe whenever you like.</p>"
        '<form class="newsletter-form" action="https://lists.example.org/subscribe" method="post">'
        '<input type="email" name="EMAIL" placeholder="Your email" required>'
        '<input type="hidden" name="list" value="calm-harbor-weekly">'
        '<button type="submit" class="btn">Subscribe</button></form>'
    )
    ad = (
        '<div class="ad-slot" data-ad-client="ca-pub-0000000000" data-ad-slot="1234567890" '
        'style="min-height:250px"><ins class="adsbygoogle" style="display:block"></ins>'
        "<script>(adsbygoogle=window.adsbygoogle||[]).push({});</script></div>"
    )
    parts = [
        _widget(theme, "Search", search, "widget_search"),
        _widget(theme, "Recent Posts", f"<ul>{recent_items}</ul>", "widget_recent"),
        _widget(theme, "Recent Comments", f"<ul>{comments}</ul>", "widget_comments"),
        _widget(theme, "Tags", f'<div class="tag-cloud">{cloud}</div>', "widget_tags"),
        _widget(theme, "Archives", f"<ul>{archives}</ul>", "widget_archive"),
        _widget(theme, "Newsletter", newsletter, "widget_newsletter"),
        _widget(theme, "Advertisement", ad, "widget_ad"),
    ]
    if theme == "2012":
        blogroll = "".join(
            f'<li><a href="https://{_slug(name)}.example.net/">{name}</a></li>'
            for name in (
                "Quiet Minds",
                "The Sleep Lab",
                "Walk It Off",
                "Gentle Days",
                "Mood Diaries",
                "Open Door Collective",
                "Slow Living Notes",
                "Breathe Easy",
            )
        )
        parts.append(_widget(theme, "Blogroll", f"<ul>{blogroll}</ul>", "widget_links"))
    return "".join(parts)


def _footer_columns(theme: str) -> str:
    groups = {
        "About": ("Our Story", "Team", "Editorial Policy", "Press", "Jobs"),
        "Help": ("Crisis Lines", "Contact", "Accessibility", "Report a Problem"),
        "Legal": ("Privacy Policy", "Cookie Policy", "Terms of Use", "Disclaimer"),
        "Follow": ("Facebook", "Twitter", "Instagram", "YouTube", "RSS"),
    }
    cols = "".join(
        f'<div class="footer-col"><h4 class="footer-title">{title}</h4><ul>'
        + "".join(f'<li><a href="/about/#{_slug(item)}">{item}</a></li>' for item in items)
        + "</ul></div>"
        for title, items in groups.items()
    )
    social = "".join(
        f'<a class="social-link" href="https://{name}.com/calmharbor" aria-label="{name}">'
        f"{_icon(name)}</a>"
        for name in ("facebook", "twitter", "instagram", "pinterest", "youtube", "rss")
    )
    return (
        f'<div class="footer-widgets footer-{theme}">{cols}'
        '<div class="footer-col footer-about"><p>Calm Harbor is a reader-supported project. '
        "We do not give medical advice; if you are in crisis, call your local emergency "
        f'number.</p><div class="social">{social}</div></div></div>'
    )


def _share(path: str) -> str:
    links = "".join(
        f'<a class="share-{name}" href="https://{name}.example.com/share?u={path}" '
        f'rel="nofollow noopener" target="_blank">{_icon(name)}<span>{name.title()}</span></a>'
        for name in ("facebook", "twitter", "pinterest", "mail", "print")
    )
    return f'<div class="share-buttons" data-url="{path}">{links}</div>'


def _comment_form(path: str, key: int) -> str:
    return (
        f'<div id="respond-form" class="comment-respond">'
        f'<form action="/comments/post/" method="post" id="commentform" class="comment-form">'
        '<p class="comment-notes">Your email address will not be published. Required fields '
        "are marked *</p>"
        '<p class="comment-form-comment"><label for="comment">Comment *</label>'
        '<textarea id="comment" name="comment" cols="45" rows="8" required></textarea></p>'
        '<p class="comment-form-author"><label for="author">Name *</label>'
        '<input id="author" name="author" type="text" size="30" required></p>'
        '<p class="comment-form-email"><label for="email">Email *</label>'
        '<input id="email" name="email" type="email" size="30" required></p>'
        '<p class="comment-form-url"><label for="url">Website</label>'
        '<input id="url" name="url" type="url" size="30"></p>'
        '<p class="comment-form-cookies-consent"><input id="consent" name="consent" '
        'type="checkbox" value="yes"><label for="consent">Save my name and email in this '
        "browser for the next time I comment.</label></p>"
        '<p class="form-submit"><input name="submit" type="submit" class="submit" '
        f'value="Post Comment"><input type="hidden" name="comment_post_ID" value="{key}">'
        f'<input type="hidden" name="redirect_to" value="{path}"></p></form></div>'
    )


def _head(theme: str, path: str, key: int) -> str:
    metas = (
        f'<meta name="generator" content="Harbor CMS {theme}.4">\n'
        '<meta name="theme-color" content="#2d6a8a">\n'
        '<meta property="og:site_name" content="Calm Harbor">\n'
        f'<meta property="og:url" content="{path}">\n'
        '<meta name="twitter:card" content="summary_large_image">\n'
        '<link rel="preconnect" href="https://fonts.example.com" crossorigin>\n'
        '<link rel="preload" href="/assets/fonts/body.woff2" as="font" crossorigin>\n'
        f'<link rel="stylesheet" href="/assets/css/theme-{theme}.css?ver=4.2" media="all">\n'
        '<link rel="stylesheet" href="/assets/css/blocks.css?ver=4.2" media="all">\n'
        '<link rel="icon" href="/assets/img/icon-32.png" sizes="32x32">\n'
        '<link rel="alternate" type="application/rss+xml" title="Calm Harbor &raquo; Feed" '
        'href="/feed/">\n'
    )
    rules = {"2012": 30, "2016": 70, "2019": 120}[theme]
    rng = random.Random(f"head:{theme}")
    config = (
        '<script id="theme-config">var harborConfig={"ajaxUrl":"/api/","postId":'
        f'{key},"nonce":"{hashlib.sha1(path.encode()).hexdigest()[:10]}",'
        '"i18n":{"close":"Close","menu":"Menu","search":"Search"}};</script>\n'
    )
    return metas + _css(theme, rules) + "\n" + config + _script("harborEmoji", rng, 12) + "\n"


def _tail(theme: str) -> str:
    rng = random.Random(f"tail:{theme}")
    statements = {"2012": 40, "2016": 25, "2019": 30}[theme]
    cookie = (
        '<div class="cookie-banner" role="dialog" aria-live="polite"><p>We use cookies to '
        'understand how the site is read. <a href="/about/#cookie-policy">Learn more</a></p>'
        '<button class="btn cookie-accept">Accept</button>'
        '<button class="btn cookie-decline">Decline</button></div>'
    )
    scripts = (
        '<script src="/assets/js/jquery.min.js?ver=3.7.1"></script>'
        f'<script src="/assets/js/theme-{theme}.js?ver=4.2" defer></script>'
        '<script async src="https://analytics.example.com/tag.js?id=UA-000000-1"></script>'
        "<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}"
        "gtag('js',new Date());gtag('config','UA-000000-1',{anonymize_ip:true});</script>"
    )
    return cookie + scripts + _script("harborTheme", rng, statements)


def dress(
    page: str,
    *,
    theme: str,
    path: str,
    header: str,
    sidebar_anchor: str,
    footer: str,
    recent: Sequence[tuple[str, str]],
    is_post: bool,
) -> str:
    """Add the theme's furniture to one rendered page.

    Args:
        page: the page as ``sitegen`` renders it.
        theme: "2012", "2016" or "2019".
        path: the page's root-relative path (seeds the per-page parts).
        header: the exact header HTML in ``page``; the mega menu goes right after it.
        sidebar_anchor: the exact categories-widget HTML; the other widgets follow it
            (absent on pages without a sidebar).
        footer: the exact footer HTML; link columns and the scripts follow it.
        recent: ``(title, path)`` of the site's newest posts (the undated widget).
        is_post: add share buttons and a comment form.

    Returns:
        The dressed page.
    """
    key = int(hashlib.sha1(path.encode()).hexdigest()[:6], 16)
    page = page.replace("</head>", _head(theme, path, key) + "</head>", 1)
    body_at = page.index("<body")
    body_end = page.index(">", body_at) + 1
    page = page[:body_end] + "\n" + _sprite(theme) + page[body_end:]
    page = page.replace(header, header + _mega_menu(theme), 1)
    if sidebar_anchor in page:
        page = page.replace(sidebar_anchor, sidebar_anchor + _widgets(theme, recent), 1)
    if is_post:
        extra = _share(path) + _comment_form(path, key)
        marker = footer if theme == "2012" else "</main>"
        page = page.replace(marker, extra + marker, 1)
    return page.replace(footer, footer + _footer_columns(theme) + _tail(theme), 1)
