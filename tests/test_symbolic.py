"""Symbolic answers: the corpus of MATH-style pairs, hostile text, the time limit from threads, and life without SymPy."""
import importlib.util, json, logging, os, threading
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

pytest.importorskip("sympy")
from agent_tunix import symbolic
from agent_tunix.parsing import normalize_text
from agent_tunix.symbolic import SYMBOLIC_REASONS, looks_symbolic, parse_answer, symbolic_equal

CORPUS = Path(__file__).parent / "data" / "symbolic_pairs.jsonl"
ROWS = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]


def _verdict(answer: str, truth: str) -> bool:
    "What a caller decides: the symbolic verdict, or the text comparison when the symbolic path has none."
    ok, _ = symbolic_equal(answer, truth)
    return ok if ok is not None else normalize_text(answer) == normalize_text(truth)


def test_corpus_is_large_labelled_and_commented():
    assert len(ROWS) >= 300
    assert {type(r["label"]) for r in ROWS} == {bool}
    assert sum(bool(r["comment"]) for r in ROWS) >= 120       # the tricky rows say why
    assert len({(r["answer"], r["ground_truth"]) for r in ROWS}) == len(ROWS)


def test_corpus_agrees_with_the_careful_grader():
    wrong = [(r["answer"], r["ground_truth"], r["label"]) for r in ROWS if _verdict(r["answer"], r["ground_truth"]) != r["label"]]
    assert not wrong, wrong


# (answer, truth, expected result) — a table of the rules, one comment per row
CASES = [
    (r"\frac{1}{\sqrt{2}}", r"\frac{\sqrt{2}}{2}", (True, "correct")),       # rationalised denominator
    (r"\frac{1}{2^{99}}", r"\frac{1}{2^{98}}", (False, "wrong")),             # exact: no rounding decides
    (r"\sqrt2 \text{ or } -\sqrt2", r"\sqrt2", (False, "hedge")),             # two values for one
    (r"\pm 2", "2, -2", (True, "correct")),                                    # the same two values
    (r"\{2, 1\}", r"\{1, 2\}", (True, "correct")),                            # sets in any order
    ("(1, 2]", "[1, 2)", (False, "wrong")),                                    # brackets matter
    (r"(2, 1)", "(1, 2)", (False, "wrong")),                                   # points are ordered
    ("x = 5", "5", (True, "correct")),                                         # a named value
    (r"30^\circ", "30", (True, "correct")),                                   # degrees
    (r"\text{(A)}", "5", (None, "unparseable")),                               # text: the caller decides
    ("5", "", (None, "gold_invalid")),                                         # an empty ground truth
]

@pytest.mark.parametrize("answer,truth,expected", CASES)
def test_rules(answer, truth, expected):
    assert symbolic_equal(answer, truth) == expected
    assert expected[1] in SYMBOLIC_REASONS


def test_model_text_is_never_evaluated(tmp_path):
    marker = tmp_path / "ran"
    for text in (f"__import__('os').system('touch {marker}')", f"exec('open(\"{marker}\", \"w\")')",
                 "lambda: 1", "x.__class__", "().__class__.__bases__[0]"):
        assert symbolic_equal(text, "1")[0] is not True
    assert not marker.exists()


# pieces of LaTeX and plain maths, glued at random: the reader never raises, never hangs, returns tuples or None
PIECES = [r"\frac", r"\sqrt", "{", "}", "(", ")", "[", "]", r"\{", r"\}", "^", "_", "x", "2", "10", ",", "=", r"\pm", "-",
          "+", r"\cup", r"\infty", r"\text{or}", r"\left(", r"\right]", r"\circ", r"\overline{3}", "0.", "!", "|", r"\sin", " "]

@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=30))
def test_reader_never_raises_on_hostile_text(pieces):
    values = parse_answer("".join(pieces))
    assert values is None or (isinstance(values, tuple) and 0 < len(values) <= symbolic.MAX_ITEMS)


def test_size_limits_refuse_before_work():
    for text in ("(" * 100 + "1" + ")" * 100, "x+" * 600 + "1", "2^{99999}", "9999!", "1" * 200, r"\pm1" * 6):
        assert parse_answer(text) is None, text
    assert symbolic_equal(r"2^{2^{2^{30}}}", "1") == (None, "unparseable")   # refused before SymPy computes it


def test_timeout_from_a_worker_thread_and_recovery():
    out = []
    t = threading.Thread(target=lambda: out.append(symbolic_equal("(a+b+c+d+f)^{1000}", "(a+b+c+d+f)^{999}", timeout=0.3)))
    t.start(); t.join(20)
    assert not t.is_alive() and out == [(None, "timeout")]
    assert symbolic_equal("(x+1)^2", "x^2+2x+1+0") == (True, "correct")      # a fresh process answers the next one


def test_many_threads_at_once():
    pairs = [(f"{k}x + {k}", f"{k}(x+1)") for k in range(2, 14)] + [(f"{k}x", f"{k + 1}x") for k in range(2, 14)]
    results = {}
    def run(a, t): results[(a, t)] = symbolic_equal(a, t, timeout=30)
    threads = [threading.Thread(target=run, args=p) for p in pairs]
    for t in threads: t.start()
    for t in threads: t.join(60)
    assert [results[p][0] for p in pairs] == [True] * 12 + [False] * 12


def test_without_sympy_the_extra_is_named_once(monkeypatch, caplog):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "sympy" else real(name, *a))
    monkeypatch.setattr(symbolic, "_missing_logged", [])
    symbolic._have_sympy.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="agent_tunix.symbolic"):
            assert symbolic_equal("x+1", "1+x+0") == (None, "needs_math_extra")
            assert symbolic_equal("2x", "x+x") == (None, "needs_math_extra")
            assert symbolic_equal("x+1", "x+1") == (True, "correct")             # the same trees need no SymPy
    finally: symbolic._have_sympy.cache_clear()
    logged = [r for r in caplog.records if "agent_tunix[math]" in r.getMessage()]
    assert len(logged) == 1


def test_looks_symbolic_leaves_numbers_and_words_alone():
    assert all(map(looks_symbolic, [r"\frac{\sqrt2}{2}", "2, -2", "x = 5", "[1, 2)", r"\pm 3", "sqrt(2)"]))
    assert not any(map(looks_symbolic, ["72", "Paris", "18 dollars", "$1,000", "odd", "5 + 3 = 8", None, "x" * 5000]))


def test_a_forked_child_starts_its_own_process():
    if not hasattr(os, "fork"): pytest.skip("no fork here")
    assert symbolic_equal("2x+2", "2(x+1)+0")[0] is True                          # the parent's process is running
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try: os.write(w, b"1" if symbolic_equal("3x+3", "3(x+1)+0")[0] is True else b"0")
        finally: os._exit(0)
    os.close(w); os.waitpid(pid, 0)
    assert os.read(r, 1) == b"1"
    assert symbolic_equal("4x+4", "4(x+1)+0")[0] is True                           # the parent's still answers


# --- inside check_answer -----------------------------------------------------------------------------------------
from agent_tunix.rewards import REASONS, check_answer, check_answer_details   # noqa: E402

# corpus rows check_answer scores against the careful grader, on purpose
CHECK_ANSWER_EXCEPTIONS = {
    ("0.1+0.2", "0.3"),   # a plain-number truth: the numeric rules never add numbers up, two numbers are a hedge
    ("x y", "yx"),        # `yx` alone has two letters side by side and no other maths: a word, compared as text
}

def test_check_answer_scores_the_corpus_as_the_grader():
    wrong = [(r["answer"], r["ground_truth"]) for r in ROWS
             if (check_answer(f"\\boxed{{{r['answer']}}}", r["ground_truth"]) == 1.0) != r["label"]]
    assert set(wrong) == CHECK_ANSWER_EXCEPTIONS


def test_check_answer_symbolic_reasons_are_declared():
    assert {"timeout", "needs_math_extra"} <= set(REASONS) and {"timeout", "needs_math_extra"} <= set(check_answer.reasons)
    slow = check_answer_details(r"\boxed{(a+b+c+d+f)^{1000}}", "(a+b+c+d+f)^{999}")
    assert slow.reason in ("timeout", "wrong")          # the default limit (2 s) may or may not suffice on a busy machine


def test_check_answer_without_sympy_scores_as_the_rules(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "sympy" else real(name, *a))
    symbolic._have_sympy.cache_clear()
    try:
        d = check_answer_details(r"\boxed{x^2+2x+1}", "(x+1)^2")
        assert (d.score, d.reason) == (0.0, "needs_math_extra")              # text differs: 0, with the extra named
        d = check_answer_details(r"\boxed{(x+1)^2}", "(x+1)^2")
        assert (d.score, d.reason) == (1.0, "correct")                       # the same trees need no SymPy
    finally: symbolic._have_sympy.cache_clear()


def test_plain_numbers_keep_the_numeric_rules():
    assert check_answer_details("<answer>45</answer>", "50")[:2] == (0.5, "near_miss")
    assert check_answer_details("<answer>1.22</answer>", "1,22")[:2] == (1.0, "correct")     # a decimal comma
    assert check_answer_details(r"<answer>\frac{3}{4}</answer>", "0.75")[:2] == (1.0, "correct")
    assert check_answer_details("<answer>6*7</answer>", "42")[:2] == (0.0, "hedge")          # never adds numbers up
    assert check_answer_details(r"<answer>\sqrt{49}</answer>", "7")[:2] == (1.0, "correct")  # an operation: symbolic
    assert check_answer_details(r"\boxed{0.7071}", r"\frac{\sqrt2}{2}")[:2] == (0.0, "wrong")  # no partial credit
