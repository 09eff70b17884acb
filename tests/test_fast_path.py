"""The fast paths give the full path's answer, score and reason, or defer: `parsing.plain_answer` (used by `check_answer`,
the last slot or, without one, the last number), the format check's `_tagged_tail`, and `combined_reward` with its batch form.

Completions are generated around the fast path's pattern: each kind of slot with plain numbers and near misses of a
plain number (decimal commas, `+5`, `1e3`, `3/0`, Unicode digits and minus, units, hedges, long digit strings), text
after the slot that may or may not start another slot, and made-up turns before it. The full path is the same reward
with `plain_answer` switched off."""
from contextlib import contextmanager
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import agent_tunix.rewards as rewards
from agent_tunix.core import batch_reward
from agent_tunix.parsing import extract_answer, plain_answer
from agent_tunix.core import RewardArgumentError, RewardTypeError
from agent_tunix.rewards import (check_answer, check_answer_batch, check_answer_details, combined_reward,
                                   combined_reward_batch, match_format_details, match_format_exactly)

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@contextmanager
def full_path():
    "Score with the fast path switched off: every completion goes through `extract_answer`."
    with mock.patch.object(rewards, "plain_answer", lambda *a, **k: None):
        yield


plain_numbers = st.one_of(
    st.integers(-10**6, 10**6).map(str),
    st.integers(0, 10**9).map(lambda n: f"{n:,}"),                               # thousands groups
    st.tuples(st.integers(-999, 999), st.integers(0, 999)).map(lambda t: f"{t[0]}.{t[1]}"),
    st.tuples(st.integers(0, 99), st.integers(0, 12)).map(lambda t: f"{t[0]}/{t[1]}"),  # a zero denominator too
    st.integers(0, 10**5).map(lambda n: f"${n:,}"),
    st.integers(0, 10**5).map(lambda n: f"-${n}"),
    st.tuples(st.integers(-99, 10**4), st.sampled_from(["dollars", "apples", "km", "pi", "sin", "or", "and", "million",
                                                         "hundred", "infinity", "exp", "ln", "cents", "minutes", "seconds",
                                                         "hours", "s", "e", "ex", "percent"])).map(lambda t: f"{t[0]} {t[1]}"),
)
hedge_words = st.sampled_from(["or", "and", "either", "between", "maybe", "possibly", "perhaps", "(or", "(and", "or maybe",
                               "hours", "minutes", "cents", "s", "dollars and", "or five", "and a half", "x", "", "=", "+"])
hedges = st.lists(st.one_of(st.integers(-50, 50).map(str), st.sampled_from(["4.5", "4)", "-0", "1 000", "4%"]), hedge_words),
                  min_size=1, max_size=6).map(" ".join)
near_misses = st.sampled_from([
    "12,34", "0,5", "1,2345", "1,000.", "1.", ".5", "+5", "1e3", "5%", "1 000", "\u22125", "$-5", "- 5", "5 -",
    "\u0663", "\uff15", "4 or 5", "4, 5", "18 dollars", "eighteen", "x = 5", r"\frac{1}{2}", r"\sqrt{4}", "2^{10}",
    "3!", "9" * 101, "1" + "0" * 99, "1/0", "0/0", "5\u200b", "\u200b5", "1\u00a0000", "5.5.5", "--5", "(5)", "**5**",
    "5 /2", "1,000,000,0000", "", "2 hours 30 minutes", "72 dollars and 50 cents", "18 Dollars", "18  km", "1 pi",
    "3 x", "5 or 6", "5 e5", "5e5 km", "18 dollars.", "18 dollars!",
])
spaces = st.sampled_from(["", " ", "\n", "  \n ", "\t", "\u2009", "\u00a0", "\x0b", "\u3000", " " * 2100])
plain_hedges = st.tuples(st.sampled_from(["", "either ", "between "]), st.integers(-9, 9), st.sampled_from(
    [" or ", " and ", " or maybe ", " (or ", " or possibly ", " and perhaps ", " ", "  ", " or\n"]), st.integers(-9, 9),
    st.sampled_from(["", ")", "%", " or 3", " and 4.5", " s"])).map(lambda t: f"{t[0]}{t[1]}{t[2]}{t[3]}{t[4]}")
number_text = st.one_of(plain_numbers, near_misses, hedges, plain_hedges)

fragments = st.sampled_from([
    "Tom has 3 apples. ", "3 + 4 = 7. ", "The answer is 6. ", "the answer is correct. ", "ANSWER: 9 ", "Answer = 4 ",
    "\n", " ", "#### 8\n", r"\boxed{5} ", r"\fbox{5} ", "<answer>2</answer>", "<answer>", "</answer>", "User: hi ",
    "\nUser: what? ", "\nHuman: ok\n", "\nQuestion: how many?\n", "\nQ: next?\n", "\nProblem: more\n", "<|user|>",
    "<start_of_turn>user\n", "<|im_start|>user\n", "Step 1: add. ", "a|b ", "x_1 ", "<reasoning>", "</reasoning>",
    "$", "}", "{", "\u200b", "nswer", "NSWER", "**", "50% ", "1,000 ",
])
prefix = st.lists(fragments, max_size=8).map("".join)
suffix = st.sampled_from(["", " ", "\n\n", "$.", "$", ".", r"\]", ")", " I hope it is correct.", "\nUser: thanks",
                          "\nQuestion: next?", "<answer>", " wait", "}", "\n#### 5", r" \boxed{3}", " The answer is 7.",
                          " answer", "\n\n  \t", "%", " dollars", "<|user|>", " pi", " e5", " or", " million"])


@st.composite
def completions(draw):
    "A completion whose last slot is one of the fast path's kinds (or a near miss of one), with text around it."
    n = draw(number_text)
    a, b = draw(spaces), draw(spaces)
    slot = draw(st.sampled_from([
        f"<answer>{a}{n}{b}</answer>", f"<answer>{n}", f"#### {n}{b}", f"####{a}{n}", f"\\boxed{{{a}{n}{b}}}",
        f"\\boxed {n}", f"\\fbox{{{n}}}", f"The answer is {n}.", f"So the final answer is:{a}**{n}**", f"Answer: {n}{b}",
        f"ANSWER IS {n}", f"the answer is {a}{n}", f"</answer>{n}</answer>", f"<answer>{n}</answer></answer>",
    ]))
    return draw(prefix) + slot + draw(suffix)


def _truths(text: str) -> list:
    "Ground truths around an answer: its own text (correct), near and far numbers, percent, symbolic and text truths."
    out = ["72", "-3", "12.5", "0", "1,000", "3/4", "50%", r"\sqrt{2}", "2, -2", "Paris", "NaN", "#### 7"]
    a = extract_answer(text)
    if a.status == "number":
        v = a.value
        out += [a.text, str(v), f"{float(v) * 1.05!r}", f"{float(v) * 100!r}%", str(v + 1)]
    return out


def _same_as_full_reader(text: str):
    got = plain_answer(text)
    if got is None: return
    a = extract_answer(text)
    status = "number" if len(got[2]) == 1 else "hedge"
    assert (a.source, a.text, a.status, a.values, a.percent, a.alt) == (got[0], got[1], status, got[2], False, ()), (text, got, a)


@SETTINGS
@given(completions())
@example("<reasoning>r</reasoning><answer>72</answer>")
@example("#### 72\n\nQuestion: Jo has 8 pens.\nAnswer: #### 8")
@example("The answer is 9.\nUser: and now?\n#### 10")
@example("<answer>" + " " * 2100 + "5</answer>")
@example("THE ANSWER IS 4. The answer is 5.")
@example("####\n0")
@example("The answer is 5. THE ANSWER IS 4.")
def test_plain_answer_is_what_extract_answer_reads(text):
    _same_as_full_reader(text)


@SETTINGS
@given(st.text(alphabet=st.sampled_from(list("0123456789 .,-$/#<>answerANSWER:\n\\boxed{}|_QUuserHuman%")), max_size=80))
def test_plain_answer_on_random_text(text):
    _same_as_full_reader(text)
    _same_as_full_reader("<answer>" + text + "</answer>")
    _same_as_full_reader("The answer is " + text)


@SETTINGS
@given(completions(), st.data())
def test_fast_and_full_path_give_the_same_score_and_reason(text, data):
    truth = data.draw(st.sampled_from(_truths(text)))
    fast = check_answer_details(text, truth)
    with full_path():
        full = check_answer_details(text, truth)
    assert tuple(fast) == tuple(full), (text, truth, fast, full)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(completions(), min_size=1, max_size=12), st.data())
def test_the_batch_entry_point_gives_each_completions_score(texts, data):
    truths = [data.draw(st.sampled_from(_truths(t))) for t in texts]
    one_by_one = [check_answer(t, g) for t, g in zip(texts, truths)]
    assert check_answer_batch(texts, truths) == one_by_one
    lifted = batch_reward(check_answer)
    assert lifted(["q"] * len(texts), texts, answer=np.array(truths, dtype=object), mode="train") == one_by_one
    assert lifted.calls == len(texts) and lifted.failures == 0
    with full_path():
        assert check_answer_batch(texts, truths) == one_by_one


def test_the_common_shapes_take_the_fast_path():
    "The fast path is used (so the comparisons above compare two paths), for each kind of slot."
    shapes = {"<reasoning>2 + 2 = 4</reasoning>\n<answer>4</answer>\n": ("answer_tag", "4", (4,)),
              "2 + 2 = 4\n#### 4": ("hash", "4", (4,)),
              r"So the answer is $\boxed{4}$.": ("boxed", "4", (4,)),
              "2 + 2 = 4. The answer is 4.": ("answer_is", "4", (4,)),
              "The answer is $1,234.50. I hope it is correct.": ("answer_is", "$1,234.50", (2469 / 2,)),
              "The answer is either 4 or 5.": ("answer_is", "either 4 or 5", (4, 5))}
    for text, want in shapes.items():
        assert plain_answer(text) == want, text
    with mock.patch.object(rewards, "extract_answer", side_effect=AssertionError("full path taken")):
        assert [check_answer(t, "4") for t in list(shapes)[:4]] == [1.0] * 4
        assert check_answer_batch(list(shapes)[:4], ["4"] * 4) == [1.0] * 4


def test_the_lifted_reward_scores_a_batch_in_one_call():
    calls = []
    real = check_answer_batch
    def spy(responses, ground_truth):
        calls.append(len(responses))
        return real(responses, ground_truth)
    with mock.patch.object(check_answer, "batch", spy):
        lifted = batch_reward(check_answer)
        scores = lifted(["q"] * 3, ["<answer>4</answer>", "#### 5", "I think it is four"], answer=np.array(["4"] * 3))
    assert scores == [1.0, 0.0, 0.0] and calls == [3]


@SETTINGS
@given(st.one_of(plain_numbers, near_misses))
@example("$1,000")
@example("0/5")
@example("12.0")
def test_a_plain_ground_truth_is_read_as_the_full_rules_read_it(truth):
    "`check_answer` reads a plain-number ground truth at once; the reading is what the general rules give."
    from agent_tunix.parsing import parse_ground_truth, parse_number
    from agent_tunix.symbolic import has_algebra, needs_symbolic
    g = extract_answer(truth)
    slot = g.text if g.source in ("answer_tag", "boxed", "hash", "answer_is") else truth.strip()
    plain = parse_number(slot) is not None and not has_algebra(slot) and slot[:1] not in "([{"
    rewards._read_truth.cache_clear()
    assert rewards._read_truth(truth) == (parse_ground_truth(truth), slot, not plain and needs_symbolic(slot))


@SETTINGS
@given(st.one_of(plain_hedges, hedges, plain_numbers), st.sampled_from(["<answer>{}</answer>", "#### {}", "\\boxed{{{}}}",
                                                                          "The answer is {}.", "So the answer is {}"]))
def test_hedges_and_numbers_in_each_kind_of_slot(answer, slot):
    text = "Adding 2 and 3 gives 5. " + slot.format(answer)
    _same_as_full_reader(text)
    for truth in _truths(text):
        fast = check_answer_details(text, truth)
        with full_path():
            assert tuple(fast) == tuple(check_answer_details(text, truth)), (text, truth)


# --- no slot at all: the last number (`_plain_last_number`) -------------------------------------------------------------
words = st.sampled_from(["is", "so", "We", "total", "e", "E", "x=", "=", "apples", "-", "$", "%", "then", "\\frac{1}{2}", "{", "}",
                         "1,000", "2.5", "3/4", "1 000", "5e3", "-4", "+4", "$7", "50%", "50 %", "(3)", "x_1", "a|b", "\u2212", "\u00a0"])
tail_numbers = st.one_of(st.integers(0, 10**6).map(str), st.sampled_from(["007", "9" * 101, "1" * 100, "12.", "5.5", "5/0", "5e", "5%"]))


@st.composite
def slotless(draw):
    "A response without a slot whose end is a number in one of many contexts (sign, currency, groups, decimals, LaTeX, turns)."
    body = " ".join(draw(st.lists(st.one_of(words, st.integers(0, 999).map(str)), max_size=8)))
    end = draw(st.sampled_from(["", ".", ". ", "%", " %", "/2", " /2", ".5", ",5", "e5", "!", "?", " apples.", "\nUser: 4", "\n"]))
    gap = draw(st.sampled_from([" ", "  ", "", "-", "$", " -", " $", ",", ".", "/", " / ", "=", " = ", "\n", "\t"]))
    return body + gap + draw(tail_numbers) + end


@SETTINGS
@given(slotless())
@example("Half of 110 is 55, and 55% of 200 is 110.")
@example("I have 1 110")
@example("It is e 5")
@example("so \\frac{1}{2} is 5")
def test_the_last_number_is_what_extract_answer_reads(text):
    _same_as_full_reader(text)
    for truth in _truths(text):
        fast = check_answer_details(text, truth)
        with full_path():
            assert tuple(fast) == tuple(check_answer_details(text, truth)), (text, truth)


@SETTINGS
@given(st.one_of(completions(), slotless(), st.sampled_from(["", " ", "\n\t", "\u3000"])), st.data())
def test_the_score_alone_is_the_full_paths_score(text, data):
    "`check_answer` returns the score of its common path at once; it is the score the full path gives."
    truth = data.draw(st.sampled_from(_truths(text)))
    with full_path():
        full = check_answer_details(text, truth)
    assert check_answer(text, truth) == full.score, (text, truth, full)


# --- the format check: `_tagged_tail` reads `…</a> <b>N</b>` from its last tags -----------------------------------------
FORMATS = ["<reasoning>[TEXT]</reasoning><answer>[NUM]</answer>", "<reasoning>[TEXT]</reasoning>\n<answer>[INT]</answer>",
           "<think>[TEXT]</think> <answer>[NUM]</answer>", "<a>[TEXT]</a><b>[NUM]</b>", "The answer is [NUM].", "#### [NUM]"]
layout = st.sampled_from(["", " ", "\n", "\r\n\r\n", "\t", "\u00a0", "\u2009", " so ", "x", "\n<b>", "<br/>", "  \n  "])
tag_answers = st.one_of(plain_numbers, near_misses, st.sampled_from(["4", " 4 ", "4 5", "", " ", "<i>4</i>", "4>", "four",
                                                                     "1/2", "1.5", "-3", "\n7\n"]))
reasonings = st.sampled_from(["2 + 2 = 4", "", " ", "\n\n", "a <b>bold</b> step", "</reasoning>", "<reasoning>", "<answer>3</answer>",
                              "x < y > z", "<think>", "</think>", "<a>", "</a>", "r" * 300])
opening = st.sampled_from(["<reasoning>", "<think>", "<a>", "", "<reasoning> ", "<Reasoning>"])
closing = st.sampled_from(["</reasoning>", "</think>", "</a>", "", "</reasoning >", "</reasoning></reasoning>"])
answer_open = st.sampled_from(["<answer>", "<b>", "", "<answer><answer>", "<answer >"])
answer_close = st.sampled_from(["</answer>", "</b>", "", "</answer></answer>", "</answer>.", "</answer> \n"])


@st.composite
def tagged(draw):
    "A response around the tagged shape: each tag may be missing, doubled or another, with layout or text between them."
    parts = [draw(layout), draw(opening), draw(layout), draw(reasonings), draw(layout), draw(closing), draw(layout),
             draw(answer_open), draw(layout), draw(tag_answers), draw(layout), draw(answer_close), draw(layout)]
    return draw(st.sampled_from(["", "Sure. ", "<reasoning>old</reasoning>", "<answer>1</answer>"])) + "".join(parts)


@contextmanager
def full_format_walk():
    "Score formats with `_tagged_tail` switched off: every response is laid out and walked in full."
    with mock.patch.object(rewards, "_tagged_tail", lambda *a, **k: None):
        yield


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tagged(), st.sampled_from(FORMATS))
@example("<reasoning>2 + 2</reasoning>\n<answer>4</answer>", FORMATS[0])
@example("<reasoning> \n </reasoning>\n<answer>4</answer>", FORMATS[0])
@example("<reasoning>r</reasoning> so <answer>4</answer>", FORMATS[0])
@example("<reasoning>a</reasoning><reasoning>\n</reasoning><answer>4</answer>", FORMATS[0])
def test_the_format_fast_path_gives_the_full_walks_score_and_reason(text, fmt):
    fast = match_format_details(text, fmt)
    with full_format_walk():
        full = match_format_details(text, fmt)
    assert tuple(fast) == tuple(full), (text, fmt, fast, full)


def test_the_common_tagged_shapes_take_the_format_fast_path():
    tpl = rewards.parse_format(FORMATS[0])
    for text, want in {"<reasoning>2 + 2</reasoning>\n<answer>4</answer>": (1.0, "format_exact"),
                       "<reasoning>2 + 2</reasoning><answer> four </answer>": (0.5, "format_partial"),
                       "<reasoning> </reasoning>\n\n<answer>4</answer>": (0.5, "format_partial")}.items():
        assert rewards._tagged_tail(text, tpl) == want, text
    with mock.patch.object(rewards, "_layout", side_effect=AssertionError("full walk taken")):
        assert match_format_exactly("<reasoning>2 + 2</reasoning>\n<answer>4</answer>\n", FORMATS[0]) == 1.0


# --- combined_reward: the common paths, and its batch entry point ---------------------------------------------------------
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(tagged(), completions(), slotless()), st.sampled_from(FORMATS), st.data())
def test_combined_reward_gives_the_full_paths_score(text, fmt, data):
    truth = data.draw(st.sampled_from(_truths(text)))
    fast = combined_reward(text, truth, expected_format=fmt)
    with full_path(), full_format_walk():
        full = 0.3 * match_format_details(text, fmt).score + 0.7 * check_answer_details(text, truth).score
        assert combined_reward(text, truth, expected_format=fmt) == fast
    assert fast == full, (text, truth, fmt)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(tagged(), completions(), slotless()), min_size=1, max_size=12), st.sampled_from(FORMATS), st.data())
def test_the_combined_batch_entry_point_gives_each_completions_score(texts, fmt, data):
    truths = [data.draw(st.sampled_from(_truths(t))) for t in texts]
    one_by_one = [combined_reward(t, g, expected_format=fmt) for t, g in zip(texts, truths)]
    assert combined_reward_batch(texts, truths, fmt) == one_by_one
    assert combined_reward_batch(texts, truths, [fmt] * len(texts)) == one_by_one
    assert combined_reward_batch(texts, truths) == [combined_reward(t, g) for t, g in zip(texts, truths)]
    lifted = batch_reward(combined_reward)
    got = lifted(["q"] * len(texts), texts, answer=np.array(truths, dtype=object), expected_format=[fmt] * len(texts))
    assert got == one_by_one and lifted.calls == len(texts) and lifted.failures == 0


def test_the_lifted_combined_reward_scores_a_batch_in_one_call():
    calls = []
    real = combined_reward_batch
    def spy(responses, ground_truth, expected_format=None):
        calls.append(len(responses))
        return real(responses, ground_truth, expected_format)
    with mock.patch.object(combined_reward, "batch", spy):
        scores = batch_reward(combined_reward)(["q"] * 2, ["The answer is 4.", "I think it is 5"], answer=["4", "4"])
    assert scores == [1.0, 0.0] and calls == [2]
    with pytest.raises(RewardArgumentError, match="1 responses but 2 ground truths"):
        combined_reward_batch(["4"], ["4", "5"])
    with pytest.raises(RewardTypeError, match="takes lists"):
        combined_reward_batch("4", ["4"])


@SETTINGS
@given(st.sampled_from(["", "So ", "<answer>3</answer> ", "<answer>3 ", "#### 2\n", "\\boxed{4} and ", "####", "The answer is 5.\n"]),
       st.sampled_from(["<answer>{}</answer>", "the answer is {}.", "The answer is {}", "Answer is {}", "xanswer is {}.", "#### {}",
                        "####\n{}", "####  \r {}", "\\boxed{{{}}}$.", "\\[\\boxed{{{}}}\\]", "\\boxed{{{}}}", "\\boxed{{ {}}}", "\\fbox{{{}}}"]),
       st.one_of(st.integers(0, 10**6).map(str), st.sampled_from(["007", "9" * 101, "", " 5", "5 ", "\u0665", "5.0"])))
def test_the_common_endings_are_read_as_their_kinds_reader_reads_them(before, ending, number):
    "`_plain_ending` reads the commonest endings at once: what the reader of each kind, and so `extract_answer`, reads."
    from agent_tunix.parsing import _PLAIN_KINDS, _plain_ending
    text = "Adding 2 and 3 gives 5. " + before + ending.format(number)
    got = _plain_ending(text, len(text), max(0, len(text) - 256))
    if got is not None:
        lo = max(0, len(text) - 256)
        kinds = [(s, k(text, lo)) for s, start, k in _PLAIN_KINDS if text.find(start, lo) >= 0]
        want = next(((s, *f) for s, f in kinds if f is not None), None)
        # the malformed closings (`</answer></answer>`) are read as `extract_answer` reads them (checked below), not as `_plain_tag`
        assert got == want or (want is None and got[0] == "answer_tag"), (text, got, kinds)
    _same_as_full_reader(text)


@SETTINGS
@given(st.sampled_from(["reasoning", "Reasoning", "think", "final", "pi", "e", "or", "answer", "Answer", "nswer", "h1", "dollars", "", "x y"]),
       st.one_of(st.integers(0, 10**6).map(str), st.sampled_from(["007", "9" * 101, "1" * 100, "4.5", "$1,000", "4 or 5", " 4", "4 ", ""])),
       st.sampled_from(["", "</answer>", "\n</answer>", "</answer> x", "</answer>\n#### 5", " "]),
       st.sampled_from(["<reasoning>2 + 2 = 4</reasoning>", "", "#### 3\n", "The answer is 3. ", "<answer>1</answer>"]))
def test_malformed_closings_are_read_as_extract_answer_reads_them(name, number, extra, before):
    "`<answer>N</answer></answer>` and `<answer>N</reasoning>`: the fast path reads them as the full reader does, or defers."
    for text in (f"{before}<answer>{number}</answer>{extra}", f"{before}<answer>{number}</{name}>", f"{before}<answer>{number}</{name}>{extra}"):
        _same_as_full_reader(text)
        for truth in _truths(text):
            fast = check_answer_details(text, truth)
            with full_path():
                assert tuple(fast) == tuple(check_answer_details(text, truth)), (text, truth)
            assert check_answer(text, truth) == fast.score, (text, truth)
