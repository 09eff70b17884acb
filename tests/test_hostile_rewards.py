"""Hostile input and misuse on the reward path: each test is named after the case it closes.

The training-side cases (failing rewards, time limits, config errors) are in tests/test_train_hostile.py,
the guards' escapes in tests/test_guards.py and the command line's in tests/test_cli.py.
"""
import numpy as np
import pytest

from agent_tunix.core import RewardArgumentError, batch_reward, get_reward_function
from agent_tunix.patterns import combined_reward_fn, reward_fns
from agent_tunix.rewards import check_answer, check_numbers


def batch_ok(prompts, completions, **columns):   # a batch-form reward in a user module
    return [1.0] * len(completions)


def test_batch_form_reward_named_in_a_spec_is_called_in_batch_form():
    for fn in reward_fns("tests.test_hostile_rewards.batch_ok") + [combined_reward_fn({"tests.test_hostile_rewards.batch_ok": 2})]:
        assert fn(["q"] * 3, ["a", "b", "c"], answer=["1"] * 3) in ([1.0] * 3, [2.0] * 3)
        assert fn.failures == 0


def test_malformed_ground_truth_in_a_batch_costs_that_row_only():
    answers = np.array([True, ["4"], b"4", "4", None, {"a": 1}], dtype=object)
    fn = batch_reward(check_answer)
    assert fn(None, ["The answer is 4."] * 6, answer=answers) == [0.0, 0.0, 1.0, 1.0, 0.0, 0.0]
    reasons = [d.reason for d in fn.explain(None, ["The answer is 4."] * 6, answer=answers)]
    assert reasons == ["gold_invalid", "gold_invalid", "correct", "correct", "gold_invalid", "gold_invalid"]


def test_deeply_nested_completion_does_not_raise_from_batch_reward():
    deep = "The answer is 4."
    for _ in range(3000): deep = [deep]
    msg = {"role": "assistant", "content": "The answer is 4."}
    for _ in range(3000): msg = {"role": "assistant", "content": [msg]}
    assert batch_reward(check_answer)(None, [deep, [msg], "The answer is 4."], answer=["4"] * 3) == [0.0, 0.0, 1.0]


@pytest.mark.parametrize("spec", ["builtins.eval", "builtins.exec", "builtins.__import__", "os.system", "os.popen",
                                  "subprocess.getoutput", "shutil.rmtree", "pickle.loads", "marshal.loads",
                                  "importlib.import_module", "ctypes.CDLL", "runpy.run_path"])
def test_dotted_path_to_code_running_function_is_refused(spec):
    with pytest.raises(RewardArgumentError, match="must be a Python function taking the completion"):
        get_reward_function(spec)
    with pytest.raises(RewardArgumentError, match="is not accepted as a reward"):
        reward_fns(spec)


@pytest.mark.parametrize("mark", ["\u200b", "\u200f", "\u00ad", "\u2060", "\ufeff", "\u200d"])
def test_invisible_characters_do_not_split_numbers(mark):
    assert check_answer.details(f"The answer is 1{mark}0.", "10").reason == "correct"
    assert check_answer(f"<answer>1{mark}0</answer>", "10") == 1.0
    assert check_answer("<answer>10</answer>", f"1{mark}0") == 1.0


def test_long_number_dense_completions_read_the_end():
    ones = " 1" * 5_000_000                                    # 10 MB of numbers
    assert check_numbers(ones + " 2", [2])["matches"] == [True]
    assert len(check_numbers(ones, [1])["extracted"]) == 100
    assert check_answer("answer " * 1_400_000 + "The answer is 3.", "3") == 1.0
