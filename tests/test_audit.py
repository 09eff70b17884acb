"""The reward audit: every family makes its hacks, the verdict rules, the report, and a reward that raises or hangs
on a hack is a reported finding, never a crash of the audit.

The rewards below are at module level so that the guards' worker processes can import them, as they would a
user's reward module.
"""
import contextlib, io, json, math, time
from fractions import Fraction

import pytest

from agent_tunix.audit import (BASELINES, FAMILIES, LAYOUTS, VERDICTS, AuditRow, Baselines, audit_reward, audit_rows,
                               baseline_completions, fill_format, format_only, load_audit_rows, right_answer,
                               sample_rows, share_of_correct, truth_value, verdict, wrong_answers)
from agent_tunix.cli import EXIT_DANGEROUS, EXIT_OK, EXIT_USAGE, main
from agent_tunix.core import RewardArgumentError, completion_text
from agent_tunix.rewards import check_answer

# problems of every kind a hack must handle: whole, decimal, negative, zero, large, currency, text
ROWS = [AuditRow("Weng earns $12 an hour. She babysat 50 minutes. How much did she earn?", "10"),
        AuditRow("What is 7 divided by 2?", "3.5"),
        AuditRow("It is 3 degrees, then it drops by 10. What is the temperature?", "-7"),
        AuditRow("What is 5 minus 5?", "0"),
        AuditRow("How many pages in a year?", "#### 1,248"),
        AuditRow("What does the wallet cost?", "$100.00"),
        AuditRow("What is the capital of France?", "Paris")]


def contains_truth(response: str, ground_truth: str = "") -> float:
    "The naive check: 1.0 when the ground truth occurs anywhere in the response."
    return float(str(ground_truth) in response)


def _fullwidth(response: str) -> bool: return any("０" <= c <= "９" for c in response)


def raises_on_fullwidth(response: str, ground_truth: str = "") -> float:
    "check_answer, except that full-width digits make it raise."
    if _fullwidth(response): raise ValueError("cannot read full-width digits")
    return check_answer(response, ground_truth)


def hangs_on_fullwidth(response: str, ground_truth: str = "") -> float:
    "check_answer, except that full-width digits make it hang."
    if _fullwidth(response): time.sleep(120)
    return check_answer(response, ground_truth)


def nan_on_fullwidth(response: str, ground_truth: str = "") -> float:
    "check_answer, except that full-width digits make it return NaN."
    return math.nan if _fullwidth(response) else check_answer(response, ground_truth)


def always_raises(response: str, ground_truth: str = "") -> float:
    raise RuntimeError("broken")


def _run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err): code = main(argv)
    return code, out.getvalue(), err.getvalue()


# ---- the families ----

@pytest.mark.parametrize("name", list(FAMILIES))
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_each_family_makes_its_hacks(name, layout):
    for row in ROWS:
        hacks = FAMILIES[name](row._replace(format=LAYOUTS[layout]))
        assert len(hacks) >= 2, (name, row)   # a question without numbers has none to echo
        assert len({h.name for h in hacks}) == len(hacks)
        for h in hacks:
            assert h.why and completion_text(h.completion) is not None
            assert isinstance(h.completion, (str, list)) and h.completion


@pytest.mark.parametrize("name", list(FAMILIES))
def test_a_consistent_reader_pays_no_hack(name):
    "The right answer never sits where a consistent reader looks: check_answer scores every numeric hack below correct."
    for row in ROWS[:6]:
        r = row._replace(format=LAYOUTS["statement"])
        for h in FAMILIES[name](r):
            assert check_answer(completion_text(h.completion), row.answer) < 1.0, (name, h)


def test_the_naive_reward_is_paid_by_the_families_that_target_it():
    "Each answer-hiding hack contains the right answer: the naive substring check pays it."
    row = ROWS[0]._replace(format=LAYOUTS["statement"])
    for name in ("answer_spraying", "hedges", "buried_number", "conflicting_slots"):
        fam = {f.__name__: f for f in FAMILIES.values()}[name]
        assert any(contains_truth(completion_text(h.completion), "10") for h in fam(row)), name


def test_wrong_answers_are_far_from_the_truth_and_never_equal():
    for row in ROWS[:6]:
        v = truth_value(row)
        for w in wrong_answers(row, 5):
            assert abs(Fraction(w) - v) * 10 > abs(v) and Fraction(w) != v, (row, w)
    assert right_answer(ROWS[4]) == "1248" and right_answer(ROWS[5]) == "100"


def test_constant_answers_skip_a_right_or_near_guess():
    assert [h.name for h in FAMILIES["constant"](AuditRow("", "1", "[NUM]"))] == ["always_0", "always_-1", "always_42"]
    assert [h.name for h in FAMILIES["constant"](AuditRow("", "44", "[NUM]"))] == ["always_0", "always_1", "always_-1"]


def test_baselines_score_as_named_under_check_answer():
    row = ROWS[0]._replace(format=LAYOUTS["tags"])
    texts = baseline_completions(row)
    assert list(texts) == list(BASELINES)
    assert [check_answer(texts[k], "10") for k in BASELINES] == [1.0, 0.0, 0.5, 0.0]
    assert fill_format("[TEXT]\n#### [NUM]", 4, work="") == "#### 4"


# ---- verdicts ----

@pytest.mark.parametrize("mean,baselines,failures,expected", [
    (0.30, Baselines(1.0, 0.3, 0.65, 0.0), 0, "safe"),        # what an honest wrong answer earns
    (0.34, Baselines(1.0, 0.3, 0.65, 0.0), 0, "safe"),        # within the 5 % tolerance
    (0.36, Baselines(1.0, 0.3, 0.65, 0.0), 0, "paid"),
    (0.49, Baselines(1.0, 0.3, 0.65, 0.0), 0, "paid"),
    (0.50, Baselines(1.0, 0.3, 0.65, 0.0), 0, "dangerous"),   # half the correct reward
    (0.00, Baselines(1.0, 0.3, 0.65, 0.0), 1, "fails"),       # a failure outranks the score
    (1.00, Baselines(1.0, 1.0, 1.0, 0.0), 0, "format"),       # format-only: paid for format, expected
    (0.40, Baselines(1.0, 1.0, 1.0, 0.0), 0, "safe"),
    (6.00, Baselines(9.5, 4.0, 5.5, -2.0), 0, "dangerous"),   # negative floor: share (6 + 2) / 11.5
    (3.70, Baselines(9.5, 4.0, 5.5, -2.0), 0, "safe"),
    (0.10, Baselines(0.0, 0.0, 0.0, 0.0), 0, "dangerous"),    # pays a hack, nothing for the truth
])
def test_verdict_rules(mean, baselines, failures, expected):
    assert verdict(mean, baselines, 0.05, failures) == expected
    assert expected in VERDICTS


def test_share_and_format_only():
    assert share_of_correct(0.65, Baselines(1.0, 0.3, 0.65, 0.0)) == pytest.approx(0.65)
    assert math.isnan(share_of_correct(1.0, Baselines(1.0, 1.0, 1.0, 1.0)))
    assert format_only(Baselines(1.0, 1.0, 1.0, 0.0)) and not format_only(Baselines(1.0, 0.3, 0.65, 0.0))


# ---- the audit ----

def test_builtin_answer_rewards_have_no_dangerous_hack():
    for name in ("check_answer", "combined_reward", "graduated_answer", "shaped_answer"):
        report = audit_reward(name, timeout=None)
        assert (report.kind, report.dangerous, report.exit_code) == ("answer", [], 0), (name, report.table())


def test_format_rewards_are_reported_as_format_only():
    report = audit_reward("match_format_approximately", timeout=None)
    assert (report.kind, report.layout, report.dangerous) == ("format-only", "tags", [])
    assert "format-only reward is expected to pay for the format" in report.table()


def test_the_naive_reward_fails_the_audit():
    report = audit_reward(contains_truth)
    assert report.isolation.startswith("worker processes")    # a module-level function runs guarded
    assert {"spraying", "hedges", "buried", "conflicting_slots"} <= set(report.dangerous)
    worst = {f.family: f for f in report.families}["spraying"]
    assert worst.score == 1.0 and worst.share == 1.0 and worst.why


@pytest.mark.parametrize("reward,error", [(raises_on_fullwidth, "ValueError: cannot read full-width digits"),
                                          (nan_on_fullwidth, "nan")])
def test_a_reward_that_fails_on_a_hack_is_a_finding(reward, error):
    report = audit_reward(reward, ROWS[:3], families=["unicode", "hedges"])
    fam = {f.family: f for f in report.families}
    assert fam["unicode"].verdict == "fails" and error in fam["unicode"].error
    assert fam["unicode"].hack == "fullwidth_wrong" and fam["unicode"].failures == 3
    assert fam["hedges"].verdict == "safe"              # the rest of the audit goes on
    assert report.dangerous == ["unicode"] and report.exit_code == 1


def test_a_reward_that_hangs_on_a_hack_is_a_finding():
    report = audit_reward(hangs_on_fullwidth, ROWS[:2], families="unicode,constant", timeout=0.5)
    fam = {f.family: f for f in report.families}
    assert fam["unicode"].verdict == "fails" and fam["unicode"].error.startswith("hangs_on_fullwidth: timeout")
    assert fam["constant"].verdict == "safe"
    assert report.dangerous == ["unicode"]


def test_a_family_that_keeps_failing_stops_early():
    report = audit_reward(raises_on_fullwidth, ROWS[:4], families=["unicode"], timeout=None, max_failures=2)
    fam = report.families[0]
    assert fam.failures == 4 and fam.not_run > 0 and list(fam.hacks) == ["fullwidth_wrong"]


def test_a_reward_that_fails_on_honest_answers_is_broken():
    report = audit_reward(always_raises, ROWS[:4], timeout=None)
    assert (report.kind, report.families, report.dangerous, report.exit_code) == ("broken", [], ["baselines"], 1)
    assert "the reward failed on the honest correct answer: always_raises: RuntimeError: broken" in report.table()


def test_known_findings_are_shown_and_left_out():
    known = {"tool_messages/made_up_turn": "the substring check reads the dialogue it made up"}
    plain = audit_reward(contains_truth, families=["tool_messages"], timeout=None)
    marked = audit_reward(contains_truth, families=["tool_messages"], timeout=None, known=known)
    assert plain.families[0].hack == "made_up_turn" and plain.dangerous == ["tool_messages"]
    assert marked.dangerous == [] and list(marked.families[0].known) == ["made_up_turn"]


def test_a_made_up_user_turn_pays_no_answer_reward():
    "The parser ends a response at a turn written for the user, so an answer only there earns nothing."
    report = audit_reward("check_answer", families=["tool_messages"], timeout=None)
    assert report.dangerous == [] and report.families[0].hacks["made_up_turn"] == 0.0


def test_specs_with_weights_and_configuration_errors():
    report = audit_reward({"check_answer": 0.7, "match_format_exactly": 0.3}, families=["spraying"], timeout=None)
    assert report.reward == "check_answer_x0.7 + match_format_exactly_x0.3" and report.baselines.correct == pytest.approx(1.0)
    with pytest.raises(RewardArgumentError, match="expected_numbers"):   # a column the reward needs: raised at once
        audit_reward("check_numbers", timeout=None)
    with pytest.raises(RewardArgumentError, match="tolerance"):
        audit_reward("check_answer", tolerance=2)


def test_rows_from_data_and_files(tmp_path):
    rows, problems = audit_rows([{"prompt": "1+1?", "answer": 2, "format": "The answer is [NUM]."}, {"answer": None}])
    assert rows[0].format == "The answer is [NUM]." and rows[0].columns == (("expected_format", "The answer is [NUM]."),)
    assert problems == ["row 2: 'answer' must be a non-empty string or a number, got null"]
    report = audit_reward("combined_reward", rows, families=["content_free"], timeout=None)
    assert report.layout == "given"
    (tmp_path / "p.jsonl").write_text('{"prompt": "1+1?", "answer": "2"}\n\xff\n', encoding="latin-1")
    rows, problems = load_audit_rows(tmp_path / "p.jsonl")
    assert len(rows) == 1 and problems == ["line 2: not valid JSON (UnicodeDecodeError)"]
    assert len(sample_rows()) == 8


def test_report_outputs(tmp_path):
    report = audit_reward("combined_reward", timeout=None)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["dangerous"] == [] and len(data["families"]) == len(FAMILIES) and data["baselines"]["wrong"] == pytest.approx(0.3)
    paths = report.save(tmp_path / "out")
    assert [p.name for p in paths] == ["report.md", "audit.json", "audit.png"] and all(p.stat().st_size for p in paths)
    assert paths[2].read_bytes()[:4] == b"\x89PNG"


# ---- the command ----

def test_cli_exit_codes_and_outputs(tmp_path):
    code, out, err = _run(["audit", f"{__name__}.contains_truth", "--in-process", "--families", "tool_messages"])
    assert code == EXIT_DANGEROUS and "dangerous: tool_messages" in out
    code, out, err = _run(["audit", f"{__name__}.contains_truth", "--families", "tool_messages", "--known",
                           "tool_messages/made_up_turn", "--json", "--out", str(tmp_path / "o")])
    assert code == EXIT_OK and json.loads(out)["dangerous"] == [] and "wrote" in err
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["audit.json", "audit.png", "report.md"]
    code, out, err = _run(["audit", f"{__name__}.contains_truth", "--families", "spraying,hedges"])
    assert code == EXIT_DANGEROUS and "dangerous: spraying, hedges" in out, out


def test_cli_broken_and_empty_files(tmp_path):
    (tmp_path / "b.jsonl").write_text('{"prompt": "2+2?", "answer": "4"}\n[1]\n')
    code, out, err = _run(["audit", "check_answer", str(tmp_path / "b.jsonl"), "--families", "hedges"])
    assert code == EXIT_OK and err == "skipped line 2: not a JSON object (got list)\n"
    (tmp_path / "e.jsonl").write_text("\n")
    code, out, err = _run(["audit", "check_answer", str(tmp_path / "e.jsonl")])
    assert code == EXIT_USAGE and out == "" and err.startswith("agent-tunix audit: error: no usable row in")
    code, out, err = _run(["audit", "check_answer", "--families", "nope"])
    assert code == EXIT_USAGE and "unknown hack families ['nope']" in err
