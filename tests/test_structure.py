"""The package's shape: modules import only downward (in notebook order), no function is written twice, short export cells."""
import ast, json, re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG, NBS = ROOT / "agent_tunix", ROOT / "nbs"
SOURCE = re.compile(r"File to edit: \.\./nbs/(\S+\.ipynb)")

def _modules() -> dict:
    "module name -> (notebook it is exported from, parsed tree)."
    out = {}
    for py in sorted(PKG.glob("*.py")):
        text = py.read_text(encoding="utf-8")
        m = SOURCE.search(text)
        if m: out[py.stem] = (m.group(1), ast.parse(text))
    return out

def _imported(tree: ast.Module) -> set:
    "Package modules a module imports anywhere (module level or inside functions)."
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module: found.add(node.module.split(".")[0])
            elif node.level == 1: found.update(a.name for a in node.names)
            elif node.module and node.module.startswith("agent_tunix."): found.add(node.module.split(".")[1])
            elif node.module == "agent_tunix": found.update(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("agent_tunix."))
    return found

def test_every_module_comes_from_a_notebook():
    exported = set(_modules())
    missing = {p.stem for p in PKG.glob("*.py")} - exported - {"__init__", "_modidx"}
    assert not missing, f"modules not exported from a notebook: {sorted(missing)}"

def test_modules_import_only_downward():
    "A module imports only modules whose notebooks sort before its own: the numbering is the dependency order."
    mods = _modules()
    upward = [(name, other, nb, mods[other][0]) for name, (nb, tree) in mods.items()
              for other in sorted(_imported(tree) - {name}) if other in mods and mods[other][0] >= nb]
    assert not upward, "imports against the notebook order:\n" + "\n".join(
        f"  {a} ({nb}) imports {b} ({nb_b})" for a, b, nb, nb_b in upward)

def _is_method(node) -> bool:
    "A function added to a class with `@patch` (a method written in its own cell), not a module-level function."
    return any((d.func if isinstance(d, ast.Call) else d).id == "patch" for d in node.decorator_list
               if isinstance(d.func if isinstance(d, ast.Call) else d, ast.Name))

def test_no_function_is_defined_twice():
    "One owner per concept: a top-level function or class name is defined in one module (entry points aside)."
    where = defaultdict(list)
    for name, (_, tree) in _modules().items():
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not _is_method(node):
                where[node.name].append(name)
    twice = {f: ms for f, ms in where.items() if len(ms) > 1 and f != "main"}
    assert not twice, f"defined in more than one module: {twice}"

def test_export_cells_are_short():
    "Each exported cell holds one idea (nbdev's best practice: short cells, each demonstrated at once)."
    long = []
    for nb in sorted(NBS.rglob("*.ipynb")):
        for c in json.loads(nb.read_text(encoding="utf-8"))["cells"]:
            src = "".join(c["source"])
            if c["cell_type"] == "code" and re.match(r"#\|\s*export", src) and len(src.splitlines()) >= 50:
                long.append(f"{nb.relative_to(NBS)}: {len(src.splitlines())} lines: {src.splitlines()[1][:60]!r}")
    assert not long, "export cells of 50 lines or more:\n  " + "\n  ".join(long)
