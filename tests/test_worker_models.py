"""The site model goes to extraction workers by reference: the same records as with
the model sent whole, a worker that lacks it says so, and what a worker keeps is
bounded."""

from __future__ import annotations

import asyncio
import pickle
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from migrator import worker_models
from migrator.config import Config
from migrator.crawl import Crawl
from migrator.extract import extract_page
from migrator.extract.site import learn_site
from migrator.load import Store
from migrator.models import RawPage, SiteModel
from migrator.pipeline import LazyPool, RunReport
from migrator.worker_models import (
    WORKER_MODELS,
    ModelNotSent,
    ModelRef,
    ModelRefs,
    model_in_worker,
)


def _html(index: int) -> str:
    text = f"Paragraph number {index} with enough distinct words to be a real paragraph."
    return (
        f"<html><head><title>Post {index} | Blog</title></head><body>"
        f'<h1 class="site">Blog</h1><article><h1 class="entry-title">Post {index}</h1>'
        f'<p class="meta">March {index + 1}, 2011</p>'
        f'<div class="entry-content"><p>{text} Intro.</p><h2>Final Thoughts</h2>'
        f"<p>{text} Closing.</p></div></article>"
        '<div class="widget"><h3>Related posts</h3><ul><li>x</li></ul></div>'
        "</body></html>"
    )


def _raw(index: int) -> RawPage:
    url = f"http://blog.example/post-{index}/"
    return RawPage(
        url=url,
        requested_url=url,
        status=200,
        headers=(("content-type", "text/html; charset=utf-8"),),
        body=_html(index).encode(),
        fetched_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


@pytest.fixture(scope="module")
def model() -> SiteModel:
    learned = learn_site([(f"http://blog.example/post-{i}/", _html(i)) for i in range(12)])
    assert learned is not None
    return learned


@pytest.fixture
def kept(monkeypatch):
    """A fresh memory of the models "this worker" was sent (the test process)."""
    memory: dict[str, SiteModel] = {}
    monkeypatch.setattr(worker_models, "_kept", memory)
    return memory


def test_ref_is_made_once_per_model_and_names_its_content(model):
    refs = ModelRefs()
    ref = refs.ref(model)
    assert refs.ref(model) is ref
    copy = pickle.loads(pickle.dumps(model))
    assert copy is not model
    assert refs.ref(copy).key == ref.key  # the same content, the same key
    other = replace(model, site_names=(*model.site_names, "Another name"))
    assert refs.ref(other).key != ref.key
    assert ref.model is None
    assert len(pickle.dumps(ref)) < 200 < len(pickle.dumps(model))


def test_worker_uses_the_model_it_was_sent_once(model, kept):
    ref = ModelRefs().ref(model)
    with pytest.raises(ModelNotSent) as missing:
        model_in_worker(ref)
    assert missing.value.key == ref.key
    assert pickle.loads(pickle.dumps(missing.value)).key == ref.key  # crosses the pipe
    assert model_in_worker(ref.whole(model)) is model
    assert model_in_worker(ref) is model
    assert model_in_worker(model) is model
    assert model_in_worker(None) is None


def test_worker_keeps_only_the_latest_models(model, kept):
    refs = [ModelRef(f"k{i}") for i in range(WORKER_MODELS + 1)]
    for ref in refs:
        model_in_worker(ref.whole(model))
    assert list(kept) == [ref.key for ref in refs[1:]]
    with pytest.raises(ModelNotSent):
        model_in_worker(refs[0])
    model_in_worker(refs[1])


def test_crawl_extracts_with_the_model_by_reference(model, tmp_path):
    """Through real worker processes: each page's record is the one the model sent
    whole gives, for a model the workers never had and for the next one."""
    config = Config()
    pool = LazyPool(config.extract)
    report = RunReport(run_id=1, mode="run", db_path="", started_at=datetime.now(UTC))
    with Store.open(tmp_path / "m.db") as store:
        crawl = Crawl(config, store, report, mode="run", pool=pool, progress=None)
        try:
            for current in (model, replace(model, site_names=("Blog", "Other"))):
                crawl.learner.model = current
                raws = [_raw(i) for i in range(12)]

                async def extract_all(raws: list[RawPage] = raws) -> list[object]:
                    return list(await asyncio.gather(*map(crawl._extract_page, raws)))

                pages = asyncio.run(extract_all())
                assert pages == [extract_page(raw, config.extract, current) for raw in raws]
        finally:
            pool.shutdown()
