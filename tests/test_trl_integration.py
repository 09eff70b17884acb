"""The rewards inside TRL's *real* `GRPOTrainer`, on a tiny random Llama that the tests build offline.

Nothing here imitates TRL. The trainer is `trl.GRPOTrainer` built on a 2-layer Llama with random weights
and a word-level tokenizer trained here with `tokenizers` (both saved to a temporary folder, loaded back
with the network off). What is asserted:

- `batch_reward(check_answer)` and the format reward (bound through `reward_fns`) score standard,
  conversational, content-block and tool-calling completions exactly, called through the trainer's own
  `_calculate_rewards` (which adds `trainer_state`, `log_extra` and `log_metric` to the columns);
- `curriculum_reward` reads the step from TRL's `trainer_state.global_step` in a real 2-step run:
  stage 0 scores the first step, stage 1 the second;
- `normalized_reward` updates its running statistics on training batches only, not in `trainer.evaluate()`;
- `check_answer`'s reasons reach TRL's logged metrics as shares (`check_answer/reason/<reason>`) that sum
  to 1 and agree with the logged mean reward.

CPU only, no network, about 15 s on two cores (most of it importing torch and TRL).
"""

import os

for _k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ.setdefault(_k, "1")  # the model and tokenizer are local folders: nothing is downloaded

import math

import pytest

pytest.importorskip("trl")

import torch  # noqa: E402
from datasets import Dataset  # noqa: E402
from tokenizers import Tokenizer, models, pre_tokenizers, trainers  # noqa: E402
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast  # noqa: E402
from trl import GRPOConfig, GRPOTrainer  # noqa: E402

from agent_tunix.core import batch_reward  # noqa: E402
from agent_tunix.patterns import curriculum_reward, normalized_reward, reward_fns  # noqa: E402
from agent_tunix.rewards import check_answer  # noqa: E402

torch.set_num_threads(1)

TEMPLATE = "<reasoning>[TEXT]</reasoning><answer>[NUM]</answer>"
SENTENCES = [
    "What is 2 + 2 ? The answer is 4 .",
    "What is 8 * 9 ? The answer is 72 .",
    "<reasoning> 8 times 9 is 72 </reasoning> <answer> 72 </answer>",
    "I could not finish . maybe 70 or 71",
    "user assistant system tool",
]
# The chat template of the tiny tokenizer: role and text per turn (content given as a string).
CHAT_TEMPLATE = ("{% for m in messages %}{{ m['role'] }} : {{ m['content'] }} <eos> {% endfor %}"
                 "{% if add_generation_prompt %}assistant : {% endif %}")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    "A random 2-layer Llama and a word-level tokenizer trained on a few sentences, saved as one local folder."
    folder = tmp_path_factory.mktemp("tiny_llama")
    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(SENTENCES, trainers.WordLevelTrainer(special_tokens=["<unk>", "<pad>", "<eos>", "<bos>"]))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>",
                                        eos_token="<eos>", bos_token="<bos>")
    tokenizer.chat_template = CHAT_TEMPLATE
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=128,
                         pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
                         bos_token_id=tokenizer.bos_token_id)
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


TRAIN = {"prompt": ["What is 2 + 2 ?", "What is 8 * 9 ?"], "answer": ["4", "72"]}


def make_trainer(folder, out, reward_funcs, *, eval_dataset=None, max_steps=2):
    "A real GRPOTrainer on the tiny model: 2 completions per step (1 prompt x 2 generations), CPU, no reports."
    args = GRPOConfig(output_dir=str(out), max_steps=max_steps, per_device_train_batch_size=2,
                      per_device_eval_batch_size=2, num_generations=2, max_completion_length=8, use_cpu=True,
                      report_to="none", logging_steps=1, save_strategy="no", seed=0, disable_tqdm=True)
    return GRPOTrainer(model=folder, reward_funcs=reward_funcs, args=args, train_dataset=Dataset.from_dict(TRAIN),
                       eval_dataset=eval_dataset, processing_class=PreTrainedTokenizerFast.from_pretrained(folder))


def train_logs(trainer) -> list[dict]:
    "The per-step training logs (without the final summary)."
    return [e for e in trainer.state.log_history if "loss" in e]


# ---------------------------------------------------------------------------------------------------------
# 1. The answer and format rewards through TRL's own `_calculate_rewards`, in the four completion shapes.

def _assistant(content): return [{"role": "assistant", "content": content}]

CHAT_PROMPT = [{"role": "system", "content": "Answer in tags."}, {"role": "user", "content": "What is 8 * 9 ?"}]
GOOD = "<reasoning>8 times 9 is 72</reasoning><answer>72</answer>"
TOOL_CALL = {"role": "assistant", "content": "",
             "tool_calls": [{"type": "function", "function": {"name": "multiply", "arguments": {"a": 8, "b": 9}}}]}
TOOL_RESULT = {"role": "tool", "name": "multiply", "content": "72"}   # as TRL's tool loop appends it

# shape -> (prompt, [(completion, answer, check_answer, format)]); every row's prompt is `prompt`.
SHAPES = {
    "standard": ("What is 8 * 9 ?", [
        (GOOD, "72", 1.0, 1.0),
        ("<reasoning>8 times 9 is 72</reasoning>\n<answer>72</answer>", "72", 1.0, 1.0),  # a line break is layout
        ("<reasoning>8 times 9</reasoning><answer>70</answer>", "72", 0.5, 1.0),         # within 10 %: near miss
        ("The answer is 72.", "72", 1.0, 0.0),
        ("The answer is 70 or 72.", "72", 0.0, 0.0),                                      # a hedge scores 0
    ]),
    "conversational": (CHAT_PROMPT, [
        (_assistant(GOOD), "72", 1.0, 1.0),
        (_assistant("The answer is 4."), "72", 0.0, 0.0),
        # a `thinking` field beside the content (as transformers' response parsing writes it) is not the answer
        ([{"role": "assistant", "thinking": "<answer>70</answer>", "content": "The answer is 72."}], "72", 1.0, 0.0),
        ([], "72", 0.0, 0.0),                                                             # no assistant turn: no answer
    ]),
    "content_blocks": (CHAT_PROMPT, [
        (_assistant([{"type": "text", "text": "The answer is 72."}]), "72", 1.0, 0.0),
        # thinking is reasoning, not the answer: its tagged 70 is neither the answer nor the format
        (_assistant([{"type": "thinking", "thinking": "<reasoning>r</reasoning><answer>70</answer>"},
                     {"type": "text", "text": "The answer is 72."}]), "72", 1.0, 0.0),
        (_assistant([{"type": "thinking", "thinking": "8 times 9 is 72"}, {"type": "text", "text": GOOD}]), "72", 1.0, 1.0),
        # a thinking block is skipped by its type, whatever its keys: a 72 thought but not said is no answer
        (_assistant([{"type": "thinking", "text": "The answer is 72."}, {"type": "text", "text": "I am not sure."}]),
         "72", 0.0, 0.0),
        (_assistant([{"type": "thinking", "thinking": "The answer is 72."}]), "72", 0.0, 0.0),  # only thinking: no answer
    ]),
    "tool_calling": (CHAT_PROMPT, [
        # the tool said 72, the model did not: the answer is the model's last turn
        ([TOOL_CALL, TOOL_RESULT, {"role": "assistant", "content": "I could not finish."}], "72", 0.0, 0.0),
        ([TOOL_CALL, TOOL_RESULT, {"role": "assistant", "content": GOOD}], "72", 1.0, 1.0),
        ([TOOL_CALL, {"role": "tool", "name": "multiply", "content": GOOD}], "72", 0.0, 0.0),  # ends on the tool
        ([TOOL_CALL, TOOL_RESULT, {"role": "assistant", "content": [{"type": "text", "text": "The answer is 72."}]}],
         "72", 1.0, 0.0),
    ]),
}


@pytest.fixture(scope="module")
def scoring_trainer(tiny_model, tmp_path_factory):
    "A real trainer with the answer reward and the tag-format reward (bound through a reward spec)."
    funcs = [batch_reward(check_answer), *reward_fns([{"name": "match_format_exactly",
                                                       "kwargs": {"expected_format": TEMPLATE}}])]
    return make_trainer(tiny_model, tmp_path_factory.mktemp("scoring"), funcs)


def _calculate(trainer, prompt, rows):
    "Call TRL's `_calculate_rewards` as `_generate_and_score_completions` does: rows repeated per completion."
    inputs = [{"prompt": prompt, "answer": answer} for _, answer, _, _ in rows]
    completions = [c for c, _, _, _ in rows]
    ids = [[1, 2, 3] for _ in rows]   # token ids: unused by these rewards, passed as `completion_ids`
    return trainer._calculate_rewards(inputs, [prompt] * len(rows), completions, ids)


@pytest.mark.parametrize("shape", list(SHAPES))
def test_calculate_rewards_scores_answer_and_format_of_every_completion_shape(scoring_trainer, shape):
    prompt, rows = SHAPES[shape]
    assert scoring_trainer.reward_func_names == ["check_answer", "match_format_exactly"]
    rewards = _calculate(scoring_trainer, prompt, rows)
    assert tuple(rewards.shape) == (len(rows), 2)
    expected = [[a, f] for _, _, a, f in rows]
    assert rewards.tolist() == expected, list(zip([c for c, *_ in rows], rewards.tolist()))


def test_calculate_rewards_logs_reason_shares_through_log_metric(scoring_trainer):
    "The shares of one `_calculate_rewards` call, as TRL buffers them before averaging them into the step's metrics."
    scoring_trainer._pending_metrics.clear()
    prompt, rows = SHAPES["standard"]
    _calculate(scoring_trainer, prompt, rows)
    got = {k: v for k, v in scoring_trainer._pending_metrics.items()}
    scoring_trainer._pending_metrics.clear()
    # 5 completions: 3 correct, 1 near miss, 1 hedge; formats: 3 exact, 2 none
    assert got["check_answer/reason/correct"] == [3 / 5]
    assert got["check_answer/reason/near_miss"] == [1 / 5]
    assert got["check_answer/reason/hedge"] == [1 / 5]
    assert got["check_answer/failures"] == [0.0]
    assert got["match_format_exactly/reason/format_exact"] == [3 / 5]
    assert got["match_format_exactly/reason/format_none"] == [2 / 5]
    for name in ("check_answer", "match_format_exactly"):   # reasons seen in earlier batches are logged as 0.0
        shares = [v for k, (v,) in got.items() if k.startswith(f"{name}/reason/")]
        assert math.isclose(sum(shares), 1.0), (name, got)


def test_calculate_rewards_in_eval_mode_leaves_normalizer_statistics_alone(tiny_model, tmp_path):
    "TRL says eval by its model's mode; `normalized_reward` learns from training batches only."
    norm = normalized_reward("check_answer")
    trainer = make_trainer(tiny_model, tmp_path, [norm])
    prompt, rows = SHAPES["standard"]
    trainer.model.train()
    _calculate(trainer, prompt, rows)
    assert norm.stats.count == len(rows)
    mean = norm.stats.mean
    trainer.model.eval()
    _calculate(trainer, prompt, rows[:2])
    assert norm.stats.count == len(rows) and norm.stats.mean == mean
    assert norm.calls == len(rows) + 2   # the eval batch was scored, only not learned from
    trainer.model.train()
    _calculate(trainer, prompt, rows[:2])
    assert norm.stats.count == len(rows) + 2


# ---------------------------------------------------------------------------------------------------------
# 2.-4. Real 2-step training runs.

def stage_zero(response): return 0.25
def stage_one(response): return 0.75


def test_curriculum_reads_step_from_trainer_state_in_a_real_run(tiny_model, tmp_path):
    "Step 1 (global_step 0) is scored by stage 0, step 2 (global_step 1) by stage 1; without the step it would raise."
    seen = []
    def record_step(response, step): seen.append(step); return 0.0   # what the lift hands a reward asking for `step`
    curriculum = batch_reward(curriculum_reward([(0, stage_zero), (1, stage_one)]))
    trainer = make_trainer(tiny_model, tmp_path, [curriculum, batch_reward(record_step)])
    trainer.train()
    logs = train_logs(trainer)
    assert [e["step"] for e in logs] == [1, 2]
    assert [e["rewards/curriculum_reward/mean"] for e in logs] == [0.25, 0.75]
    assert [e["rewards/curriculum_reward/std"] for e in logs] == [0.0, 0.0]
    assert seen == [0, 0, 1, 1]   # two completions per step, each told TRL's global_step
    assert curriculum.failures == 0


def test_normalized_reward_statistics_grow_in_training_not_in_evaluate(tiny_model, tmp_path):
    eval_ds = Dataset.from_dict({"prompt": ["What is 2 + 2 ?"], "answer": ["4"]})
    norm = normalized_reward("check_answer")
    trainer = make_trainer(tiny_model, tmp_path, [norm], eval_dataset=eval_ds)
    trainer.train()
    assert norm.stats.count == 4   # 2 steps x 2 completions
    calls, mean, std = norm.calls, norm.stats.mean, norm.stats.std
    metrics = trainer.evaluate()
    assert "eval_rewards/normalized_check_answer/mean" in metrics, sorted(metrics)
    assert norm.calls == calls + 2   # the evaluation batch was scored ...
    assert (norm.stats.count, norm.stats.mean, norm.stats.std) == (4, mean, std)   # ... but not learned from
    assert trainer.model.training is False   # the mode TRL's rewards are told through `log_metric`


def test_check_answer_reason_shares_reach_trl_logged_metrics(tiny_model, tmp_path):
    reward = batch_reward(check_answer)
    trainer = make_trainer(tiny_model, tmp_path, [reward])
    trainer.train()
    logs = train_logs(trainer)
    assert len(logs) == 2
    for e in logs:
        shares = {k.rsplit("/", 1)[1]: v for k, v in e.items() if k.startswith("check_answer/reason/")}
        assert shares, sorted(e)
        assert math.isclose(sum(shares.values()), 1.0, abs_tol=1e-6), shares
        assert e["check_answer/failures"] == 0.0
        # the shares describe the completions that were scored: correct counts 1, near_miss 0.5, the rest 0
        mean = shares.get("correct", 0.0) + 0.5 * shares.get("near_miss", 0.0)
        assert math.isclose(e["rewards/check_answer/mean"], mean, abs_tol=1e-6), (e, shares)
