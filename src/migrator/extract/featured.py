"""The featured image: the picture a post shows at its head (and in social previews).

Layers, first found wins: the config selector; JSON-LD ``image`` of the article; the
theme's post-thumbnail markup in the post's header (WordPress ``wp-post-image``,
``post-thumbnail``, ``featured-image`` and the like); ``og:image`` / ``twitter:image``
unless the site shows that same image on most of its pages (the site model's
``shared_images``: a logo or a default card is not this post's picture). Logos, icons,
avatars, spacers and ``data:`` URIs never qualify. Reads the tree only.
"""

from __future__ import annotations

import re
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode

from migrator.config import ExtractConfig
from migrator.extract.links import absolute_url
from migrator.extract.markers import FEATURED_WIDGET_WORDS, marked_ancestor
from migrator.extract.nodes import select_safely
from migrator.extract.structured import Structured
from migrator.models import Image, SiteModel

__all__ = ["find_featured_image", "image_key"]

_THEME = (
    "img.wp-post-image, .post-thumbnail img, .featured-image img, .entry-featured-image img, "
    ".post-featured-image img, .featured-media img, figure.post-image img, .entry-thumbnail img, "
    ".post-header img, .entry-header img, .article-header img, [itemprop=image] img, "
    "img[itemprop=image]"
)
_NOT_A_PICTURE = re.compile(
    r"logo|icon|avatar|gravatar|sprite|spacer|blank\.gif|pixel|badge|emoji|smiley|banner-ad",
    re.I,
)
_WIDGET_TAGS = frozenset({"aside", "nav", "footer"})
_SMALL = 64  # px: an image declared this small is decoration


def image_key(src: str) -> str:
    """How an image URL is compared across pages: scheme, query and case ignored."""
    return src.split("://", 1)[-1].split("?", 1)[0].lower()


def find_featured_image(
    tree: LexborHTMLParser,
    structured: Structured,
    rules: ExtractConfig,
    base: str,
    model: SiteModel | None,
) -> tuple[Image | None, str | None]:
    """The post's featured image and the layer that gave it, or ``(None, None)``."""
    if rules.selectors.featured_image:
        for node in select_safely(tree, rules.selectors.featured_image):
            found = _from_node(node, base)
            if found is not None:
                return found, "config"
    if structured.article is not None:
        src = _jsonld_image(structured.article.get("image"))
        found = _usable(src, "", base, model)
        if found is not None:
            return found, "jsonld"
    for node in tree.css(_THEME):
        if _in_widget(node):
            continue
        found = _from_node(node, base)
        if found is not None and not _shared(found, model):
            return found, "heuristic"
    for name in ("og:image", "og:image:url", "og:image:secure_url", "twitter:image"):
        found = _usable(
            structured.meta.get(name), structured.meta.get("og:image:alt") or "", base, model
        )
        if found is not None:
            return found, "meta"
    return None, None


def _jsonld_image(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("url") or value.get("contentUrl") or value.get("@id")
    return value if isinstance(value, str) else None


def _from_node(node: LexborNode, base: str) -> Image | None:
    if node.tag != "img":
        node = node.css_first("img") or node
        if node.tag != "img":
            return None
    attrs = node.attributes
    for side in ("width", "height"):
        value = (attrs.get(side) or "").strip().removesuffix("px")
        if value.isdigit() and int(value) <= _SMALL:
            return None
    src = attrs.get("src") or attrs.get("data-src") or attrs.get("data-lazy-src")
    marker = " ".join(filter(None, (attrs.get("class"), attrs.get("id"), src)))
    if _NOT_A_PICTURE.search(marker):
        return None
    return _usable(src, (attrs.get("alt") or "").strip(), base, None)


def _usable(src: str | None, alt: str, base: str, model: SiteModel | None) -> Image | None:
    if not src or src.strip().startswith("data:"):
        return None
    url = absolute_url(src.strip(), base)
    if url is None or not url.startswith(("http://", "https://")) or _NOT_A_PICTURE.search(url):
        return None
    image = Image(src=url, alt=alt[:300])
    return None if _shared(image, model) else image


def _shared(image: Image, model: SiteModel | None) -> bool:
    return model is not None and image_key(image.src) in model.shared_images


def _in_widget(node: LexborNode) -> bool:
    return marked_ancestor(node, _WIDGET_TAGS, FEATURED_WIDGET_WORDS)
