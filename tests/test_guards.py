"""`agent_tunix.guards` leaves no process behind, however its caller ends.

The notebook (nbs/08_guards.ipynb) shows and tests the guard itself; these tests need a second
interpreter (a caller that dies) or garbage collection, which a notebook cell cannot show cleanly.
"""
import gc, os, subprocess, sys, textwrap, time

import pytest

from agent_tunix.guards import _misbehaving_reward, guarded_reward

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
    from agent_tunix.guards import guarded_reward, _misbehaving_reward
    if __name__ == "__main__":
        g = guarded_reward(_misbehaving_reward, timeout=60, workers=2, start_method=sys.argv[1])
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
        subprocess.run([sys.executable, str(script), start_method, ending], stdout=f, stderr=subprocess.STDOUT, timeout=60)
    pids = [int(p) for p in out.read_text().split()[:2]]
    assert len(pids) == 2, out.read_text()
    left = _wait_gone(pids)
    for p in left: os.kill(p, 9)   # do not leak them even when the test fails
    assert not left, f"workers {left} outlived their caller ({start_method}, caller {ending})"

def test_garbage_collection_stops_the_workers():
    g = guarded_reward(_misbehaving_reward, timeout=0.5, workers=2)
    assert g(completions=["ab", "abc"]) == [2.0, 3.0]
    pids = [w.proc.pid for w in g._workers]
    del g; gc.collect()
    assert not _wait_gone(pids, within=2.0)

def test_a_guard_is_usable_again_after_close():
    with guarded_reward(_misbehaving_reward, timeout=0.5, workers=1) as g:
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
    with guarded_reward(_misbehaving_reward, timeout=30, workers=1) as g:
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
