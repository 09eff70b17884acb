"""`agent-tunix score --out` end to end, in a fresh process: the files it writes, and what it imports.

The notebooks test the same functions in-process; these check what only a separate process can show: the
command as a user runs it, strict JSON on disk, PNG files, and that numpy/matplotlib load only for --out.
The last test feeds one simulated run to both ways of logging (`log` per batch, `log_rows` in chunks).
"""
import csv, json, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUN = "import sys; from agent_tunix.cli import main; code = main(sys.argv[1:]); "


def _score(*args, extra: str = ""):
    return subprocess.run([sys.executable, "-c", RUN + extra + "raise SystemExit(code)", "score", *args],
                          capture_output=True, text=True, cwd=ROOT)


def _no_nan(x):
    raise ValueError(f"summary.json holds {x}, which is not JSON")


def test_score_out_on_the_shipped_sample_writes_every_file(tmp_path):
    p = _score("--out", str(tmp_path))
    assert p.returncode == 0, p.stderr
    assert "check_answer" in p.stdout and "wrote the reward analysis" in p.stdout
    names = {f.name for f in tmp_path.iterdir()}
    assert names == {"scores.jsonl", "summary.json", "report.md", "examples.csv", "histograms.png",
                     "reward_over_steps.png", "dead_groups.png", "categories.png"}
    for png in tmp_path.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5_000, png
    summary = json.loads((tmp_path / "summary.json").read_text(), parse_constant=_no_nan)
    assert summary["completions"] == 64 and summary["steps"] == 1
    assert summary["categories"]["hedge"]["count"] == 8
    assert summary["rewards"]["check_answer"]["dead_group_share"] == 0.0   # 8 prompts, 8 different answers each
    report = (tmp_path / "report.md").read_text()
    for png in ("histograms.png", "reward_over_steps.png", "dead_groups.png", "categories.png"):
        assert f"]({png})" in report, png
    with open(tmp_path / "examples.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len([r for r in rows if r["source"] == "sample"]) == 64
    assert {"check_answer", "check_answer/reason", "completion", "prompt"} <= set(rows[0])
    assert len((tmp_path / "scores.jsonl").read_text().splitlines()) == 64


def test_bad_lines_are_reported_and_the_analysis_is_still_written(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"prompt": "p", "completion": "The answer is 4.", "answer": "4"}\n{broken\n'
                   '{"prompt": "p", "completion": "<answer>4 or 5</answer>", "answer": "4"}\n')
    p = _score(str(src), "--out", str(tmp_path / "out"))
    assert p.returncode == 3   # some rows were skipped, the others scored
    assert "skipped line 2: not valid JSON" in p.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(), parse_constant=_no_nan)
    assert summary["completions"] == 2 and summary["categories"]["hedge"]["count"] == 1
    assert summary["skipped"] == {"rows": 1, "reasons": {"not valid JSON": 1}}
    assert summary["rewards"]["check_answer"]["dead_group_share"] == 0.0   # one group (same prompt): 1.0 and 0.0


def test_numpy_and_matplotlib_load_only_for_the_analysis(tmp_path):
    heavy = "print('heavy:' + ','.join(sorted({m.split('.')[0] for m in sys.modules} & {'numpy', 'matplotlib'}))); "
    plain = _score(extra=heavy)
    assert plain.returncode == 0 and plain.stdout.splitlines()[-1] == "heavy:", plain.stdout
    with_out = _score("--out", str(tmp_path), extra=heavy)
    assert with_out.returncode == 0 and with_out.stdout.splitlines()[-1] == "heavy:matplotlib,numpy", with_out.stdout


def test_a_simulated_run_logged_by_batch_and_in_chunks_gives_the_same_figures():
    import numpy as np
    from agent_tunix.analysis import RewardLog, dead_group_share, simulate_rollouts
    from agent_tunix.rewards import check_answer
    by_batch, in_chunks, all_scores = RewardLog(), RewardLog(), []
    for step in range(3):
        rows = list(simulate_rollouts(6, 4, step=step, seed=7))
        scores = [check_answer(r["completion"], r["answer"]) for r in rows]
        scores[step] = float("nan")                                   # a reward that did not apply
        groups, texts = [r["group"] for r in rows], [r["completion"] for r in rows]
        by_batch.log(step, "check_answer", scores, group_ids=groups, completions=texts)
        for a in range(0, len(rows), 5):
            in_chunks.log_rows(step, {"check_answer": scores[a:a + 5]}, group_ids=groups[a:a + 5], completions=texts[a:a + 5])
        all_scores.append(scores)
    for b, c in zip(by_batch.steps, in_chunks.steps):
        assert (b["n"], b["nonfinite"], b["groups"], b["dead_groups"]) == (c["n"], c["nonfinite"], c["groups"], c["dead_groups"])
        assert np.isclose(b["within_group_std"], c["within_group_std"])
    expected = np.mean([dead_group_share(s, num_generations=4) for s in all_scores])
    assert np.isclose(by_batch.dead_group_share("check_answer"), expected)
    assert by_batch.stats("check_answer")["count"] == in_chunks.stats("check_answer")["count"] == 3 * 24 - 3


def test_categories_cover_every_reason_check_answer_gives():
    "A symbolic comparison's `timeout` (or a missing SymPy extra) is counted, not refused, by the analysis."
    from agent_tunix.analysis import categorize
    from agent_tunix.rewards import check_answer
    masks = categorize(list(check_answer.reasons))
    for i, reason in enumerate(check_answer.reasons):
        assert masks[reason][i] and sum(masks[reason]) == 1, reason
