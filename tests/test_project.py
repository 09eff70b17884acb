"""Project-level promises: README's two commands, CI runs the README's test command, a light reward path."""
import re, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def _sh_blocks(text: str) -> list:
    return re.findall(r"```sh\n(.*?)```", text, flags=re.S)

def test_readme_has_exactly_two_setup_commands():
    blocks = _sh_blocks((ROOT / "README.md").read_text())
    assert len(blocks) == 2, blocks
    for b in blocks:
        assert len(b.strip().splitlines()) == 1, f"a set-up command must be one line to paste: {b!r}"
        assert b.startswith("python3 -m venv .venv && "), b   # works on a fresh machine: makes its own environment
    assert "run_training.py" in blocks[0] and "nbdev-test" in blocks[1] and "pytest" in blocks[1]

def test_ci_runs_the_readme_test_command():
    test_cmd = _sh_blocks((ROOT / "README.md").read_text())[1].strip()
    ci = (ROOT / ".ci" / "run").read_text()
    assert f"TEST_CMD='{test_cmd}'" in ci
    assert 'bash -c "$TEST_CMD"' in ci

def test_reward_path_imports_no_heavy_framework():
    code = ("import sys, agent_tunix.rewards, agent_tunix.core, agent_tunix.parsing, agent_tunix.patterns\n"
            "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'jax', 'tunix', 'hydra', 'flax', 'optax', 'numpy', 'matplotlib'})\n"
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"the reward path imported {out}"

def test_builtin_rewards_are_registered_with_docs():
    from agent_tunix.core import list_reward_functions
    import agent_tunix.rewards  # noqa: F401
    listed = list_reward_functions()
    for name in ("check_answer", "match_format_exactly", "match_format_approximately", "check_numbers", "combined_reward"):
        assert listed.get(name), name
