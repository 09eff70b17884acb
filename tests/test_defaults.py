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
