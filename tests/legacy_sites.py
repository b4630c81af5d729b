"""Small whole legacy blogs, written to a folder, for the site-model tests.

Each builder writes a static site the way its engine served it, with the traps real
blogs of that kind set for single-page extractors (issue #10):

- ``movable_type``: 2005-era Movable Type, ISO-8859-1; the blog's name in an ``h1`` on
  every page, the day in ``h2.date-header``, the headline in ``h3.entry-header``; "«
  Previous entry (date)" navigation; monthly archives holding several entries.
- ``wordpress_pl``: a WordPress 2.x custom theme in Polish; the blog's name in an ``h1``,
  the headline in an ``h2``, dates as "19.07.2009 r."; a footer "mini-blog" block with one
  fixed date on every page; "Zobacz także" and "Komentarze do wpisu" headings in every
  post; tag pages listing one or two posts.
- ``wordpress_ja``: WordPress 5.9 in Japanese; body classes; dates as "8月 13, 2020";
  ``<title>`` "短い見出し – サイト名"; day archives showing one post; posts reachable only
  through a prev/next chain longer than the old depth limit; a featured image
  (``wp-post-image``) on every third post, the site's card as ``og:image`` on every page.

Every builder returns the expected posts: ``{path: (title, published)}``, plus the set of
paths that are not posts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

__all__ = ["LegacySite", "club_cms", "movable_type", "wordpress_ja", "wordpress_pl"]


@dataclass
class LegacySite:
    root: Path
    start: str  # path of the start page
    posts: dict[str, tuple[str, str]] = field(default_factory=dict)  # path -> (title, date)
    others: set[str] = field(default_factory=set)  # paths of pages that are not posts
    encoding: str = "utf-8"

    def write(self, path: str, html: str) -> None:
        file = self.root / path.lstrip("/")
        if path.endswith("/"):
            file = file / "index.html"
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(html.encode(self.encoding))


_WORDS = (
    "river",
    "lantern",
    "orchard",
    "compass",
    "harbor",
    "meadow",
    "ember",
    "willow",
    "granite",
    "thistle",
    "falcon",
    "juniper",
    "cobalt",
    "saffron",
    "hollow",
    "quartz",
    "tundra",
    "velvet",
    "maple",
    "cinder",
)


def _sentence(seed: int, words: int = 14) -> str:
    picked = [_WORDS[(seed * 7 + i * 3) % len(_WORDS)] for i in range(words)]
    return " ".join(picked).capitalize() + f" number {seed}."


def _paragraphs(seed: int, count: int = 3) -> list[str]:
    return [" ".join(_sentence(seed * 10 + k + j) for j in range(4)) for k in range(count)]


# ------------------------------------------------------------------- Movable Type


_MT_MONTHS = "January February March April May June July August September October November December"


def _mt_day(day: date) -> str:
    weekdays = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()  # noqa: SIM905
    weekday = weekdays[day.weekday()]
    return f"{weekday}, {_MT_MONTHS.split()[day.month - 1]} {day.day:02d}, {day.year}"


def movable_type(root: Path, count: int = 24) -> LegacySite:
    """A Movable Type 3 blog: entries, monthly archives and a main index."""
    site = LegacySite(root=root, start="/", encoding="iso-8859-1")
    blog = "Café Notes"
    first = date(2005, 3, 1)
    entries = []
    for index in range(count):
        day = first + timedelta(days=index * 9)
        title = f"Entry about {_WORDS[index % len(_WORDS)]} {index}"
        if index % 5 == 0:
            title = f"Naïve café thoughts {index}"
        slug = f"/archives/{day:%Y/%m}/entry_{index:03d}.html"
        entries.append((slug, title, day))
    sidebar = "".join(
        f'<li><a href="/archives/{m:%Y/%m}/">{_MT_MONTHS.split()[m.month - 1]} {m.year}</a></li>'
        for m in sorted({date(d.year, d.month, 1) for _, _, d in entries})
    )

    def page(title: str, body: str) -> str:
        return (
            '<html><head><meta http-equiv="Content-Type" content="text/html; '
            'charset=iso-8859-1"><meta name="generator" content="Movable Type 3.2">'
            f"<title>{blog}: {title}</title>"
            '<link rel="alternate" type="application/atom+xml" href="/atom.xml"></head>'
            '<body class="layout-two-column-right"><div id="container">'
            f'<div id="banner"><h1 id="banner-header"><a href="/">{blog}</a></h1>'
            '<h2 id="banner-description">Small notes from a small kitchen</h2></div>'
            f'<div id="center"><div class="content">{body}</div></div>'
            '<div id="right"><div class="sidebar"><h2>Archives</h2>'
            f"<ul>{sidebar}</ul><h2>About</h2><p>Written by a cook who likes "
            "old software and older recipes, since 2005.</p></div></div>"
            '<div id="footer">Powered by Movable Type. All content (c) the author.</div>'
            "</div></body></html>"
        )

    def entry_html(slug: str, title: str, day: date, *, linked: bool) -> str:
        headline = f'<a href="{slug}">{title}</a>' if linked else title
        paras = "".join(f"<p>{p}</p>" for p in _paragraphs(len(title) + day.day))
        return (
            f'<h2 class="date-header">{_mt_day(day)}</h2><div class="entry">'
            f'<h3 class="entry-header">{headline}</h3><div class="entry-content">'
            f'<div class="entry-body">{paras}</div></div>'
            f'<p class="entry-footer"><span class="post-footers">Posted by Ann at '
            f'<a href="{slug}">10:12 AM</a></span></p></div>'
        )

    for index, (slug, title, day) in enumerate(entries):
        nav = []
        if index > 0:
            prev_slug, prev_title, prev_day = entries[index - 1]
            nav.append(f'<a href="{prev_slug}">« {prev_title} ({prev_day:%B %d, %Y})</a>')
        nav.append('<a href="/">Main</a>')
        if index + 1 < len(entries):
            next_slug, next_title, next_day = entries[index + 1]
            nav.append(f'<a href="{next_slug}">{next_title} ({next_day:%B %d, %Y}) »</a>')
        body = f'<p class="content-nav">{" | ".join(nav)}</p>' + entry_html(
            slug, title, day, linked=False
        )
        site.write(slug, page(title, body))
        site.posts[slug] = (title, day.isoformat())
    months: dict[date, list[tuple[str, str, date]]] = {}
    for entry in entries:
        months.setdefault(date(entry[2].year, entry[2].month, 1), []).append(entry)
    for month, items in months.items():
        path = f"/archives/{month:%Y/%m}/"
        body = "".join(entry_html(*item, linked=True) for item in items)
        site.write(path, page(f"{month:%B %Y} Archives", body))
        site.others.add(path)
    latest = "".join(entry_html(*item, linked=True) for item in reversed(entries[-6:]))
    site.write("/", page("Main", latest))
    site.others.add("/")
    return site


# ------------------------------------------------------------- WordPress 2.x, Polish


def wordpress_pl(root: Path, count: int = 20) -> LegacySite:
    """A Polish WordPress 2.x blog with a custom theme (no body classes)."""
    site = LegacySite(root=root, start="/")
    blog = "Notatnik Wędrowca"
    first = date(2007, 5, 2)
    posts = []
    tags = ["góry", "rower", "miasto", "kuchnia", "zdjęcia", "zima", "lato"]
    for index in range(count):
        day = first + timedelta(days=index * 23)
        title = f"Wycieczka {index}: {_WORDS[index % len(_WORDS)]} i okolice"
        posts.append((f"/{day:%Y/%m}/wycieczka-{index}/", title, day, tags[index % len(tags)]))
    recent = "".join(f'<li><a href="{p[0]}">{p[1]}</a></li>' for p in posts[-5:])
    mini = (
        '<div id="miniblog"><h3>Mini-blog</h3><p class="mini-date">03.01.2009 r.</p>'
        "<p>Wróciliśmy z gór, nowe zdjęcia już wkrótce. Pozdrawiamy wszystkich "
        "czytelników i zapraszamy do komentowania wpisów na blogu.</p></div>"
    )

    def page(title: str, body: str) -> str:
        return (
            '<html><head><meta charset="utf-8">'
            f"<title>{blog} » {title}</title>"
            '<meta name="generator" content="WordPress 2.7"></head><body>'
            f'<div id="header"><h1><a href="/">{blog}</a></h1>'
            '<p class="desc">Blog o podróżach</p></div>'
            f'<div id="content">{body}</div>'
            f'<div id="sidebar"><h3>Ostatnie wpisy</h3><ul>{recent}</ul></div>'
            f'<div id="footer">{mini}<p>Copyright 2007-2009 {blog}</p></div>'
            "</body></html>"
        )

    def post_html(path: str, title: str, day: date, tag: str, *, full: bool) -> str:
        heading = f'<h2><a href="{path}" rel="bookmark">{title}</a></h2>'
        meta = (
            f'<p class="postmetadata">{day:%d.%m.%Y} r. | '
            f'<a href="/tag/{tag}/" rel="tag">{tag}</a></p>'
        )
        text = "".join(f"<p>{p}</p>" for p in _paragraphs(day.day + len(title)))
        if not full:
            return f'<div class="post">{heading}{meta}{text[:400]}</div>'
        related = "".join(
            f'<li><a href="{p[0]}">{p[1]}</a></li>' for p in posts[:3] if p[0] != path
        )
        return (
            f'<div class="post">{heading}{meta}<div class="entry">{text}'
            f'<h3>Zobacz także</h3><ul class="related">{related}</ul></div>'
            '<h3 id="comments">Komentarze do wpisu</h3><div class="comment">'
            f"<p>Świetny wpis! Byłem tam w {day.year - 1} roku i pamiętam te same widoki, "
            f"to był piękny czas dla wszystkich, komentarz numer {day.day}.</p></div></div>"
        )

    for path, title, day, tag in posts:
        site.write(path, page(title, post_html(path, title, day, tag, full=True)))
        site.posts[path] = (title, day.isoformat())
    for tag in tags:
        tagged = [p for p in posts if p[3] == tag]
        path = f"/tag/{tag}/"
        body = f'<h2 class="pagetitle">Wpisy z tagiem {tag}</h2>' + "".join(
            post_html(*p, full=False) for p in tagged
        )
        site.write(path, page(f"Tag {tag}", body))
        site.others.add(path)
    home = "".join(post_html(*p, full=False) for p in reversed(posts[-5:]))
    home += "".join(f'<a href="{p[0]}"></a>' for p in posts)
    home += "".join(f'<a href="/tag/{t}/"></a>' for t in tags)
    site.write("/", page("Strona główna", home))
    site.others.add("/")
    return site


# ------------------------------------------------------------- WordPress 5.9, Japanese


def wordpress_ja(root: Path, count: int = 70) -> LegacySite:
    """A Japanese WordPress 5.9 blog whose posts hang off one prev/next chain."""
    site = LegacySite(root=root, start="/")
    blog = "旅と暮らしのノート"
    first = date(2020, 1, 5)
    posts = []
    for index in range(count):
        day = first + timedelta(days=index * 5)
        title = f"散歩{index}"  # short headlines: shorter than the site's name
        posts.append((f"/{day:%Y/%m/%d}/post-{index}/", title, day))

    def page(title: str, body_class: str, body: str) -> str:
        return (
            '<html lang="ja"><head><meta charset="UTF-8">'
            f"<title>{title} &#8211; {blog}</title>"
            '<meta property="og:image" content="https://s0.example/wp-content/card.png">'
            '<meta name="generator" content="WordPress 5.9.3"></head>'
            f'<body class="{body_class}"><header id="masthead" class="site-header">'
            f'<p class="site-title"><a href="/">{blog}</a></p></header>'
            f'<main id="main" class="site-main">{body}</main>'
            '<footer id="colophon" class="site-footer"><p>Proudly powered by WordPress</p>'
            "</footer></body></html>"
        )

    def article(path: str, title: str, day: date, *, single: bool) -> str:
        when = f"{day.month}月 {day.day}, {day.year}"
        heading = (
            f'<h1 class="entry-title">{title}</h1>'
            if single
            else f'<h2 class="entry-title"><a href="{path}">{title}</a></h2>'
        )
        text = "".join(f"<p>{p}</p>" for p in _paragraphs(day.day + day.month))
        thumbnail = (
            '<figure class="post-thumbnail"><img width="1568" height="882" '
            f'src="/wp-content/uploads/{day:%Y/%m}/{path.strip("/").replace("/", "-")}.jpg" '
            'class="attachment-post-thumbnail size-post-thumbnail wp-post-image" '
            f'alt="{title}の写真"></figure>'
            if single and featured(path)
            else ""
        )
        return (
            f'<article class="post type-post status-publish hentry"><header class="entry-header">'
            f'{heading}<span class="posted-on">{when}</span>'
            '<img alt="" src="/avatar/ken.png" class="avatar avatar-48" width="48" height="48">'
            f"</header>{thumbnail}"
            f'<div class="entry-content">{text}</div></article>'
        )

    split = 3  # this post is split over three URLs with <!--nextpage-->

    def featured(path: str) -> bool:
        return [p[0] for p in posts].index(path) % 3 == 0

    def part_links(path: str, current: int) -> str:
        links = "".join(
            f'<span class="post-page-numbers current">{n}</span>'
            if n == current
            else f'<a href="{path}{"" if n == 1 else f"{n}/"}" class="post-page-numbers">{n}</a>'
            for n in (1, 2, 3)
        )
        return f'<div class="page-links">ページ: {links}</div>'

    for index, (path, title, day) in enumerate(posts):
        nav = '<nav class="navigation post-navigation"><div class="nav-links">'
        if index > 0:
            nav += f'<a href="{posts[index - 1][0]}" rel="prev">前の投稿</a>'
        if index + 1 < len(posts):
            nav += f'<a href="{posts[index + 1][0]}" rel="next">次の投稿</a>'
        nav += "</div></nav>"
        body = article(path, title, day, single=True) + nav
        classes = (
            f"post-template-default single single-post postid-{100 + index} single-format-standard"
        )
        if index == split:
            body = body.replace("</article>", part_links(path, 1) + "</article>")
            for number in (2, 3):
                part = (
                    f'<article class="post type-post hentry"><header class="entry-header">'
                    f'<h1 class="entry-title">{title}</h1></header><div class="entry-content">'
                    f"<h2>第{number}部</h2><p>{_paragraphs(number * 31)[0]}</p>"
                    f"{part_links(path, number)}</div></article>"
                )
                site.write(
                    f"{path}{number}/",
                    page(title, f"{classes} paged-{number} single-paged-{number}", part),
                )
                site.others.add(f"{path}{number}/")
        site.write(path, page(title, classes, body))
        site.posts[path] = (title, day.isoformat())
        archive = f"/{day:%Y/%m/%d}/"
        site.write(
            archive,
            page(
                f"{day.year}年{day.month}月{day.day}日",
                "archive date",
                article(path, title, day, single=False),
            ),
        )
        site.others.add(archive)
    # The home page shows the first post only: the rest hang off its prev/next chain.
    home = article(*posts[0], single=False) + "".join(
        f'<a href="/{d:%Y/%m/%d}/">{d}</a>' for _, _, d in posts[:3]
    )
    site.write("/", page("ホーム", "home blog", home))
    site.others.add("/")
    return site


# ------------------------------------------------- a club's custom CMS (Bootstrap 3, Russian)


def club_cms(root: Path, count: int = 45, events: int = 3) -> LegacySite:
    """A club site whose news section is the blog: a custom Django CMS on Bootstrap 3.

    No ``h1``; the headline is an ``h2`` holding, after a ``<br>``, a ``<small>`` line
    "Опубликовано: 20.02.2017, 21:16 | author". The narrow ``col-md-4`` column beside
    ``col-md-8`` is the sidebar, though nothing calls it so: a login form, and "Новые
    материалы" whose items put a type label link ("Отчет похода", also in the menu) and a
    date before the linked title. Event pages (``/party/N``) show start and end dates and
    are not posts; static pages show only the sidebar's dates; tag pages list one post.
    As on the real site, events are few beside the news (15 of 396 there).
    """
    site = LegacySite(root=root, start="/")
    first = date(2016, 3, 14)
    posts = []
    for index in range(count):
        day = first + timedelta(days=index * 17)
        title = f"Новость {index}: {_WORDS[index % len(_WORDS)]} {day.year}"
        posts.append((f"/blog/{index + 1}", title, day, index % 4))
    materials = [
        (f"/materials/{70 + n}", f"Отчет о походе {n} по горам Кавказа и Крыма") for n in range(5)
    ]
    side = (
        '<div class="col-md-12"><div id="login-form"><p><strong>Вход в профиль</strong></p>'
        '<form method="post" action="/login/"><input name="username">'
        '<button type="submit">Войдите</button><a href="/register/"> или зарегистрируйтесь</a>'
        '</form></div></div><div class="col-md-12"><p align="center"><strong>Новые материалы'
        "</strong></p>"
        + "".join(
            '<div class="media"><div class="media-body">'
            f'<a href="/report/">Отчет похода</a> - {10 + n} Авг. 2021<br>'
            f'<a href="{url}"><p> {label}</p></a></div></div><hr>'
            for n, (url, label) in enumerate(materials)
        )
        + "</div>"
    )
    menu = (
        '<ul class="list-inline topmenu"><li><a href="/party/">Мероприятия</a></li>'
        '<li><a href="/report/">Отчеты походов</a></li><li><a href="/doc/">Документы</a></li>'
        '<li><a href="/blog/">Новости</a></li></ul>'
    )

    def page(title: str, main: str) -> str:
        return (
            '<!DOCTYPE html><html lang="ru"><head><meta charset="utf-8">'
            f"<title>{title} | Турклуб Романтик</title>"
            '<meta property="og:title" content="Турклуб Романтик - походы и не только!">'
            f'</head><body><div class="menu-list">{menu}</div><div class="container">'
            f'<div class="row"><div class="col-md-8">{main}</div>'
            f'<div class="col-md-4 hidden-print">{side}</div></div></div>'
            "<footer><p>© Турклуб «Романтик», Одесса</p></footer></body></html>"
        )

    def crumbs(*names: str) -> str:
        items = '<li><a href="/">Главная</a></li>' + "".join(f"<li>{n}</li>" for n in names)
        return f'<ol class="breadcrumb">{items}</ol>'

    for number, (path, title, day, tag) in enumerate(posts):
        text = "".join(f"<p>{p}</p>" for p in _paragraphs(day.day + number))
        main = (
            crumbs('<a href="/blog/">Новости</a>', title)
            + f'<div class="col-md-12" align="center"><h2>{title}<br><small>Опубликовано: '
            f"{day:%d.%m.%Y}, 21:{10 + number % 40} | Иван Петров</small></h2></div>"
            f'<div class="body">{text}</div><p>Теги : <a href="/blog/category/{tag}">'
            f'<span class="label">Тема {tag}</span></a></p>'
        )
        site.write(path + "/", page(title, main))
        site.posts[path + "/"] = (title, day.isoformat())  # served as a folder
    for tag in range(4):
        # The first page of a tag shows the latest post of it: one date, one headline.
        path, title, day, _ = [p for p in posts if p[3] == tag][-1]
        main = (
            crumbs("Тема") + f'<div class="panel"><h2><a href="{path}">{title}</a></h2>'
            f"<h4><small>{day:%d.%m.%Y}</small></h4><p>{_sentence(tag)}</p></div>"
        )
        site.write(f"/blog/category/{tag}/", page(f"Тема {tag}", main))
        site.others.add(f"/blog/category/{tag}/")
    for number in range(events):
        start = first + timedelta(days=number * 61)
        main = (
            f'<div class="left"><h3>Весенний слет {number}</h3>'
            f"<p>Начало - {start:%d.%m.%Y} в 10:00</p>"
            f"<p>Конец - {start + timedelta(days=1):%d.%m.%Y} в 16:00</p>"
            f"<p>{_sentence(number + 50, 30)}</p></div>"
        )
        site.write(f"/party/{number + 1}/", page(f"Мероприятие - слет {number}", main))
        site.others.add(f"/party/{number + 1}/")
    for path, name in (("/doc/", "Документы"), ("/report/", "Отчеты"), ("/party/", "Мероприятия")):
        main = crumbs(name) + "".join(f"<p>{p}</p>" for p in _paragraphs(len(name)))
        main += "".join(f'<p><a href="/party/{n + 1}">Слет {n}</a></p>' for n in range(events))
        site.write(path, page(name, main))
        site.others.add(path)
    for url, label in materials:
        site.write(url + "/", page(label, f"<h3>{label}</h3><p>{_sentence(len(label), 40)}</p>"))
        site.others.add(url + "/")
    site.write("/register/", page("Регистрация", "<p>Регистрация участника клуба.</p>"))
    site.others.add("/register/")
    listing = "".join(
        f'<div class="panel"><h2><a href="{p}">{t}</a></h2><h4><small>{d:%d.%m.%Y}</small>'
        f"</h4><p>{_sentence(d.day)}</p></div>"
        for p, t, d, _ in reversed(posts)
    )
    site.write("/blog/", page("Новости", crumbs("Новости") + listing))
    site.others.add("/blog/")
    site.write("/", page("Главная", listing[:4000]))
    site.others.add("/")
    return site
