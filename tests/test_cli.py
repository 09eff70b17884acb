"""`agent-tunix score` as a user runs it, in a fresh process: bad rows, misuse, interruption, standard input and
memory on a large file.

A bad row is skipped and reported (line number and reason on stderr, in skipped.jsonl and in the analysis) while
the good rows are scored; misuse is one line on stderr with exit code 2 and leaves nothing on disk; memory does not
grow with the file.
"""
import json, os, subprocess, sys, textwrap
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parents[1]
RUN = "import sys; from agent_tunix.cli import main; raise SystemExit(main(sys.argv[1:]))"
GOOD = [{"prompt": "2+2?", "completion": "The answer is 4.", "answer": "4"},
        {"prompt": "2+2?", "completion": "<answer>5</answer>", "answer": "4"},
        {"prompt": "3+3?", "completion": "It is 6.", "answer": 6}]


def _score(*args, stdin=None, env=None, cwd=ROOT):
    "Run `agent-tunix score ARGS` in a fresh process."
    return subprocess.run([sys.executable, "-c", RUN, "score", *map(str, args)], input=stdin, capture_output=True,
                          text=True, cwd=cwd, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}, timeout=300)


def _write(path: Path, lines: list) -> Path:
    path.write_text("".join((l if isinstance(l, str) else json.dumps(l)) + "\n" for l in lines), encoding="utf-8")
    return path


def _lines(path: Path) -> list:
    return [json.loads(l) for l in path.read_text(encoding="utf-8").splitlines()]


def _assert_usage_error(p, says: str):
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert says in p.stderr, p.stderr
    assert p.stderr.count("\n") == 1 and "Traceback" not in p.stderr, p.stderr   # one line, no traceback
    assert p.stdout == "", p.stdout


def _bad_row_case(tmp_path, bad, reason: str):
    "Two good rows around one bad one: the good rows are scored, the bad one reported everywhere, exit code 3."
    src = _write(tmp_path / "in.jsonl", [GOOD[0], bad, GOOD[1], GOOD[2]])
    out = tmp_path / "out"
    p = _score(src, "--out", out)
    assert p.returncode == 3, (p.returncode, p.stderr)
    assert f"skipped line 2: {reason}" in p.stderr, p.stderr
    assert "3 completions from" in p.stdout and "(1 rows skipped)" in p.stdout, p.stdout
    assert [r["line"] for r in _lines(out / "scores.jsonl")] == [1, 3, 4]
    assert [r["check_answer"] for r in _lines(out / "scores.jsonl")] == [1.0, 0.0, 1.0]
    assert [(r["line"], r["reason"]) for r in _lines(out / "skipped.jsonl")] == [(2, reason)]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["completions"] == 3 and summary["skipped"] == {"rows": 1, "reasons": {reason: 1}}
    assert "**1 input rows were skipped**" in (out / "report.md").read_text()
    return p


def test_bool_answer_row_is_skipped_and_reported(tmp_path):
    p = _bad_row_case(tmp_path, {"prompt": "2+2?", "completion": "4", "answer": True}, "ground truth of the wrong type")
    assert "'answer' is true" in p.stderr


def test_list_answer_row_is_skipped_and_reported(tmp_path):
    p = _bad_row_case(tmp_path, {"prompt": "2+2?", "completion": "4", "answer": ["4"]}, "ground truth of the wrong type")
    assert """'answer' is ["4"]""" in p.stderr


def test_deep_json_line_is_skipped(tmp_path):
    _bad_row_case(tmp_path, "[" * 100_000 + "]" * 100_000, "nested too deeply")


def test_deeply_nested_completion_row_is_skipped(tmp_path):
    _bad_row_case(tmp_path, '{"prompt": "2+2?", "answer": "4", "completion": ' + "[" * 3000 + "]" * 3000 + "}",
                  "nested too deeply")


def test_not_json_line_is_skipped(tmp_path):
    _bad_row_case(tmp_path, "{broken", "not valid JSON")


def test_row_a_reward_refuses_is_skipped(tmp_path):
    (tmp_path / "picky_rewards.py").write_text(textwrap.dedent('''
        from agent_tunix.core import RewardArgumentError
        from agent_tunix.rewards import check_answer
        def picky(response, ground_truth) -> float:
            "check_answer, refusing a ground truth that starts with '#'."
            if str(ground_truth).startswith("#"): raise RewardArgumentError(f"picky cannot read {ground_truth!r}")
            return check_answer(response, ground_truth)
    '''))
    src = _write(tmp_path / "in.jsonl", [GOOD[0], {"prompt": "p", "completion": "4", "answer": "#4"}, GOOD[1], GOOD[2]])
    out = tmp_path / "out"
    p = _score(src, "--reward", "picky_rewards.picky", "--reward", "check_answer", "--out", out,
               env={"PYTHONPATH": f"{ROOT}{os.pathsep}{tmp_path}"})
    assert p.returncode == 3, p.stderr
    assert "skipped line 2: refused by picky (RewardArgumentError: picky cannot read '#4')" in p.stderr, p.stderr
    scores = _lines(out / "scores.jsonl")
    assert [(r["line"], r["picky"], r["check_answer"]) for r in scores] == [(1, 1.0, 1.0), (3, 0.0, 0.0), (4, 1.0, 1.0)]
    assert "FAILED" not in p.stdout   # the refused row counts as skipped, not as a failure of either reward


def test_only_bad_rows_write_nothing_and_exit_1(tmp_path):
    src = _write(tmp_path / "in.jsonl", ["{broken", {"completion": "4", "answer": True}])
    p = _score(src, "--out", tmp_path / "out")
    assert p.returncode == 1 and "no row of" in p.stderr, p.stderr
    assert sorted(x.name for x in tmp_path.iterdir()) == ["in.jsonl"]


def test_directory_input_is_usage_error(tmp_path):
    _assert_usage_error(_score(tmp_path), "is a folder; give a JSONL file, or - to read standard input")


def test_missing_input_is_usage_error(tmp_path):
    _assert_usage_error(_score(tmp_path / "nope.jsonl"), "no such file")


def test_out_existing_file_is_usage_error(tmp_path):
    src = _write(tmp_path / "in.jsonl", GOOD)
    _assert_usage_error(_score(src, "--out", src), "is an existing file; give a folder")
    assert src.read_text().count("\n") == 3                                                # untouched
    _assert_usage_error(_score(src, "--out", src / "sub"), "is a file, so no folder can be made under it")


def test_out_unwritable_folder_is_usage_error(tmp_path):
    src = _write(tmp_path / "in.jsonl", GOOD)
    if os.geteuid() == 0:   # root writes anywhere a permission bit forbids; /proc refuses even root
        _assert_usage_error(_score(src, "--out", "/proc/agent-tunix-score-test/out"), "cannot write in /proc")
    else:
        locked = tmp_path / "locked"; locked.mkdir(); locked.chmod(0o500)
        try: _assert_usage_error(_score(src, "--out", locked / "out"), "cannot write in")
        finally: locked.chmod(0o700)


def test_negative_max_chars_leaves_no_folder(tmp_path):
    src = _write(tmp_path / "in.jsonl", GOOD)
    _assert_usage_error(_score(src, "--out", tmp_path / "out", "--max-chars", "-5"), "--max-chars: must be a positive whole number")
    _assert_usage_error(_score(src, "--out", tmp_path / "out", "--max-chars", "0"), "--max-chars: must be a positive whole number")
    assert sorted(x.name for x in tmp_path.iterdir()) == ["in.jsonl"]


def test_unknown_reward_is_usage_error_before_any_folder(tmp_path):
    src = _write(tmp_path / "in.jsonl", GOOD)
    _assert_usage_error(_score(src, "--out", tmp_path / "out", "--reward", "check_anwser"), "Did you mean 'check_answer'?")
    assert sorted(x.name for x in tmp_path.iterdir()) == ["in.jsonl"]


def test_interrupted_run_leaves_no_half_written_folder(tmp_path):
    (tmp_path / "stopping.py").write_text(textwrap.dedent('''
        def stops(response, prompt="", metadata={}) -> float:
            "1.0, until the completion that says stop: then an interruption, as Ctrl-C would."
            if response == "stop": raise KeyboardInterrupt
            return 1.0
    '''))
    src = _write(tmp_path / "in.jsonl", [{"completion": str(i)} for i in range(25_000)] + [{"completion": "stop"}])
    env = {"PYTHONPATH": f"{ROOT}{os.pathsep}{tmp_path}"}
    p = _score(src, "--reward", "stopping.stops", "--out", tmp_path / "new", env=env)
    assert p.returncode == 130 and "interrupted" in p.stderr, p.stderr
    assert sorted(x.name for x in tmp_path.iterdir()) == ["in.jsonl", "stopping.py"]   # no folder, not even a temporary one
    old = tmp_path / "old"; old.mkdir(); (old / "scores.jsonl").write_text("earlier\n")
    p = _score(src, "--reward", "stopping.stops", "--out", old, env=env)
    assert p.returncode == 130
    assert [x.name for x in old.iterdir()] == ["scores.jsonl"] and (old / "scores.jsonl").read_text() == "earlier\n"


def test_existing_out_folder_gets_new_outputs_and_keeps_other_files(tmp_path):
    out = tmp_path / "out"; out.mkdir()
    (out / "notes.txt").write_text("mine\n"); (out / "skipped.jsonl").write_text("from an earlier run\n")
    p = _score(_write(tmp_path / "in.jsonl", GOOD), "--out", out)
    assert p.returncode == 0, p.stderr
    names = {x.name for x in out.iterdir()}
    assert "notes.txt" in names and "skipped.jsonl" not in names and "scores.jsonl" in names
    assert not [n for n in names if n.startswith(".")]


def test_stdin_dash(tmp_path):
    text = "".join(json.dumps(r) + "\n" for r in GOOD) + "{broken\n"
    p = _score("-", "--reward", "check_answer", "--out", tmp_path / "out", stdin=text)
    assert p.returncode == 3, p.stderr
    assert "3 completions from <stdin>" in p.stdout and "skipped line 4: not valid JSON" in p.stderr
    assert [r["check_answer"] for r in _lines(tmp_path / "out" / "scores.jsonl")] == [1.0, 0.0, 1.0]


def test_exit_codes_are_documented_in_help():
    p = _score("--help")
    assert p.returncode == 0
    for line in ("0  every row was scored", "1  no row could be scored", "2  usage error", "3  some rows were skipped"):
        assert line in p.stdout, p.stdout


# The peak of the command's own memory: VmHWM, the high-water mark of this process image. (ru_maxrss would not do:
# Linux carries it across exec, so a child of a large pytest process reports at least the parent's size.)
_PEAK = """
import sys
from agent_tunix.cli import main
code = main(sys.argv[1:])
print("peak_kb", next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")))
raise SystemExit(code)
"""


def _peak_mb(path: Path, out: Path) -> float:
    p = subprocess.run([sys.executable, "-c", _PEAK, "score", str(path), "--reward", "check_answer", "--out", str(out)],
                       capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=600)
    assert p.returncode == 0, p.stderr
    return int(p.stdout.split("peak_kb")[-1]) / 1024


def _many_rows(path: Path, n: int) -> Path:
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            y = i // 8 % 97
            f.write(json.dumps({"prompt": f"What is {y} + 0? (problem {i // 8})", "answer": str(y),
                                "completion": f"<reasoning>{y} + 0 = {y}</reasoning><answer>{y + i % 3}</answer>"}) + "\n")
    return path


def test_streaming_memory_bounded(tmp_path):
    """200,000 rows take no more memory than 20,000 (beyond the analysis' fixed-size samples).

    Holding the rows, their scores and texts (as scoring everything at once did) costs well over 1 KB a row:
    180,000 more rows would add 200+ MB. Streamed, the peak grows by what the bounded samples take."""
    small = _peak_mb(_many_rows(tmp_path / "small.jsonl", 20_000), tmp_path / "o1")
    large = _peak_mb(_many_rows(tmp_path / "large.jsonl", 200_000), tmp_path / "o2")
    assert (tmp_path / "large.jsonl").stat().st_size > 20e6
    assert large - small < 60, (small, large)
    assert large < 500, large
    assert len((tmp_path / "o2" / "scores.jsonl").read_text().splitlines()) == 200_000


def _audit(*args, env=None):
    "Run `agent-tunix audit ARGS` in a fresh process."
    return subprocess.run([sys.executable, "-c", RUN, "audit", *map(str, args)], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}, timeout=300)


def test_audit_gates_ci_with_its_exit_code():
    "Exit 0 when no hack is dangerous; --json prints the report alone on stdout (the exit-1 path: the user's module below)."
    r = _audit("combined_reward", "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["dangerous"] == [] and report["rows"] == 8 and report["isolation"].startswith("worker processes")


def test_audit_of_a_users_reward_module(tmp_path):
    "A dotted path to the user's own module: run in guarded workers, its hacks reported, exit 1; a typo is exit 2."
    (tmp_path / "my_rewards.py").write_text(textwrap.dedent('''
        def contains_truth(response, ground_truth=""):
            return float(str(ground_truth) in response)
    '''))
    env = {"PYTHONPATH": f"{ROOT}{os.pathsep}{tmp_path}"}
    r = _audit("my_rewards.contains_truth", "--families", "spraying,constant", "--out", tmp_path / "o", env=env)
    assert r.returncode == 1 and "dangerous: spraying" in r.stdout, (r.stdout, r.stderr)
    assert "spraying" in (tmp_path / "o" / "report.md").read_text()
    r = _audit("my_rewards.contains_truht", env=env)
    assert r.returncode == 2 and r.stdout == "" and r.stderr.startswith("agent-tunix audit: error:"), r.stderr


# --- run_training.py / evaluate.py: --help and the "did you mean" of every misspelt group or bare key -----------------

PROGRAMS = {"train": ("run_training.py", "agent-tunix-train", "Train a language model with GRPO through Tunix"),
            "evaluate": ("evaluate.py", "agent-tunix-evaluate", "Score a model on held-out problems")}


def _main(which: str):
    pytest.importorskip("hydra")
    if which == "train":
        from agent_tunix.train import main
    else:
        from agent_tunix.evaluate import main
    return main


def _help_is_complete(text: str, prog: str, about: str):
    "What every entry point's --help must hold: what it does, each group with its files, common overrides, two examples."
    from agent_tunix.config import SECTIONS, _group_options
    assert text.startswith(f"usage: {prog} ") and about in text, text[:500]
    assert "powered by Hydra" not in text
    flat = " ".join(text.split())
    for group in SECTIONS:   # one line each (wrapped when long), with its files
        assert f"\n  {group} " in text, group
        assert all(o in flat for o in _group_options(group)), group
    assert "Most used overrides" in text
    examples = text.split("Examples:\n")[1].split("\n\n")[0].splitlines()
    assert len(examples) >= 2 and all(e.startswith(f"  {prog} ") for e in examples), examples


def test_help_of_each_program_in_process(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    texts = {}
    for which, (script, _, about) in PROGRAMS.items():
        _main(which)(["--help"])
        texts[which] = capsys.readouterr().out
        _help_is_complete(texts[which], f"python {script}", about)
        _main(which)(["-h", "training.max_steps=3"])        # -h, anywhere among overrides
        assert capsys.readouterr().out == texts[which]
    assert list(tmp_path.iterdir()) == []                    # --help writes nothing
    train, evaluate = (" ".join(texts[k].split()) for k in ("train", "evaluate"))
    # each override with its default from the composed config and the meaning its field's comment gives
    assert "training.log_rewards=false print per-step min/max/mean/std of each reward function" in train
    assert "training.max_steps=" in train and "grpo.num_generations=" in train
    assert "evaluate.num_samples=" in evaluate and "evaluate.run=null evaluate.py: the run folder to score" in evaluate
    assert train != evaluate


def test_help_of_the_installed_commands_and_scripts(tmp_path):
    bin_dir = Path(sys.executable).parent
    for script, command, about in PROGRAMS.values():
        for argv, prog in (([sys.executable, str(ROOT / script)], f"python {script}"), ([str(bin_dir / command)], command)):
            if not Path(argv[0]).exists(): continue        # (the console scripts exist once the package is installed)
            p = subprocess.run([*argv, "--help"], capture_output=True, text=True, cwd=tmp_path, timeout=120,
                               env={**os.environ, "JAX_PLATFORMS": "cpu"})
            assert p.returncode == 0, p.stderr[-2000:]
            _help_is_complete(p.stdout, prog, about)
    assert list(tmp_path.iterdir()) == []


MISTAKES = [   # (override, what the message must say)
    ("trainig.max_steps=5", "unknown config group 'trainig'. Did you mean 'training'?"),
    ("+trainig.max_steps=5", "unknown config group 'trainig'. Did you mean 'training'?"),
    ("modle=tiny", "'modle' is not a config group. Did you mean 'model'?"),
    ("model=tinyy", "no model config 'tinyy'. Did you mean 'tiny'?"),
    ("+temperature=0.9", "write generation.temperature=0.9 or evaluate.temperature=0.9"),
    ("max_steps=5", "'max_steps' is in the 'training' group: write training.max_steps=5."),
    ("max_step=5", "Did you mean 'max_steps'? 'max_steps' is in the 'training' group: write training.max_steps=5."),
    ("training.max_stesp=5", "unknown key 'training.max_stesp'. Did you mean 'max_steps'?"),
    ("+training.reward_functon=check_answer", "Did you mean 'reward_function'?"),
    ("generation.temprature=0.9", "Did you mean 'temperature'?"),
]


@pytest.mark.parametrize("override, says", MISTAKES)
def test_each_misspelt_group_or_key_gets_did_you_mean(override, says, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for which in PROGRAMS:
        with pytest.raises(SystemExit) as stop:
            _main(which)([override])
        err = capsys.readouterr().err
        assert stop.value.code == 2 and err.startswith("config error: ") and says in err, (which, err)
        assert "Traceback" not in err and "Hydra" not in err
    assert list(tmp_path.iterdir()) == []                    # refused before anything is written
