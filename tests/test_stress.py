"""Thread stress: many Python threads call every family at once on shared inputs.

Every result must equal, bit for bit, the one computed by a single Python thread beforehand,
while another thread keeps changing the global thread count with ``set_num_threads``. Hangs
fail the test (every join has a deadline) instead of hanging the run. test_threads.py covers
the thread-count API and concurrent morphology; this file covers all the families together.
"""

from __future__ import annotations

import hashlib
import os
import random
import threading
import time

import foveal
import numpy as np
import pytest
from family_calls import CALLS, difference, empty_like_result, first_array, make_inputs, same

N_WORKERS = 12
# FOVEAL_SANITIZED=1 is set by .ci/sanitize.sh; an ASan preload says the same.
SANITIZED = os.environ.get("FOVEAL_SANITIZED") == "1" or "libasan" in os.environ.get(
    "LD_PRELOAD", ""
)
PASSES = 3 if SANITIZED else 10  # each worker calls every function this often, in its own order
TOGGLED_COUNTS = (1, 2, 3, 4)  # what the toggling thread sets; references at each
DEADLINE_S = 240.0  # a worker not done by then is hung: the test fails


@pytest.fixture(autouse=True)
def restore_threads():
    n = foveal.get_num_threads()
    try:
        yield
    finally:
        foveal.set_num_threads(n)


@pytest.fixture(scope="module")
def inputs():
    return make_inputs()


@pytest.fixture(scope="module")
def references(inputs):
    """Per call, its results at each toggled thread count, computed by this thread alone."""
    refs = {}
    for name, call in CALLS.items():
        refs[name] = []
        for n in TOGGLED_COUNTS:
            with foveal.num_threads(n):
                result = call.run(inputs)
            if not any(same(result, r) for r in refs[name]):
                refs[name].append(result)
    return refs


def _digest(inputs) -> str:
    h = hashlib.sha256()
    for key in sorted(inputs):
        value = inputs[key]
        for arr in value if isinstance(value, list) else [value]:
            h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def _run_threads(targets, deadline_s: float) -> list[str]:
    """Starts one daemon thread per target and joins them all by the deadline; returns the
    names of those still running (hung) then."""
    threads = [
        threading.Thread(target=t, name=f"stress-{n}", daemon=True) for n, t in enumerate(targets)
    ]
    for t in threads:
        t.start()
    end = time.monotonic() + deadline_s
    for t in threads:
        t.join(max(0.0, end - time.monotonic()))
    return [t.name for t in threads if t.is_alive()]


def _worker(seed, inputs, references, failures, lock, local_counts):
    """Calls every function PASSES times in a random order, half of them into its own out=
    array, some inside ``num_threads(n)`` blocks; records every mismatch and exception."""
    rnd = random.Random(seed)
    plan = [name for name in CALLS for _ in range(PASSES)]
    rnd.shuffle(plan)

    def record(msg):
        with lock:
            failures.append(f"worker {seed}: {msg}")

    for name in plan:
        call = CALLS[name]
        local = rnd.choice(local_counts)
        try:
            out = None
            if call.out is not None and rnd.random() < 0.5:
                out = empty_like_result(references[name][0])  # this thread's own
            if local is None:
                got = _call(call, inputs, out)
            else:
                with foveal.num_threads(local):
                    got = _call(call, inputs, out)
        except Exception as exc:  # noqa: BLE001 - reported with the call's name
            record(f"{name} raised {type(exc).__name__}: {exc}")
            continue
        if out is not None and first_array(got) is not out:
            record(f"{name}: out= was not returned")
        if not any(same(got, r) for r in references[name]):
            record(f"{name} (threads {local}): {difference(got, references[name][0])}")


def _call(call, inputs, out):
    return call.run(inputs) if out is None else call.out(inputs, out)


def _toggler(stop, seen, seed):
    rnd = random.Random(seed)
    while not stop.is_set():
        n = rnd.choice(TOGGLED_COUNTS)
        foveal.set_num_threads(n)
        seen.add(n)
        time.sleep(rnd.random() * 0.002)


def test_every_family_from_many_threads(inputs, references):
    """N_WORKERS threads x every call x PASSES, the global count changing all the while."""
    before = _digest(inputs)
    failures: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    seen: set[int] = set()
    toggler = threading.Thread(target=_toggler, args=(stop, seen, 99), daemon=True)
    toggler.start()
    # None: the global count the toggler sets; numbers: a per-thread num_threads(n) block
    local_counts = (None, None, None, 1, 2, 3)
    workers = [
        (lambda s=s: _worker(s, inputs, references, failures, lock, local_counts))
        for s in range(N_WORKERS)
    ]
    try:
        hung = _run_threads(workers, DEADLINE_S)
    finally:
        stop.set()
        toggler.join(10)
    assert not hung, f"threads still running after {DEADLINE_S} s (deadlock?): {hung}"
    assert not toggler.is_alive(), "the set_num_threads thread did not stop"
    assert len(seen) > 1, "the thread count never changed during the run"
    assert not failures, "\n".join(failures[:20])
    assert _digest(inputs) == before, "a call wrote to a shared input"


def test_one_function_all_threads_same_input(inputs, references):
    """Every worker calls the same function on the same input at the same moment (a barrier
    lines them up), each into its own slice of one out= array, per function with out=."""
    names = [name for name, call in CALLS.items() if call.out is not None]
    failures: list[str] = []
    for name in names:
        call, expected = CALLS[name], references[name][0]
        outs = np.stack([empty_like_result(expected)] * N_WORKERS)
        barrier = threading.Barrier(N_WORKERS, timeout=60)

        def work(slot, call=call, outs=outs, barrier=barrier):
            barrier.wait()
            with foveal.num_threads(1 + slot % 3):
                call.out(inputs, outs[slot])

        hung = _run_threads([lambda s=s: work(s) for s in range(N_WORKERS)], 60.0)
        assert not hung, f"{name}: threads still running after 60 s: {hung}"
        for slot in range(N_WORKERS):
            if not same(outs[slot], first_array(expected)):
                failures.append(
                    f"{name} slot {slot}: {difference(outs[slot], first_array(expected))}"
                )
    assert not failures, "\n".join(failures[:20])


def test_tiny_calls_contend_for_the_pool():
    """Thousands of calls too small to be worth threads, each asking for several: the pool's
    queue is where many concurrent jobs meet (submission, helpers joining, completion)."""
    rng = np.random.default_rng(5)
    img = rng.integers(0, 256, (9, 11), dtype=np.uint8)
    x = rng.standard_normal((1, 2, 6, 6)).astype(np.float32)
    expected_img = foveal.dilate(img, 3)
    expected_pool = foveal.nn.max_pool2d(x, 2)
    failures: list[str] = []

    def work(slot):
        for i in range(300):
            with foveal.num_threads(2 + (slot + i) % 7):
                a = foveal.dilate(img, 3)
                b = foveal.nn.max_pool2d(x, 2)
            if not (same(a, expected_img) and same(b, expected_pool)):
                failures.append(f"thread {slot} call {i}")
                return

    hung = _run_threads([lambda s=s: work(s) for s in range(N_WORKERS)], 120.0)
    assert not hung, f"threads still running after 120 s (deadlock?): {hung}"
    assert not failures, failures[:10]
