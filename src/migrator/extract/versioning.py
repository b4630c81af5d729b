"""What ``pages.extractor_version`` records: the extractor's version, the page's template and
the fingerprint of the site-model rules it was extracted with."""

from __future__ import annotations

from migrator.models import SiteModel

# Bump whenever the output for the same input changes: stored pages are re-extracted.
EXTRACTOR_VERSION = "5"


def version_tag(model: SiteModel | None, signature: str | None = None) -> str:
    """What ``pages.extractor_version`` records: the extractor, the page's template and
    the fingerprint of the site-model rules it was extracted with."""
    if model is None:
        return EXTRACTOR_VERSION
    return f"{EXTRACTOR_VERSION}+{signature or '-'}:{_fingerprint(model)}"


# A model's fingerprint sorts, dumps and hashes its whole furniture (~0.3 ms on a
# realistic theme's 500 blocks), and every page of a crawl names it. A worker receives
# the model anew with each page (a fresh object, equal to the last), so the memo is keyed
# by the model's value: hashing and comparing its frozen fields costs a fraction of that.
# Equal models have equal fingerprints (a function of those fields).
_FINGERPRINTS: dict[SiteModel, str] = {}


_MAX_FINGERPRINTS = 64


def _fingerprint(model: SiteModel) -> str:
    """``model.fingerprint``, memoized by value (bounded: a crawl has a few models)."""
    found = _FINGERPRINTS.get(model)
    if found is None:
        if len(_FINGERPRINTS) >= _MAX_FINGERPRINTS:
            _FINGERPRINTS.clear()
        found = _FINGERPRINTS[model] = model.fingerprint
    return found


def template_of(tag: str | None) -> str | None:
    """The template signature a ``version_tag`` of this extractor records, else ``None``."""
    prefix = EXTRACTOR_VERSION + "+"
    if not tag or not tag.startswith(prefix) or ":" not in tag:
        return None
    signature = tag[len(prefix) :].rpartition(":")[0]
    return None if signature in {"", "-"} else signature
