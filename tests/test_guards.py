"""`agent_tunix.guards` leaves no process behind, however its caller ends.

The notebook (nbs/08_guards.ipynb) shows and tests the guard itself; these tests need a second
interpreter (a caller that dies) or garbage collection, which a notebook cell cannot show cleanly.
"""
import gc, os, subprocess, sys, textwrap, time
from pathlib import Path

import pytest

from agent_tunix.guards import guarded_reward
from tests.misbehaving import misbehaving_reward

ROOT = Path(__file__).resolve().parents[1]   # on the path of the scripts below, for `tests.misbehaving`

def _gone(pid: int) -> bool:
    "True when `pid` no longer runs (absent, or a zombie waiting to be reaped)."
    try:
        with open(f"/proc/{pid}/stat") as f: return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError: return True

def _wait_gone(pids, within: float = 5.0) -> list:
    "The pids still running after `within` seconds."
    end = time.monotonic() + within
    while time.monotonic() < end and not all(_gone(p) for p in pids): time.sleep(0.05)
    return [p for p in pids if not _gone(p)]

CALLER = textwrap.dedent("""
    import os, sys, threading, time
    sys.path.insert(0, sys.argv[3])
    from agent_tunix.guards import guarded_reward
    from tests.misbehaving import misbehaving_reward
    if __name__ == "__main__":
        g = guarded_reward(misbehaving_reward, timeout=60, workers=2, start_method=sys.argv[1])
        threading.Thread(target=lambda: g(completions=["sleep", "sleep"]), daemon=True).start()
        while sum(w.task is not None for w in list(g._workers)) < 2: time.sleep(0.02)
        print(" ".join(str(w.proc.pid) for w in g._workers), flush=True)
        os._exit(0) if sys.argv[2] == "killed" else sys.exit(0)
""")

@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("start_method", ["spawn", "forkserver"])
@pytest.mark.parametrize("ending", ["killed", "exits"])
def test_hung_workers_die_with_their_caller(tmp_path, start_method, ending):
    script = tmp_path / "caller.py"; script.write_text(CALLER)
    out = tmp_path / "out.txt"
    with open(out, "w") as f:   # a file, not a pipe: a leaked worker holding a pipe would hang the test
        subprocess.run([sys.executable, str(script), start_method, ending, str(ROOT)], stdout=f, stderr=subprocess.STDOUT, timeout=60)
    pids = [int(p) for p in out.read_text().split()[:2]]
    assert len(pids) == 2, out.read_text()
    left = _wait_gone(pids)
    for p in left: os.kill(p, 9)   # do not leak them even when the test fails
    assert not left, f"workers {left} outlived their caller ({start_method}, caller {ending})"

def test_garbage_collection_stops_the_workers():
    g = guarded_reward(misbehaving_reward, timeout=0.5, workers=2)
    assert g(completions=["ab", "abc"]) == [2.0, 3.0]
    pids = [w.proc.pid for w in g._workers]
    del g; gc.collect()
    assert not _wait_gone(pids, within=2.0)

def test_a_guard_is_usable_again_after_close():
    with guarded_reward(misbehaving_reward, timeout=0.5, workers=1) as g:
        assert g(completions=["x"]) == [1.0]
        g.close()
        assert g(completions=["xy", "exit", "xyz"]) == [2.0, 0.0, 3.0]
        assert g.counts == {"ok": 3, "crash": 1}

def test_an_interrupted_batch_does_not_leak_into_the_next():
    import signal
    # a shell starts background jobs with SIGINT ignored, and Python then never raises KeyboardInterrupt:
    # give this test the interactive default, whatever started pytest
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _interrupt_then_recover()
    finally:
        signal.signal(signal.SIGINT, previous)


def _interrupt_then_recover():
    import signal, threading
    with guarded_reward(misbehaving_reward, timeout=30, workers=1) as g:
        # Ctrl-C in the middle of a batch: SIGINT to this process while the main thread waits on the hung worker
        timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT)); timer.start()
        t = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            g(completions=["sleep"])
            time.sleep(5)   # (lands here instead if the call returned first: then the test fails on timing below)
        assert time.monotonic() - t < 5
        hung = [w.proc.pid for w in g._workers]
        assert g(completions=["ab"]) == [2.0]          # a fresh worker; the hung one is gone
        assert not _wait_gone(hung, within=2.0)



# Escapes: a reward's own children, grandchildren in their own session, signals to its parent, memory spread over
# several processes. Each reward reports the pids of what it started to a file, so the test can check they are gone.
# Each runs under both isolations: a pid namespace (root, as in CI) and, where that is not allowed, a child subreaper.

@pytest.fixture(params=["namespace", "subreaper"])
def isolation(request):
    "The isolation the guards of a test get; `namespace` is skipped where this machine does not allow one."
    if request.param == "namespace":
        with guarded_reward(misbehaving_reward, timeout=5.0, workers=1) as g:
            g(completions=["ok"])
            if g.isolation != "namespace": pytest.skip(f"no pid namespace here (the guard fell back to {g.isolation})")
    return request.param

def _guard(isolation: str, **settings):
    g = guarded_reward(misbehaving_reward, workers=1, **settings)
    g._prefer_isolation = isolation
    return g

def _reported(path) -> list:
    "The pids the reward's children wrote to `path`."
    return [int(p) for p in path.read_text().split()] if path.exists() else []

def _assert_all_gone(pids, what: str):
    left = _wait_gone(pids)
    for p in left: os.kill(p, 9)   # do not leak them even when the test fails
    assert not left, f"{what}: {left} still running"

@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_guard_kills_forked_children_on_timeout(tmp_path, isolation):
    pidfile = tmp_path / "pids"
    with _guard(isolation, timeout=2.0) as g:
        out = g.details(completions=[f"fork 3 {pidfile}", "ok"])
        pids = _reported(pidfile)
        _assert_all_gone(pids, "children of a reward that timed out")
        assert [r.reason for r in out] == ["timeout", "ok"] and len(pids) == 3, (out, pids)
        assert g.isolation == isolation

@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("then", ["hang", "return"])
def test_guard_kills_setsid_escapee(tmp_path, isolation, then):
    # a double-forked grandchild in its own session: not in the worker's process group, not its child any more
    pidfile = tmp_path / "pids"
    with _guard(isolation, timeout=2.0) as g:
        out = g.details(completions=[f"escape {then} {pidfile}"])
        pids = _reported(pidfile)
        assert len(pids) == 1 and [r.reason for r in out] == ["timeout" if then == "hang" else "ok"], (out, pids)
        if then == "hang": _assert_all_gone(pids, "escaped grandchild after the timeout")
    _assert_all_gone(pids, "escaped grandchild after close()")

SIGNALLER = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[3])
    from agent_tunix.guards import guarded_reward
    from tests.misbehaving import misbehaving_reward
    if __name__ == "__main__":
        with guarded_reward(misbehaving_reward, timeout=5, workers=1) as g:
            g._prefer_isolation = sys.argv[1]
            print(g.details(completions=[sys.argv[2]])[0].reason, flush=True)
            print(g(completions=["still works"]), flush=True)   # (a keeper killed just now may cost this one completion)
            print(g(completions=["still works"]), flush=True)
        print("trainer alive", flush=True)
""")

@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="POSIX signals")
@pytest.mark.parametrize("target", ["signal parent", "signal ancestors"])
def test_worker_cannot_signal_trainer(tmp_path, isolation, target):
    # the reward sends SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1/2, SIGALRM and SIGKILL to its parent (`os.getppid()`)
    # and the parent's process group, or to its parent and grandparent as /proc numbers them; the calling process (a
    # separate trainer script in a session of its own, so that pytest is never a target) lives on
    if isolation == "subreaper" and target == "signal ancestors":
        pytest.skip("without a pid namespace a reward can find the trainer in /proc and signal it (documented)")
    script = tmp_path / "trainer.py"; script.write_text(SIGNALLER)
    out = tmp_path / "out.txt"
    with open(out, "w") as f:
        rc = subprocess.run([sys.executable, str(script), isolation, target, str(ROOT)], stdout=f, stderr=subprocess.STDOUT,
                            timeout=60, start_new_session=True).returncode
    text = out.read_text()
    assert rc == 0 and "trainer alive" in text, f"the trainer died (exit status {rc}):\n{text}"
    assert text.splitlines()[-2:] == ["[11.0]", "trainer alive"], text   # the guard goes on
    if isolation == "namespace":   # nothing outside the namespace was reached: no keeper lost, no completion lost
        assert text.splitlines() == ["ok", "[11.0]", "[11.0]", "trainer alive"], text

@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_group_memory_limit(tmp_path, isolation):
    # four children of 30 MB each: every process stays under the 80 MB limit, the group (about 140 MB) does not
    pidfile = tmp_path / "pids"
    with _guard(isolation, timeout=20.0, memory_limit_mb=80) as g:
        out = g.details(completions=[f"fork-allocate 4 30 {pidfile}", "ok"])
        pids = _reported(pidfile)
        _assert_all_gone(pids, "children of a reward over the group memory limit")
        assert [r.reason for r in out] == ["memory", "ok"] and pids, (out, pids)
        assert "limit of 80 MB" in out[0].error, out[0].error
