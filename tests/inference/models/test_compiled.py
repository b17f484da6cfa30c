"""The compiled-model cache's bounds (entries and idle age), with compilation stubbed out.

Fast: no model is compiled here; ``_compile_nutpie`` is replaced by a stub whose
``with_data`` returns a new object, like nutpie's.
"""

import threading

import pytest

from hierdash.inference.models import compiled as model
from hierdash.inference.models.compiled import CompiledModelCache, ModelKey


class _Stub:
    def __init__(self, key):
        self.key = key

    def with_data(self, **data):
        return (self.key, data)


@pytest.fixture
def stub_compile(monkeypatch):
    compiled = []

    def fake(key, data):
        compiled.append(key)
        return _Stub(key)

    monkeypatch.setattr(model, "_compile_nutpie", fake)
    return compiled


class _Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def _key(k):
    return ModelKey("latent", tasks=2, features=k)


def test_hit_returns_the_new_data_and_compiles_once(stub_compile):
    cache = CompiledModelCache()
    first, seconds = cache.get(_key(1), {"x": 1})
    again, again_seconds = cache.get(_key(1), {"x": 2})
    assert stub_compile == [_key(1)]
    assert again == (_key(1), {"x": 2})
    assert again_seconds == 0.0 and cache.compilations == 1


def test_least_recently_used_is_dropped_past_max_entries(stub_compile):
    cache = CompiledModelCache(max_entries=2)
    cache.get(_key(1), {})
    cache.get(_key(2), {})
    cache.get(_key(1), {})  # 1 is now the most recent
    cache.get(_key(3), {})
    assert _key(1) in cache and _key(3) in cache and _key(2) not in cache
    assert len(cache) == 2


def test_idle_models_are_dropped_after_max_idle(stub_compile):
    clock = _Clock()
    cache = CompiledModelCache(max_idle_s=100.0, clock=clock)
    cache.get(_key(1), {})
    cache.get(_key(2), {})
    clock.now = 60.0
    cache.get(_key(2), {})  # used again: its idle time restarts
    clock.now = 150.0
    cache.get(_key(3), {})  # any lookup drops what has been idle too long
    assert _key(1) not in cache
    assert _key(2) in cache and _key(3) in cache
    clock.now = 1000.0
    cache.get(_key(2), {})  # idle for 850 s: compiled again
    assert stub_compile.count(_key(2)) == 2
    assert len(cache) == 1


def test_concurrent_requests_compile_a_key_once(stub_compile, monkeypatch):
    gate = threading.Event()
    slow = model._compile_nutpie

    def slow_compile(key, data):
        gate.wait(5)
        return slow(key, data)

    monkeypatch.setattr(model, "_compile_nutpie", slow_compile)
    cache = CompiledModelCache()
    threads = [threading.Thread(target=cache.get, args=(_key(1), {})) for _ in range(8)]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join(10)
    assert stub_compile == [_key(1)]
    assert cache.compilations == 1


def test_waiting_for_another_threads_compile_counts_as_compile_time(stub_compile, monkeypatch):
    started, gate = threading.Event(), threading.Event()
    slow = model._compile_nutpie

    def slow_compile(key, data):
        started.set()
        gate.wait(5)
        return slow(key, data)

    monkeypatch.setattr(model, "_compile_nutpie", slow_compile)
    cache = CompiledModelCache()
    warm_up = threading.Thread(target=cache.get, args=(_key(1), {}))
    warm_up.start()
    assert started.wait(5)
    told, answer = [], {}

    def student():
        answer["seconds"] = cache.get(_key(1), {}, on_compile=lambda: told.append(True))[1]

    waiter = threading.Thread(target=student)
    waiter.start()
    threading.Event().wait(0.3)
    gate.set()
    waiter.join(5)
    warm_up.join(5)
    assert told == [True]  # the page can say "compiling" while it waits
    assert answer["seconds"] >= 0.25
    assert stub_compile == [_key(1)]
    assert cache.get(_key(1), {})[1] == 0.0  # a later hit costs nothing
