"""The site model handed to extraction workers by reference, not with every page.

A crawl extracts each page in a worker process with the run's site model. Sent whole
with each page, the model (about 35 kB pickled on the realistic benchmark blog) was
pickled on the main process, piped and unpickled again for every page, and half of
every task's bytes. Here the main process sends a :class:`ModelRef`, a content hash
of the model, and each worker keeps the last few models it was sent whole: a worker
that lacks the one a page names raises :class:`ModelNotSent`, and the caller sends
that page again with the model inside the reference (once per worker and model).
This module decides nothing about extraction; it neither reads files nor the
database.
"""

from __future__ import annotations

import hashlib
import pickle
from dataclasses import dataclass, replace

from migrator.models import SiteModel

__all__ = ["WORKER_MODELS", "ModelNotSent", "ModelRef", "ModelRefs", "model_in_worker"]

WORKER_MODELS = 2  # models a worker keeps: the current one and the one before it


@dataclass(frozen=True, slots=True)
class ModelRef:
    """A site model named by the hash of its pickle; ``model`` set when sent whole."""

    key: str
    model: SiteModel | None = None

    def whole(self, model: SiteModel) -> ModelRef:
        """This reference carrying ``model`` itself (for a worker that lacks it)."""
        return replace(self, model=model)


class ModelNotSent(Exception):  # noqa: N818 - a request to the caller, not a failure
    """Raised in a worker given a :class:`ModelRef` to a model it was never sent."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class ModelRefs:
    """The main process's side: one reference per model object, made once."""

    def __init__(self) -> None:
        self._last: tuple[SiteModel, ModelRef] | None = None

    def ref(self, model: SiteModel) -> ModelRef:
        """The reference of ``model`` (its pickle hashed on the first call only)."""
        if self._last is None or self._last[0] is not model:
            blob = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
            key = hashlib.blake2b(blob, digest_size=16).hexdigest()
            self._last = (model, ModelRef(key))
        return self._last[1]


# In a worker process: the models it was sent whole, oldest first (bounded).
_kept: dict[str, SiteModel] = {}


def model_in_worker(model: SiteModel | ModelRef | None) -> SiteModel | None:
    """The model a task names, in a worker: itself, or the one its reference names.

    Raises:
        ModelNotSent: the reference names a model this worker does not hold.
    """
    if not isinstance(model, ModelRef):
        return model
    if model.model is not None:
        _kept.pop(model.key, None)
        _kept[model.key] = model.model
        while len(_kept) > WORKER_MODELS:
            del _kept[next(iter(_kept))]
        return model.model
    kept = _kept.get(model.key)
    if kept is None:
        raise ModelNotSent(model.key)
    return kept
