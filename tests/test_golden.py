"""Golden cases for `check_answer`: a hand-written GSM8K-style table, and agreement with Math-Verify's own cases.

(a) Each row of `GOLDEN` is (response, ground truth, score, reason), with a comment saying which rule
of DESIGN.md ("Answers and numbers", "Scores with reasons", "Built-in rewards") it exercises.  Where
DESIGN.md is silent the row records the library's reading and its comment says so.
(b) `tests/data/math_verify_numeric.jsonl` is a copy of `shared/peer/math_verify_numeric.jsonl`: the
cases of Hugging Face Math-Verify's test-suite whose gold answer is a plain number.  We agree with
Math-Verify's verdict except on a documented list of deliberate disagreements.
"""

import json
from pathlib import Path

import pytest

from agent_tunix.rewards import REASONS, check_answer, check_answer_details

GSM8K_SOLUTION = ("Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n"
                  "Natalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.\n#### 72")

# (response, ground_truth, expected score, expected reason)
GOLDEN = [
    # --- valid: one number in the last slot, in every spelling DESIGN.md normalises ---------------
    ("<answer>72</answer>", "72", 1.0, "correct"),                       # plain integer in answer tags
    ("<answer>1,000</answer>", "1000", 1.0, "correct"),                  # thousands separator
    ("<answer>1,000,000</answer>", "1000000", 1.0, "correct"),           # several separators
    ("<answer>1 000</answer>", "1000", 1.0, "correct"),                  # space as thousands separator
    ("<answer>\\$1{,}000.00</answer>", "1000", 1.0, "correct"),          # LaTeX currency, {,} separator, trailing zeros
    ("<answer>$18</answer>", "18", 1.0, "correct"),                      # currency prefix
    ("<answer>-$18</answer>", "-18", 1.0, "correct"),                    # sign before the currency
    ("<answer>18 dollars</answer>", "18", 1.0, "correct"),               # unit word after the number
    ("<answer>18 km</answer>", "18", 1.0, "correct"),                    # unit after the number
    ("<answer>\\text{72 dollars}</answer>", "72", 1.0, "correct"),       # LaTeX \text wrapper is noise
    ("<answer>about 72</answer>", "72", 1.0, "correct"),                 # words around one number
    ("<answer>50%</answer>", "50", 1.0, "correct"),                      # % keeps the number's value
    ("<answer>+72</answer>", "72", 1.0, "correct"),                      # leading plus
    ("<answer>072</answer>", "72", 1.0, "correct"),                      # leading zero
    ("<answer>72.</answer>", "72", 1.0, "correct"),                      # trailing period
    ("<answer>\u22125</answer>", "-5", 1.0, "correct"),                  # Unicode minus in the response
    ("<answer>-5</answer>", "\u22125", 1.0, "correct"),                  # Unicode minus in the ground truth
    ("<answer>18.00</answer>", "18", 1.0, "correct"),                    # 18.00 == 18
    ("<answer>1/2</answer>", "0.5", 1.0, "correct"),                     # 1/2 == 0.5
    ("<answer>\\frac{1}{2}</answer>", "0.5", 1.0, "correct"),            # \frac{a}{b}
    ("\\boxed{\\frac{3}{4}}", "0.75", 1.0, "correct"),                   # \frac inside \boxed (nested braces)
    ("<answer>0.1</answer>", "1/10", 1.0, "correct"),                    # exact rationals, no float error
    ("<answer>1.5e3</answer>", "1500", 1.0, "correct"),                  # scientific notation
    ("<answer>1.5 \\times 10^{3}</answer>", "1500", 1.0, "correct"),     # scientific notation as a LaTeX product
    ("#### 1,234", "1234", 1.0, "correct"),                              # GSM8K answer line
    ("The answer is: **72**", "72", 1.0, "correct"),                     # 'the answer is' slot, Markdown bold
    ("**Answer:** 72", "72", 1.0, "correct"),                            # 'Answer:' slot behind bold markers
    ("<answer>72</answer>", 72, 1.0, "correct"),                         # an int ground truth
    ("<answer>72</answer>", "$72", 1.0, "correct"),                      # the ground truth is normalised too
    ("<answer>72</answer>", "#### 72", 1.0, "correct"),                  # a GSM8K answer line as the truth
    ("<answer>72</answer>", GSM8K_SOLUTION, 1.0, "correct"),             # a full GSM8K solution as the truth
    ("<answer>-\\frac{3}{4}</answer>", "-0.75", 1.0, "correct"),         # sign before \frac (DESIGN: sign + \frac)
    ("<answer>18</answer>", "18 dollars", 1.0, "correct"),              # a truth is read with the same rules: unit word
    ("<answer>0.75</answer>", "3/4 of a cup", 1.0, "correct"),           # a truth with words after a fraction
    ("<answer>-0.75</answer>", "-\\frac{3}{4}", 1.0, "correct"),        # a truth with a sign before \frac
    # --- slots: which one is the answer --------------------------------------------------------------
    ("<answer>72</answer> no wait <answer>73</answer>", "73", 1.0, "correct"),   # the last slot wins
    ("The answer is 73. <answer>72</answer>", "72", 1.0, "correct"),             # last slot wins across kinds
    ("<answer>72</answer> Wait, \\boxed{99}", "72", 0.0, "wrong"),               # a later \boxed overrides the tag
    ("\\boxed{72}\n#### 73", "73", 1.0, "correct"),                              # a later #### line overrides \boxed
    ("<answer>\\boxed{72}</answer>", "72", 1.0, "correct"),                      # \boxed inside the tag: same value
    ("The answer is 72. Check: 5 + 5 = 10.", "72", 1.0, "correct"),              # a slot beats the last number
    ("5 + 5 = 10, so 72 in total", "72", 1.0, "correct"),                        # no slot: the last number
    ("The total is 72 apples.", "72", 1.0, "correct"),                           # no slot: last number, unit after
    ("<answer>72", "72", 1.0, "correct"),                                        # unclosed tag: to the end
    ("<answer>72</answer>\nThe answer is correct.", "72", 1.0, "correct"),       # "the answer is correct." says no number:
                                                                                 #   the library lets the earlier slot speak
                                                                                 #   (DESIGN silent)
    ("<answer>x = 8</answer>", "8", 1.0, "correct"),                             # equation in the slot: one number
    ("<answer>2 + 6 = 8</answer>", "8", 1.0, "correct"),                         # equation: the right-hand side of the
                                                                                 #   last '=' (library rule; DESIGN silent)
    ("<answer>x \\approx 7.78</answer>", "7.78", 1.0, "correct"),                # \approx is a relation like '='
    # --- hedges: two or more different numbers in the slot -------------------------------------------
    ("<answer>4 or 5</answer>", "4", 0.0, "hedge"),                      # DESIGN's own example
    ("<answer>3, 4, 5</answer>", "4", 0.0, "hedge"),                     # DESIGN's own example
    ("<answer>72 or 73</answer>", "72", 0.0, "hedge"),                   # the right number among others earns nothing
    ("<answer>4 or 4</answer>", "4", 1.0, "correct"),                    # the same number twice is not a hedge
    ("the final answer is 72 and 73", "72", 0.0, "hedge"),               # 'answer is' slot with two numbers
    ("<answer>3 apples and 4 pears</answer>", "7", 0.0, "hedge"),        # never adds numbers up
    ("<answer>72\nthen 99", "72", 0.0, "hedge"),                         # unclosed tag runs to the end (library rule)
    ("<answer>72 or 1/0</answer>", "72", 0.0, "hedge"),                  # a readable and an unreadable number (library rule)
    # --- graded: near misses within 10 % of a non-zero truth (inclusive) ------------------------------
    ("<answer>66</answer>", "72", 0.5, "near_miss"),                     # 8.3 % off
    ("<answer>64.8</answer>", "72", 0.5, "near_miss"),                   # exactly 10 % below: inclusive
    ("<answer>79.2</answer>", "72", 0.5, "near_miss"),                   # exactly 10 % above: inclusive (exact rationals)
    ("<answer>64.7</answer>", "72", 0.0, "wrong"),                       # just outside 10 %
    ("<answer>80</answer>", "72", 0.0, "wrong"),                         # 11 % off
    ("<answer>-72</answer>", "72", 0.0, "wrong"),                        # wrong sign
    ("<answer>0.05</answer>", "0", 0.0, "wrong"),                        # no near miss around a zero truth
    ("\\boxed{-\\frac{3}{4}}", "0.75", 0.0, "wrong"),                    # -3/4 is not 3/4 (sign before \frac)
    # --- no readable answer ------------------------------------------------------------------------------
    ("no numbers here", "72", 0.0, "no_answer"),                         # no slot and no number
    ("", "72", 0.0, "no_answer"),                                        # empty completion
    ("<answer>seventy-two</answer>", "72", 1.0, "correct"),              # number words in a slot are read
    ("<answer></answer>", "72", 0.0, "unparseable"),                     # empty slot
    ("<answer>1/0</answer>", "72", 0.0, "unparseable"),                  # division by zero is no number
    ("<answer>6*7</answer>", "42", 0.0, "hedge"),                        # never evaluated: two numbers, 6 and 7
    # --- text ground truths: normalised text comparison ----------------------------------------------
    ("<answer>Paris</answer>", "Paris", 1.0, "correct"),                 # same text
    ("<answer>paris.</answer>", "Paris", 1.0, "correct"),                # case and outer punctuation do not matter
    ("<answer>**Paris**</answer>", " paris ", 1.0, "correct"),           # bold and spaces do not matter
    ("<answer>London</answer>", "Paris", 0.0, "wrong"),                  # different text
    ("I think so.\nParis", "Paris", 1.0, "correct"),                     # no slot: the last line (library rule)
    ("<answer>3, 4</answer>", "3, 4", 1.0, "correct"),                   # a list as the truth compares as text
    # --- percent, both ways (library rule: n% also reads as n/100; DESIGN silent) ----------------------
    ("<answer>50%</answer>", "0.5", 1.0, "correct"),                     # 50% == 0.5
    ("<answer>0.25</answer>", "25%", 1.0, "correct"),                    # a percent truth: 25% == 0.25
    # --- decimal comma (Math-Verify reads it so; DESIGN silent) -------------------------------------
    ("<answer>1,5</answer>", "1.5", 1.0, "correct"),                     # one or two digits after a comma: decimal
    # --- number words: in a slot, after "the answer is", as a ground truth (DESIGN: "Number words count") ---
    ("<answer>twelve</answer>", "12", 1.0, "correct"),                   # a unit word
    ("<answer>Forty-Two</answer>", "42", 1.0, "correct"),                # hyphenated, any case
    ("<answer>forty two</answer>", "42", 1.0, "correct"),                # spaced
    ("<answer>one hundred and five</answer>", "105", 1.0, "correct"),    # British "and" after a scale
    ("<answer>two thousand and twenty-four</answer>", "2024", 1.0, "correct"),  # scales combine
    ("The answer is eighteen.", "18", 1.0, "correct"),                   # after "the answer is"
    ("The answer is eighteen dollars.", "18", 1.0, "correct"),           # a unit after the words
    ("#### seventy-two", "72", 1.0, "correct"),                          # in a GSM8K answer line
    ("<answer>7</answer>", "seven", 1.0, "correct"),                     # a ground truth in words
    ("<answer>eight</answer>", "seven", 0.0, "wrong"),                   # words on both sides, different
    ("<answer>three or four</answer>", "3", 0.0, "hedge"),               # a hedge in words is still a hedge
    ("<answer>three or 4</answer>", "4", 0.0, "hedge"),                  # "or" between a word and a digit: two answers
    ("<answer>one of them: 72</answer>", "72", 1.0, "correct"),          # digits present: "one" is a pronoun here
    ("I think it is twelve", "12", 0.0, "no_answer"),                    # outside a slot words are not read
    ("<answer>minus seven</answer>", "-7", 1.0, "correct"),              # a sign in words
    # --- one amount in two units (DESIGN: "two units of one amount are one value") -------------------
    ("<answer>72 dollars and 50 cents</answer>", "72.5", 1.0, "correct"),  # dollars and cents
    ("<answer>72 dollars 50 cents</answer>", "72.50", 1.0, "correct"),   # without "and"
    ("The answer is $72 and 50 cents.", "72.5", 1.0, "correct"),         # a $ before the dollars
    ("<answer>72 dollars and 50 cents</answer>", "72", 0.5, "near_miss"),  # the cents count: within 10 %, not equal
    ("<answer>2 hours and 30 minutes</answer>", "150", 1.0, "correct"),  # the truth's scale is minutes
    ("<answer>2 hours and 30 minutes</answer>", "2.5", 1.0, "correct"),  # the truth's scale is hours
    ("<answer>1 minute and 5 seconds</answer>", "65", 1.0, "correct"),   # minutes and seconds
    ("<answer>2 hours and 75 minutes</answer>", "195", 0.0, "hedge"),    # 75 minutes is no part of an hour: two numbers
    ("<answer>3 dollars and 4 apples</answer>", "3", 0.0, "hedge"),      # two units of different things
    # --- invisible characters (DESIGN: "Unicode format characters are removed before reading") ---------
    ("The answer is 1\u200b0.", "10", 1.0, "correct"),                  # zero-width space
    ("<answer>1\u200f0</answer>", "10", 1.0, "correct"),                # right-to-left mark
    ("<answer>1\u00ad000</answer>", "1000", 1.0, "correct"),            # soft hyphen
    ("<answer>7\u20602</answer>", "72", 1.0, "correct"),                # word joiner
    ("<answer>\ufeff72</answer>", "72", 1.0, "correct"),                # byte-order mark
    ("<answer>72</answer>", "7\u200b2", 1.0, "correct"),                # in the ground truth too
    # --- a made-up next turn ends the response (DESIGN: "A made-up next turn ... ends the response") ---
    ("48 + 24 = 72.\n#### 72\n\nQuestion: Jo has 8 pens. How many?\nAnswer: #### 8", "72", 1.0, "correct"),
    ("The answer is 9.\nQ: What is 2+2?\nA: The answer is 4.", "9", 1.0, "correct"),   # Q:/A: turn
    ("<answer>5</answer>\nProblem: A new one.\n<answer>6</answer>", "5", 1.0, "correct"),  # Problem: turn
    ("The answer is 70. Wait, the tip. The answer is 72.", "72", 1.0, "correct"),  # a correction in the same answer
    ("Question: how many in all?\n3 + 4 = 7. The answer is 7.", "7", 1.0, "correct"),  # a restated question opens it
    ("Let me restate.\nQuestion: how many?\nThe answer is 7.", "7", 1.0, "correct"),  # no answer before it: not a new turn
    ("#### 72\n\nQuestion: Jo has 8 pens.\nAnswer: #### 8", "8", 0.0, "wrong"),  # the invented answer never scores
    # --- invalid ground truths are gold_invalid, never silently correct ------------------------------
    ("<answer>72</answer>", "", 0.0, "gold_invalid"),                    # empty
    ("<answer>72</answer>", "   ", 0.0, "gold_invalid"),                 # blank
    ("<answer>72</answer>", None, 0.0, "gold_invalid"),                  # missing
    ("<answer>72</answer>", "NaN", 0.0, "gold_invalid"),                 # NaN
    ("<answer>nan</answer>", "nan", 0.0, "gold_invalid"),                # NaN == NaN is not a correct answer
    ("<answer>72</answer>", "1/0", 0.0, "gold_invalid"),                 # division by zero
    ("<answer>72</answer>", "None", 0.0, "gold_invalid"),                # a serialised None
    ("<answer>1e999999</answer>", "1e999999", 0.0, "gold_invalid"),      # too large to read, even if equal as text
    ("<answer>inf</answer>", float("inf"), 0.0, "gold_invalid"),         # a non-finite float truth
    ("<answer>72</answer>", True, 0.0, "gold_invalid"),                  # a bool is no answer: the row's fault, reported
    ("<answer>72</answer>", ["72"], 0.0, "gold_invalid"),                # a list: one bad row never stops a batch
    ("<answer>72</answer>", b"72", 1.0, "correct"),                      # bytes (TFDS columns) are decoded
]


def test_golden_table_is_big_enough():
    assert len(GOLDEN) >= 40
    assert {reason for *_, reason in GOLDEN} <= set(REASONS)
    assert {reason for *_, reason in GOLDEN} >= {"correct", "near_miss", "wrong", "hedge", "no_answer",
                                                 "unparseable", "gold_invalid"}


@pytest.mark.parametrize("response,ground_truth,score,reason", GOLDEN,
                         ids=[f"{i:02d}-{row[3]}" for i, row in enumerate(GOLDEN)])
def test_golden(response, ground_truth, score, reason):
    d = check_answer_details(response, ground_truth)
    assert (d.score, d.reason) == (score, reason), d
    assert check_answer(response, ground_truth) == score


# ---------------------------------------------------------------------------------------------
# (b) Math-Verify's numeric cases
# ---------------------------------------------------------------------------------------------
PEER_COPY = Path(__file__).resolve().parent / "data" / "math_verify_numeric.jsonl"
PEER_SHARED = Path(__file__).resolve().parents[2] / "shared" / "peer" / "math_verify_numeric.jsonl"

# Rows (0-based line numbers of the file) where we deliberately differ from Math-Verify, and why.
DELIBERATE_DISAGREEMENTS = {
    # "Answer \( (9+1) \)" == 10 for Math-Verify, which evaluates the expression.  We never evaluate
    # model text as code: "Answer" without ':'/'is'/'=' is no slot, so the last number, 1, is the
    # answer, and 1 is not 10 (we score 0, reason 'wrong').
    24: "needs expression evaluation (9+1), which we never do",
    # "Answer $ \n 9 \n $": Math-Verify will not read a $...$ span broken by newlines and rejects it.
    # "Answer" without ':'/'is'/'=' is no slot, so the last number, 9, is the answer (we score 1).
    25: "we read the last number 9 across the newlines of a $...$ span; Math-Verify rejects the span",
    # "Answer \( \n 9 \n \)": the same with \( ... \) delimiters (we score 1, Math-Verify 0).
    26: "we read the last number 9 across the newlines of a \\(...\\) span; Math-Verify rejects the span",
    # "$\frac{1+\sqrt{5}}{2}$" vs 2: the \frac has an expression inside, so it is not a fraction we
    # read; there is no slot, so the last number, 2, is the answer and equals the truth (we score 1).
    # Math-Verify evaluates the golden ratio and says no.
    38: "\\frac{1+\\sqrt{5}}{2} has no slot, so the last number 2 counts",
}


def _peer_rows():
    return [json.loads(line) for line in PEER_COPY.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_peer_copy_matches_shared():
    "The copy under tests/data is the shared peer file (checked only where shared/ sits beside the repo)."
    if not PEER_SHARED.exists(): pytest.skip(f"{PEER_SHARED} is not present")
    assert PEER_COPY.read_bytes() == PEER_SHARED.read_bytes(), "tests/data copy is out of date with shared/peer"


def test_math_verify_agreement():
    rows = _peer_rows()
    assert len(rows) == 58
    disagree = {}
    for i, row in enumerate(rows):
        ours = check_answer(row["response"], row["ground_truth"]) == 1.0
        if ours != row["expected_correct"]: disagree[i] = row
    agree = len(rows) - len(disagree)
    print(f"\nMath-Verify numeric cases: agreement {agree}/{len(rows)} ({agree / len(rows):.1%}); "
          f"disagreements at rows {sorted(disagree)}")
    for i, row in sorted(disagree.items()):
        print(f"  row {i}: response={row['response'][:60]!r} truth={row['ground_truth']!r} "
              f"math-verify={row['expected_correct']} — {DELIBERATE_DISAGREEMENTS.get(i, 'UNDOCUMENTED')}")
    assert agree >= 53
    assert set(disagree) == set(DELIBERATE_DISAGREEMENTS), (
        f"undocumented disagreements: {sorted(set(disagree) - set(DELIBERATE_DISAGREEMENTS))}; "
        f"documented ones that now agree: {sorted(set(DELIBERATE_DISAGREEMENTS) - set(disagree))}")


@pytest.mark.parametrize("row", sorted(DELIBERATE_DISAGREEMENTS))
def test_deliberate_disagreements_are_what_the_comments_say(row):
    r = _peer_rows()[row]
    d = check_answer_details(r["response"], r["ground_truth"])
    expected = {24: (0.0, "wrong"), 25: (1.0, "correct"), 26: (1.0, "correct"), 38: (1.0, "correct")}[row]
    assert (d.score, d.reason) == expected, d


# ---------------------------------------------------------------------------------------------
# (c) Completions in the shapes trainers send, and format layout
# ---------------------------------------------------------------------------------------------
from agent_tunix.core import batch_reward  # noqa: E402
from agent_tunix.rewards import match_format_details  # noqa: E402

def _msg(role, content, **kw): return {"role": role, "content": content, **kw}

# (completion as a trainer sends it, ground truth, expected check_answer score)
SHAPES = [
    ("The answer is 72.", "72", 1.0),                                                      # Tunix / TRL standard: a string
    ([_msg("assistant", "The answer is 72.")], "72", 1.0),                                 # TRL conversational
    ([_msg("assistant", [{"type": "text", "text": "The answer is 72."}])], "72", 1.0),     # content as a list of blocks
    ([_msg("assistant", [{"type": "thinking", "thinking": "is it 70?"},
                         {"type": "text", "text": "The answer is 72."}])], "72", 1.0),     # thinking is reasoning, text answers
    ([_msg("assistant", [{"type": "text", "text": "The answer is 72."},
                         {"type": "thinking", "thinking": "or 70"}])], "72", 1.0),        # a thinking block after: still not read
    ([_msg("assistant", [{"type": "thinking", "thinking": "The answer is 72."}])], "72", 0.0),  # only thinking: no answer
    ([_msg("assistant", "", tool_calls=[{"function": {"name": "calc"}}]), _msg("tool", "72"),
      _msg("assistant", "I could not finish.")], "72", 0.0),                               # a tool's output is not the answer
    ([_msg("assistant", "Let me compute."), _msg("tool", "72"),
      _msg("assistant", "The answer is 72.")], "72", 1.0),                                 # the model's last turn answers
    ([_msg("assistant", "The answer is 72."), _msg("tool", "70")], "72", 1.0),             # a trailing tool turn is ignored
    ([_msg("assistant", "The answer is 72."),
      _msg("assistant", "", tool_calls=[{"function": {"name": "done"}}])], "72", 1.0),     # last assistant turn with text
    ([_msg("tool", "72")], "72", 0.0),                                                     # no assistant turn: no answer
    ([_msg("user", "The answer is 72.")], "72", 0.0),                                      # a user turn never answers
    ([_msg("system", "#### 72"), _msg("assistant", "The answer is 5.")], "72", 0.0),       # nor a system turn
    ({"role": "assistant", "content": "#### 72"}, "72", 1.0),                              # a single message
]

@pytest.mark.parametrize("completion,truth,score", SHAPES, ids=[f"shape{i:02d}" for i in range(len(SHAPES))])
def test_completion_shapes(completion, truth, score):
    assert batch_reward(check_answer)(None, [completion], answer=[truth]) == [score]

TAGGED = "<reasoning>[TEXT]</reasoning><answer>[NUM]</answer>"
# (response, expected match_format_exactly score, reason) — DESIGN: "whitespace between or inside tags is layout"
LAYOUT = [
    ("<reasoning>r</reasoning>\n<answer>4</answer>", 1.0, "format_exact"),              # the Tunix demo's layout
    ("<reasoning>r</reasoning>\r\n<answer>4</answer>\r\n", 1.0, "format_exact"),        # CRLF
    ("<reasoning>\nr\n</reasoning>\n\n<answer>\n4\n</answer>", 1.0, "format_exact"),    # breaks inside the tags
    ("<reasoning>r</reasoning>  \t <answer> 4 </answer>", 1.0, "format_exact"),        # spaces and tabs
    ("<reasoning>r</reasoning> so <answer>4</answer>", 0.5, "format_partial"),          # words between the tags
    ("<reasoning>\n\n</reasoning>\n<answer>4</answer>", 0.5, "format_partial"),         # whitespace is not [TEXT]
    ("<reasoning>r</reasoning>\n<answer>four</answer>", 0.5, "format_partial"),         # [NUM] holds a word
    ("r\n<answer>4</answer>", 0.0, "format_none"),                                      # no reasoning tags
]

@pytest.mark.parametrize("response,score,reason", LAYOUT, ids=[f"layout{i}" for i in range(len(LAYOUT))])
def test_format_layout(response, score, reason):
    d = match_format_details(response, TAGGED)
    assert (d.score, d.reason) == (score, reason)
