"""Fixtures shared by several test modules (helpers that are not fixtures live in
``servers``, ``legacy_sites``, ``archives`` and ``site_runs``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """The CLI's -q sets structlog's level to errors for the whole process: put the
    configuration back, so a later test's capture_logs still sees warnings."""
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)
