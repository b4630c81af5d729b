"""The typed, frozen configuration tree and its TOML loader.

``load_config(path)`` reads one ``config/<site>.toml`` into a :class:`Config`; every
section is a frozen dataclass and every unknown key or wrongly typed value is a
:class:`~migrator.errors.ConfigError` naming the key, so a typo never silently falls
back to a default. This module knows nothing about HTTP or SQLite; of HTML it only asks
the extractor's CSS engine whether each configured selector parses, so a typo such as
``h1[[[`` is an error naming its key instead of a field that silently stays empty.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from migrator.errors import ConfigError

__all__ = [
    "Config",
    "ExportConfig",
    "ExtractConfig",
    "FetchConfig",
    "LoadConfig",
    "ScopeConfig",
    "Selectors",
    "SiteConfig",
    "SyncConfig",
    "load_config",
]

DateOrder = Literal["MDY", "DMY", "YMD"]
_RESOLVE = re.compile(r"[A-Za-z0-9.-]+=(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?")


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteConfig:
    """What is being migrated: a name and where to start."""

    name: str = "site"
    start: str | None = None  # a site root URL or a sitemap URL
    contact: str = "https://github.com/migrator/migrator"  # sent in the User-Agent


@dataclass(frozen=True, slots=True, kw_only=True)
class ScopeConfig:
    """Which URLs belong to the migration. Patterns are Python regular expressions."""

    allowed_hosts: tuple[str, ...] = ()  # empty: the start URL's host only
    path_prefixes: tuple[str, ...] = ()  # empty: every path
    include: tuple[str, ...] = ()  # empty: everything not excluded
    exclude: tuple[str, ...] = ()
    follow_links: bool = True
    max_depth: int = 0  # link hops from a start URL; 0: no limit (traps have budgets)
    max_pages: int = 1_000_000
    max_urls_per_pattern: int = 5_000  # crawler-trap guard: URLs per path shape
    max_query_params: int = 4
    max_url_length: int = 2_048
    max_links_per_page: int = 1_000  # links followed from one page (a link farm stops here)
    # Sitemap files read per start (indexes included) and index-in-index nesting: an
    # index of 50,000 indexes of 50,000 more is walked this far, then said out loud.
    max_sitemaps: int = 1_000
    max_sitemap_depth: int = 5
    # Crawler traps refused before any request: calendars outside the site's possible
    # dates, repeated path segments, query-parameter explosions (see scope.trap_reason).
    detect_traps: bool = True
    earliest_year: int = 1990  # calendar pages dated before this are traps


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchConfig:
    """Politeness, retries and safety limits of the fetch stage."""

    concurrency: int = 2  # per host
    delay: float = 0.5  # seconds between requests to one host (robots Crawl-delay wins if larger)
    # Adaptive pacing (like Scrapy's AutoThrottle): start at `delay`, follow the server's
    # latency (gap = latency / target_concurrency), back off on 429, 5xx and timeouts;
    # never closer than min_delay (or delay, if smaller) nor apart more than max_delay.
    adaptive: bool = True
    min_delay: float = 0.05
    max_delay: float = 30.0
    target_concurrency: float = 1.0
    timeout: float = 20.0  # per network operation
    deadline: float = 60.0  # total per request, body included
    max_attempts: int = 4
    retry_deadline: float = 300.0  # total per URL, across retries
    max_retry_after: float = 120.0  # cap on a server's Retry-After
    backoff: float = 1.0  # first retry wait in seconds; doubles per attempt, fully jittered
    max_body_bytes: int = 20_000_000
    max_redirects: int = 10
    # Off only for a site you run yourself (a staging copy, your own mirror): STYLE.md's
    # "obey robots.txt" is about other people's servers, and the owner may waive it.
    obey_robots: bool = True
    content_types: tuple[str, ...] = ("text/html", "application/xhtml+xml")
    user_agent: str | None = None  # default names migrator and site.contact
    # "HOST=ADDR:PORT": connect to ADDR:PORT for HOST (like curl --resolve), keeping the
    # URLs and the Host header: a site behind a new address, a staging copy or a mirror.
    resolve: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Selectors:
    """Per-site CSS selectors; each one, when set and matching, beats every heuristic."""

    title: str | None = None
    published: str | None = None
    updated: str | None = None
    author: str | None = None
    breadcrumbs: str | None = None  # the trail container or its links
    content: str | None = None  # the article body region
    sidebar: str | None = None  # one or more widget containers
    featured_image: str | None = None  # the post's head picture (an img or its holder)
    remove: tuple[str, ...] = ()  # removed from the body before extraction


@dataclass(frozen=True, slots=True, kw_only=True)
class ExtractConfig:
    """How pages become records."""

    date_order: DateOrder = "MDY"  # for numeric dates such as 03/12/2021
    languages: tuple[str, ...] = ()
    use_trafilatura: Literal["auto", "always", "never"] = "auto"
    selectors: Selectors = field(default_factory=Selectors)
    listing_patterns: tuple[str, ...] = ()  # URL regexes of listing pages (index, pagination)
    workers: int = 0  # extraction processes; 0 = one per core


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadConfig:
    """Where the migration database lives."""

    db: str = "data/migration.db"


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncConfig:
    """Re-sync behaviour."""

    max_removed_share: float = 0.2  # mass-removal guard
    trust_lastmod: bool = False  # skip pages whose sitemap lastmod has not moved
    # A sync of unchanged pages is bound by the HTTP client's CPU on one core; with 2 (the
    # default), a helper process fetches too (each takes half the per-host concurrency and
    # both book request starts on one shared schedule, so the site sees the same load;
    # with concurrency 1, no helper).
    fetch_processes: int = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportConfig:
    """Re-publishing outputs."""

    base_path: str = "/posts"
    permalink: str = "{category}/{slug}"
    # `export --download-assets` fetches images from the site's own origins only; list
    # CDN hosts here ("cdn.example.com", or "cdn.example.com:8443" for one port).
    asset_hosts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    """The whole configuration of one migration."""

    site: SiteConfig = field(default_factory=SiteConfig)
    scope: ScopeConfig = field(default_factory=ScopeConfig)
    fetch: FetchConfig = field(default_factory=FetchConfig)
    extract: ExtractConfig = field(default_factory=ExtractConfig)
    load: LoadConfig = field(default_factory=LoadConfig)
    sync: SyncConfig = field(default_factory=SyncConfig)
    export: ExportConfig = field(default_factory=ExportConfig)
    path: str | None = None  # the file it came from, if any

    def replace(self, **sections: Any) -> Config:
        """Return a copy with some sections (or ``path``) replaced."""
        return dataclasses.replace(self, **sections)

    def with_fetch(self, **changes: Any) -> Config:
        """Return a copy with some ``[fetch]`` values replaced (``None`` keeps a value).

        Raises:
            ConfigError: a value is out of range, as it would be in the file.
        """
        changes = {k: v for k, v in changes.items() if v is not None and v != ()}
        if not changes:
            return self
        config = dataclasses.replace(self, fetch=dataclasses.replace(self.fetch, **changes))
        _validate(config, "command line")
        return config


def load_config(path: str | Path | None) -> Config:
    """Read a TOML config file into a validated :class:`Config`.

    Args:
        path: the file; ``None`` gives the defaults.

    Returns:
        The frozen configuration.

    Raises:
        ConfigError: the file is missing, is not TOML, has an unknown key, or a value
            of the wrong type or out of range.
    """
    if path is None:
        return Config()
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"config file not found: {file}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {file}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from exc
    config = config_from_dict(data, source=str(file))
    return dataclasses.replace(config, path=str(file))


def config_from_dict(data: dict[str, Any], *, source: str = "config") -> Config:
    """Build a :class:`Config` from a parsed mapping (the TOML document's shape).

    Raises:
        ConfigError: as for :func:`load_config`.
    """
    data = {k: v for k, v in data.items() if k != "path"}
    fetch = data.get("fetch")
    if isinstance(fetch, dict) and "concurrency" in fetch and "target_concurrency" not in fetch:
        # As with --concurrency N: N requests in flight while the server answers fast, not
        # one request per answer time under a cap of N nobody reaches.
        data["fetch"] = {**fetch, "target_concurrency": fetch["concurrency"]}
    config: Config = _build(Config, data, source, "")
    _validate(config, source)
    return config


def _build(cls: type[Any], data: Any, source: str, where: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: [{where}] must be a table")
    hints = get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls) if f.name != "path"}
    unknown = sorted(set(data) - fields)
    if unknown:
        name = f"{where}.{unknown[0]}" if where else unknown[0]
        raise ConfigError(f"{source}: unknown config key '{name}'")
    values = {
        key: _coerce(hints[key], value, source, f"{where}.{key}" if where else key)
        for key, value in data.items()
    }
    return cls(**values)


def _coerce(hint: Any, value: Any, source: str, where: str) -> Any:
    origin = get_origin(hint)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return _build(hint, value, source, where)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(hint) if a is not type(None)]
        return _coerce(args[0], value, source, where)
    if origin is Literal:
        if value not in get_args(hint):
            choices = ", ".join(repr(a) for a in get_args(hint))
            raise ConfigError(f"{source}: '{where}' must be one of {choices}, not {value!r}")
        return value
    if origin is tuple:
        if isinstance(value, str) or not isinstance(value, list):
            raise ConfigError(f"{source}: '{where}' must be a list")
        (item,) = get_args(hint)[:1]
        return tuple(_coerce(item, v, source, where) for v in value)
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{source}: '{where}' must be true or false")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{source}: '{where}' must be a number")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{source}: '{where}' must be an integer")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{source}: '{where}' must be a string")
        return value
    raise ConfigError(f"{source}: '{where}' has an unsupported type")  # pragma: no cover


def _validate(config: Config, source: str) -> None:
    checks: list[tuple[bool, str]] = [
        (config.fetch.concurrency >= 1, "fetch.concurrency must be at least 1"),
        (config.fetch.delay >= 0, "fetch.delay must not be negative"),
        (config.fetch.min_delay >= 0, "fetch.min_delay must not be negative"),
        (config.fetch.max_delay >= config.fetch.min_delay, "fetch.max_delay < min_delay"),
        (config.fetch.target_concurrency > 0, "fetch.target_concurrency must be positive"),
        (config.fetch.timeout > 0, "fetch.timeout must be positive"),
        (config.fetch.deadline > 0, "fetch.deadline must be positive"),
        (config.fetch.max_attempts >= 1, "fetch.max_attempts must be at least 1"),
        (config.fetch.backoff >= 0, "fetch.backoff must not be negative"),
        (config.fetch.max_body_bytes > 0, "fetch.max_body_bytes must be positive"),
        (config.fetch.max_redirects >= 0, "fetch.max_redirects must not be negative"),
        (config.scope.max_pages >= 1, "scope.max_pages must be at least 1"),
        (config.scope.max_sitemaps >= 1, "scope.max_sitemaps must be at least 1"),
        (config.scope.max_sitemap_depth >= 0, "scope.max_sitemap_depth must not be negative"),
        (0 < config.sync.max_removed_share <= 1, "sync.max_removed_share must be in (0, 1]"),
        (config.sync.fetch_processes in (1, 2), "sync.fetch_processes must be 1 or 2"),
        (config.extract.workers >= 0, "extract.workers must not be negative"),
    ]
    for ok, message in checks:
        if not ok:
            raise ConfigError(f"{source}: {message}")
    for entry in config.fetch.resolve:
        if not _RESOLVE.fullmatch(entry):
            raise ConfigError(
                f"{source}: fetch.resolve entry {entry!r} must look like HOST=ADDRESS[:PORT]"
            )
    _validate_selectors(config.extract.selectors, source)
    patterns = config.scope.include + config.scope.exclude + config.extract.listing_patterns
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigError(f"{source}: bad regular expression {pattern!r}: {exc}") from exc


def _validate_selectors(selectors: Selectors, source: str) -> None:
    """Raise a ConfigError naming the first selector the CSS engine cannot parse."""
    from selectolax.lexbor import LexborHTMLParser, SelectolaxError

    tree = LexborHTMLParser("<html><body></body></html>")
    for f in dataclasses.fields(selectors):
        value = getattr(selectors, f.name)
        for i, selector in enumerate(value if isinstance(value, tuple) else (value,)):
            if not selector:
                continue
            try:
                tree.css(selector)
            except SelectolaxError as exc:
                key = f"extract.selectors.{f.name}" + (f"[{i}]" if isinstance(value, tuple) else "")
                raise ConfigError(
                    f"{source}: '{key}' is not a valid CSS selector: {selector!r} ({exc})"
                ) from exc
