"""The output folder of an export: safe paths, writes only of what changed, removals.

``OutputDir`` keeps a manifest (``.migrator-<kind>.json``: relative path → SHA-256 of
the bytes last written) so exporting again rewrites only files whose bytes changed and
finds the files of pages that are gone. Every path is checked to stay inside the
folder. It knows nothing about pages, Hugo or Jekyll.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TextIO

import structlog

from migrator.errors import ExportError

__all__ = ["OutputDir", "manifest_name", "safe_join"]

log = structlog.get_logger()


def manifest_name(kind: str) -> str:
    """The manifest file of one kind of export (several kinds may share a folder)."""
    return f".migrator-{kind}.json"


def safe_join(root: Path, relative: str) -> Path:
    """Join a relative POSIX path to ``root``, refusing anything that could leave it.

    Raises:
        ExportError: the path is absolute, empty, or has ``.``/``..`` or empty parts.
    """
    pure = PurePosixPath(relative)
    parts = pure.parts
    if (
        not parts
        or pure.is_absolute()
        or "\\" in relative
        or "\x00" in relative
        or any(p in {"", ".", ".."} for p in relative.split("/"))
    ):
        raise ExportError(f"unsafe output path {relative!r}")
    target = root.joinpath(*parts)
    resolved_root = root.resolve()
    if not target.resolve().is_relative_to(resolved_root):
        raise ExportError(f"output path {relative!r} leaves {root}")
    return target


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class OutputDir:
    """One export's output folder, written incrementally.

    Call :meth:`write` (or :meth:`keep`) for every file the export produces, then
    :meth:`finish` once.

    Attributes:
        root: the folder.
        written: relative paths written in this export (new or changed bytes).
        unchanged: how many produced files already had the same bytes.
    """

    def __init__(self, root: Path, *, kind: str) -> None:
        """Open ``root`` (created if needed) and read the manifest of ``kind``.

        Raises:
            ExportError: the folder cannot be created.
        """
        self.root = root
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ExportError(f"cannot create {root}: {exc.strerror or exc}") from exc
        self._kind = kind
        self._old: dict[str, str] = {}
        manifest = root / manifest_name(kind)
        if manifest.is_file():
            try:
                data = json.loads(manifest.read_text(encoding="utf-8"))
                self._old = {str(k): str(v) for k, v in dict(data["files"]).items()}
            except (OSError, ValueError, KeyError, TypeError) as exc:
                # A damaged manifest costs a full rewrite, never a wrong deletion.
                log.warning("export_manifest_unreadable", path=str(manifest), error=str(exc))
        self._new: dict[str, str] = {}
        self.written: list[str] = []
        self.unchanged = 0

    def write(self, relative: str, data: bytes | str) -> bool:
        """Write one file unless it already holds exactly these bytes.

        Returns:
            ``True`` when the file was (re)written.

        Raises:
            ExportError: unsafe path or write failure.
        """
        blob = data.encode("utf-8") if isinstance(data, str) else data
        digest = _sha256(blob)
        target = safe_join(self.root, relative)
        self._new[relative] = digest
        if self._old.get(relative) == digest and target.is_file():
            self.unchanged += 1
            return False
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.tmp")
            tmp.write_bytes(blob)
            os.replace(tmp, target)
        except OSError as exc:
            raise ExportError(f"cannot write {target}: {exc.strerror or exc}") from exc
        self.written.append(relative)
        return True

    def write_stream(self, relative: str, produce: Callable[[TextIO], int]) -> int:
        """Stream a large text file to a temporary file; keep it only if its bytes changed.

        Args:
            relative: the file's path in the folder.
            produce: writes the content to the stream it is given; returns a count.

        Returns:
            What ``produce`` returned.
        """
        target = safe_join(self.root, relative)
        tmp = target.with_name(f".{target.name}.tmp")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with tmp.open("w", encoding="utf-8", newline="\n") as stream:
                count = produce(stream)
            digest = hashlib.sha256()
            with tmp.open("rb") as blob:
                while chunk := blob.read(1 << 20):
                    digest.update(chunk)
            self._new[relative] = digest.hexdigest()
            if self._old.get(relative) == digest.hexdigest() and target.is_file():
                tmp.unlink()
                self.unchanged += 1
            else:
                os.replace(tmp, target)
                self.written.append(relative)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise ExportError(f"cannot write {target}: {exc.strerror or exc}") from exc
        return count

    def has(self, relative: str, digest: str) -> bool:
        """True when the last export wrote ``relative`` with ``digest`` and it is still there."""
        return self._old.get(relative) == digest and safe_join(self.root, relative).is_file()

    def keep(self, relative: str, digest: str) -> None:
        """Count a file as produced without rewriting it (see :meth:`has`)."""
        self._new[relative] = digest
        self.unchanged += 1

    def finish(self, *, keep_removed: bool) -> list[str]:
        """Remove (or with ``keep_removed`` only list) files the last export wrote and this
        one did not, then save the manifest.

        Returns:
            The relative paths of those files, sorted.
        """
        gone = sorted(set(self._old) - set(self._new))
        if not keep_removed:
            for relative in gone:
                with contextlib.suppress(ExportError, OSError):
                    target = safe_join(self.root, relative)
                    target.unlink(missing_ok=True)
                    _prune_empty(target.parent, self.root)
        kept = {k: self._old[k] for k in gone} if keep_removed else {}
        manifest = {"kind": self._kind, "files": dict(sorted({**kept, **self._new}.items()))}
        self.write_raw(
            manifest_name(self._kind), json.dumps(manifest, indent=1, ensure_ascii=False) + "\n"
        )
        return gone

    def write_raw(self, relative: str, text: str) -> None:
        """Write a bookkeeping file (manifest, report) outside the manifest's accounting."""
        target = safe_join(self.root, relative)
        try:
            tmp = target.with_name(f".{target.name}.tmp")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, target)
        except OSError as exc:
            raise ExportError(f"cannot write {target}: {exc.strerror or exc}") from exc


def _prune_empty(folder: Path, root: Path) -> None:
    while folder != root and folder.is_relative_to(root):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
