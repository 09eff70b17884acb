"""A reward that misbehaves on request, for the tests, notebooks and benchmarks of `agent_tunix.guards`.

The completion says what it does: hang, allocate, exit, segfault, raise, return NaN, signal its parent, or leave
children behind. A guarded reward runs in worker processes, which import it by module and name, so it lives in
a module of its own: import it as `tests.misbehaving` with the repository root on the Python path (the notebooks
run that way), e.g. `guarded_reward(misbehaving_reward)` or the reward spec `"tests.misbehaving.misbehaving_reward"`.
It is not part of the package.
"""
import ctypes, os, signal, time

def _report_pid(path: str):
    "Append this process's pid, as the whole machine numbers it (also from inside a pid namespace), to `path`."
    try: pid = int(os.readlink("/proc/self"))   # /proc is the machine's: its `self` is the pid outside any namespace
    except OSError: pid = os.getpid()
    with open(path, "a") as f: f.write(f"{pid}\n")

def _await_lines(path: str, n: int, within: float = 10.0):
    "Wait until `path` holds `n` lines (the pids that children report), at most `within` seconds."
    end = time.monotonic() + within
    while time.monotonic() < end:
        try:
            with open(path) as f:
                if len(f.read().split()) >= n: return
        except FileNotFoundError: pass
        time.sleep(0.01)

def _start_child(path: str, megabytes: int = 0, escape: bool = False):
    "Fork a child that reports its pid to `path`, then holds `megabytes` of written memory and sleeps; with `escape`, it leaves the session (setsid) and is orphaned (double fork)."
    pid = os.fork()
    if pid:
        if escape: os.waitpid(pid, 0)   # the middle process exits at once, so the sleeper has no parent left
        return
    try:
        if escape:
            os.setsid()
            if os.fork(): os._exit(0)
        _report_pid(path)
        hog = b"x" * (megabytes << 20)   # written bytes: resident memory, not only address space
        time.sleep(3600)
        del hog                          # held until here
    finally: os._exit(0)

def _proc_parent(pid: int | str) -> int:
    "The parent of `pid` as /proc shows it: the machine's numbering, also from inside a pid namespace (0 if unknown)."
    try:
        with open(f"/proc/{pid}/stat", "rb") as f: return int(f.read().rsplit(b")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError): return 0

def _signal_parent(through_proc: bool = False) -> float:
    "Send the parent and its process group (with `through_proc`: the parent and grandparent /proc shows) every signal that ends a process by default; 1.0 if this process is still here after."
    if through_proc: targets = [_proc_parent("self")]; targets.append(_proc_parent(targets[0]))
    else: targets = [os.getppid()]   # once: a parent killed on the way would leave an adoptive one (init) in its place
    targets = [p for p in targets if p > 1]
    groups = []
    for p in targets:
        try: groups.append(os.getpgid(p))
        except OSError: pass
    for sig in (signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGUSR1, signal.SIGUSR2, signal.SIGALRM, signal.SIGKILL):
        for send, target in [(os.killpg, g) for g in groups if g > 1] + [(os.kill, p) for p in targets]:
            try: send(target, sig)
            except OSError: pass
    return 1.0

def misbehaving_reward(response: str, # "sleep", "allocate", "exit", "segfault", "raise", "nan", "signal parent", "signal ancestors", "fork N PATH", "escape hang|return PATH", "fork-allocate N MB PATH", or any other text
                       ) -> float: # the text's length, unless it asks for trouble
    "A test reward that hangs, allocates, exits, segfaults, raises, returns NaN, signals its parent or leaves children behind on request."
    if response == "sleep": time.sleep(3600)
    if response == "allocate":
        hog = []
        while True: hog.append(bytes(32 << 20))   # calloc: address space at once, pages untouched
    if response == "exit": os._exit(3)
    if response == "segfault": ctypes.string_at(0)
    if response == "raise": raise ValueError("asked to raise")
    if response == "nan": return float("nan")
    if response == "signal parent": return _signal_parent()
    if response == "signal ancestors": return _signal_parent(through_proc=True)
    words = response.split()
    if words[:1] == ["fork"] and len(words) == 3:            # N sleeping children, then hang
        for _ in range(int(words[1])): _start_child(words[2])
        _await_lines(words[2], int(words[1])); time.sleep(3600)
    if words[:1] == ["escape"] and len(words) == 3:          # an orphan in its own session, then hang or return
        _start_child(words[2], escape=True); _await_lines(words[2], 1)
        if words[1] == "hang": time.sleep(3600)
        return 1.0
    if words[:1] == ["fork-allocate"] and len(words) == 4:   # N children holding MB each, then hang
        for _ in range(int(words[1])): _start_child(words[3], megabytes=int(words[2]))
        _await_lines(words[3], int(words[1])); time.sleep(3600)
    return float(len(response))
