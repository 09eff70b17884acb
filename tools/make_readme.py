"""Write README.md from nbs/index.ipynb without Quarto (which cannot be installed on our machines).

    python tools/make_readme.py          # run index.ipynb, keep its outputs, write README.md
    python tools/make_readme.py --check  # exit 1 if README.md is not what index.ipynb gives

nbdev's own `nbdev-readme` renders through Quarto; this is the registry-only path: execute the notebook
with nbdev's notebook runner (what nbdev-test uses), then turn markdown cells into markdown and code cells into fenced
Python followed by their printed output. Cells starting with `#| hide` are left out.
"""
import json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INDEX, README = ROOT / "nbs" / "index.ipynb", ROOT / "README.md"

def execute(path: Path) -> dict:
    from nbdev.test import test_nb as run_nb  # nbdev's notebook runner; save=True keeps the outputs
    ok, _ = run_nb(path, save=True, basepath=ROOT)
    if not ok: sys.exit(f"{path} failed to run")
    return json.loads(path.read_text())

def _text(src) -> str: return "".join(src) if isinstance(src, list) else src

def render(nb: dict) -> str:
    parts = ["<!-- Generated from nbs/index.ipynb by tools/make_readme.py: edit the notebook, not this file. -->"]
    for cell in nb["cells"]:
        src = _text(cell["source"]).strip()
        if not src or src.startswith("#| hide"): continue
        if cell["cell_type"] == "markdown": parts.append(src); continue
        lines = [l for l in src.splitlines() if not l.startswith("#|")]
        parts.append("```python\n" + "\n".join(lines) + "\n```")
        out = "".join(_text(o.get("text", "")) for o in cell.get("outputs", []) if o.get("output_type") == "stream")
        if out.strip(): parts.append("```\n" + out.rstrip() + "\n```")
    return "\n\n".join(parts) + "\n"

if __name__ == "__main__":
    text = render(execute(INDEX))
    if "--check" in sys.argv:
        if README.read_text() != text:
            sys.exit("README.md is out of date with nbs/index.ipynb: run `python tools/make_readme.py` and commit both.")
        print("README.md matches nbs/index.ipynb")
    else:
        README.write_text(text); print(f"wrote {README}")
