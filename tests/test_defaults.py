"""The defaults the training guide documents for `python run_training.py` are the config files' defaults.

The guide's table of defaults (rows ``| `group.key` | `value` |``, values in JSON) is what `bench/default_run.py`
prints above its figures; when a config file changes, this test fails until the guide shows the new value (and,
with it, the bench's new figures).
"""

import importlib.util
import json
import re
from pathlib import Path

import pytest

pytest.importorskip("hydra")

from agent_tunix.config import compose_config  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "nbs" / "guides" / "training_guide.ipynb"
_ROW = re.compile(r"^\| `(\w+\.\w+)` \| `([^`]*)` \|", re.M)


def _bench():
    spec = importlib.util.spec_from_file_location("default_run", ROOT / "bench" / "default_run.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def documented(text: str) -> dict:
    "`{group.key: value}` of the defaults table rows in `text`."
    return {k: json.loads(v) for k, v in _ROW.findall(text)}


def mismatches(docs: dict, cfg: dict) -> list[str]:
    "The documented keys whose value is not the config's, in words."
    out = []
    for key, value in docs.items():
        group, name = key.split(".")
        if group not in cfg or name not in cfg[group]: out.append(f"{key}: no such config key")
        elif cfg[group][name] != value: out.append(f"{key}: documented {value!r}, config {cfg[group][name]!r}")
    return out


@pytest.fixture(scope="module")
def guide() -> str:
    cells = json.loads(GUIDE.read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


@pytest.fixture(scope="module")
def config() -> dict:
    return OmegaConf.to_container(compose_config(), resolve=True)


def test_the_guide_documents_every_default_the_bench_prints(guide):
    assert list(documented(guide)) == _bench().DOCUMENTED


def test_documented_defaults_equal_the_config_files(guide, config):
    assert documented(guide), "the training guide has no table of defaults"
    assert mismatches(documented(guide), config) == []


def test_a_stale_value_is_caught(config):
    stale = "| `training.max_steps` | `12345` |\n| `optimizer.learning_rate` | `0.0003` |\n| `model.no_such_key` | `1` |"
    found = mismatches(documented(stale), config)
    assert len(found) == 3 - (config["optimizer"]["learning_rate"] == 0.0003)
    assert any("no such config key" in m for m in found)


def test_the_bench_reads_the_same_defaults(config):
    bench = _bench()
    assert bench._defaults([]) == {k: config[k.split(".")[0]][k.split(".")[1]] for k in bench.DOCUMENTED}


def test_the_guide_shows_the_bench_output_for_three_seeds(guide):
    section = guide[guide.index("## The built-in default run"):]
    assert "bench/default_run.py" in section
    rows = re.findall(r"^\| ([012]) \| \d\.\d{3} → \d\.\d{3} \|", section, re.M)
    assert rows[:3] == ["0", "1", "2"], "the guide should show bench/default_run.py's table for seeds 0, 1 and 2"


_PAIR = r"\d\.\d{3} → \d\.\d{3}"
_GUIDE_ROW = re.compile(rf"^\| ([012]) \| ({_PAIR}) \| ({_PAIR}) \| ({_PAIR}) \| [^|\n]+ \| [^|\n]+ \| [^|\n]+ \| \d+ \| \d+ \| (\d+) \|$", re.M)
_README_ROW = re.compile(rf"^\| ([012]) \| ({_PAIR}) \| ({_PAIR}) \| ({_PAIR}) \| (\d+) \|$", re.M)


def test_the_readme_shows_the_guides_figures_for_the_default_run(guide):
    "README's table (seed, greedy, sampled, pass@k, cpu s) is the guide's bench table, cut to those columns."
    bench = _GUIDE_ROW.findall(guide[guide.index("### What it learns"):])
    readme = _README_ROW.findall((ROOT / "README.md").read_text())
    assert [r[0] for r in bench] == ["0", "1", "2"], bench
    assert readme == bench


def test_a_stale_readme_figure_is_caught():
    row = "| 0 | 0.305 → 0.602 | 0.257 → 0.476 | 0.758 → 0.812 | 1.000 → 1.000 | 1.336 → 1.560 | 551 steps, 134 s | 910 | 1079 | 477 |"
    assert _GUIDE_ROW.findall(row) == [("0", "0.305 → 0.602", "0.257 → 0.476", "0.758 → 0.812", "477")]
    assert _README_ROW.findall("| 0 | 0.305 → 0.611 | 0.257 → 0.476 | 0.758 → 0.812 | 477 |") != _GUIDE_ROW.findall(row)
