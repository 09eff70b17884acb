"""Build the documentation site: nbdev processes the notebooks, Sphinx (MyST-NB, sphinx-book-theme) renders them.

    python tools/build_docs.py                 # every notebook executed; the site in _docs/ (open _docs/index.html)
    python tools/build_docs.py --no-exec       # structure only: every page and the API reference, no cell outputs
    python tools/build_docs.py --only 'guides/*' --out /tmp/site   # a subset (executed), elsewhere
    python tools/build_docs.py --reuse         # render again what the last run executed (styling, conf.py), seconds

1. **Execute and process.** Each notebook under `nbs/` (found by nbdev's own glob, so new notebooks and folders
   come in by themselves) goes through nbdev's documentation processors, the ones `nbdev-proc-nbs` applies:
   frontmatter, `show_doc` for every exported name, `#| hide`/`#| export` cells dropped, doc links. In the
   full build the processor that runs `show_doc` cells runs *every* cell instead, in one shell, in order, in a
   fresh process per notebook, skipping the cells `nbdev-test` skips (`tst_flags`): one execution per notebook.
   A cell that raises or runs past `--cell-timeout` fails the build, naming the notebook and the cell.
   Outputs are tidied as a terminal would show them: progress bars redrawn with `\\r` keep their last line,
   figures a cell created but never displayed are shown, machine paths and float noise are removed.
2. **Stage** the processed notebooks as MyST-NB sources (under `build/docs/src`, one page per notebook, named by
   its path under `nbs/`, so launch buttons open the repository's notebook): `show_doc` output becomes page
   content, nbdev's links into the published site become links between pages, source links get their line,
   tutorials and guides get "Open in Colab" / "Run on Kaggle" links, and the home page gets the navigation
   (sections and their order: `NAV` in docs/conf.py).
3. **Render** with Sphinx (configuration: docs/conf.py), warnings as errors, into `--out` (default `_docs/`);
   `pages.json` there maps each notebook to its page.
"""
from __future__ import annotations
import argparse, ast, fnmatch, json, os, re, shutil, sys, tempfile, time, traceback
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGE = ROOT / "build" / "docs"
# As under nbdev-test (IN_TEST), on CPU unless told otherwise, without TensorFlow's and absl's log chatter. Progress
# bars stay on (notebooks check the package's own): their redraws are cut to the final line when pages are staged.
EXEC_ENV = {"IN_TEST": "1", "TF_CPP_MIN_LOG_LEVEL": "3", "GRPC_VERBOSITY": "ERROR",
            "JAX_PLATFORMS": os.environ.get("JAX_PLATFORMS", "cpu")}
SHELL_SETUP = """
try:
    import absl.logging as _absl; _absl.set_verbosity(_absl.ERROR); del _absl
except ImportError: pass
"""


class NotebookFailed(Exception):
    "A notebook cell raised or timed out while the docs were built."


# ------------------------------------------------------------------------------------------- 1. execute, process
def _figures_shown(shell, cell, seen: set) -> None:
    "Show the figures a cell created but never displayed (pyplot figures left open, `Figure`s it bound to a name)."
    plt = sys.modules.get("matplotlib.pyplot")
    mfig = sys.modules.get("matplotlib.figure")
    if mfig is None: return
    figs = [plt.figure(n) for n in plt.get_fignums()] if plt else []
    figs += [v for v in list(shell.user_ns.values()) if isinstance(v, mfig.Figure) and id(v) not in seen]
    shown = any("image/png" in (o.get("data") or {}) for o in cell.get("outputs", []))
    for fig in dict.fromkeys(figs):  # unique, in order
        if id(fig) in seen: continue
        seen.add(id(fig))
        if not shown:
            import base64, io
            buf = io.BytesIO(); fig.savefig(buf, format="png", bbox_inches="tight", dpi=100)
            from fastcore.xtras import dict2obj
            cell.outputs.append(dict2obj(dict(output_type="display_data", metadata={},
                data={"image/png": base64.b64encode(buf.getvalue()).decode(), "text/plain": f"<Figure {id(fig)}>"})))
    if plt: plt.close("all")


def _exec_all(src: Path, skip_flags: list, cell_timeout: int):
    "An nbdev processor that runs every cell `nbdev-test` runs (instead of only the `show_doc` cells), in order."
    from execnb.shell import CaptureShell
    from nbdev.process import Processor
    from nbdev.test import _skip_cell

    class exec_all(Processor):
        def begin(self):
            self.k, self.seen = CaptureShell(src), set()
            self.index = {c.get("id"): i for i, c in enumerate(json.loads(src.read_text(encoding="utf-8"))["cells"])}
            self.k.run_cell("from nbdev.showdoc import show_doc\n" + SHELL_SETUP)
            self.skip = _skip_cell(self.nb, skip_flags)
        def __call__(self, cell):
            if cell.cell_type != "code" or self.skip(cell): return
            self.k.cell(cell, timeout=cell_timeout)
            if self.k.exc:
                e, first = self.k.exc, next((l for l in cell.source.splitlines() if l.strip() and not l.startswith("#|")), "")
                tb = "".join(traceback.format_exception(e)) if isinstance(e, BaseException) else str(e)
                raise NotebookFailed(f"{src.relative_to(ROOT)}: cell {self.index.get(cell.get('id'), '?')} (id {cell.get('id')}, "
                                     f"`{first.strip()[:80]}`) "
                                     f"failed: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}\n{tb[-3000:]}")
            for o in cell.outputs:  # nbdev's output processors (strip_ansi, …) expect text, execnb gives lines
                if isinstance(o.get("text"), list): o["text"] = "".join(o["text"])
            _figures_shown(self.k, cell, self.seen)
    return exec_all


def _exec_docs():
    "nbdev's `exec_show_docs` without the cells that merely contain an import: exported cells, imports, `show_doc`."
    from nbdev.processors import exec_show_docs, _do_eval
    import nbdev.processors as P

    class exec_docs(exec_show_docs):
        def __call__(self, cell):
            if cell.cell_type != "code" or not _do_eval(cell): return
            trees, sd = cell.parsed_(), P._show_docs(cell.parsed_() or [])
            if sd or "export" in " ".join(cell.directives_) or all(isinstance(t, (ast.Import, ast.ImportFrom)) for t in trees):
                super().__call__(cell)
    return exec_docs


def process(src: str, dst: str, execute: bool, skip_flags: list, cell_timeout: int) -> tuple:
    "Run nbdev's documentation processors over notebook `src` (executing it if `execute`) into `dst`: (seconds, error)."
    os.environ.update(EXEC_ENV)
    import warnings
    warnings.filterwarnings("ignore", "Found cells containing imports")  # nbdev's advice, printed per cell
    if str(ROOT) not in sys.path: sys.path.insert(0, str(ROOT))
    from fastcore.nbio import read_nb, write_nb
    from fastcore.xtras import working_directory
    from nbdev.process import NBProcessor
    from nbdev.processors import FilterDefaults, exec_show_docs
    t0, src = time.time(), Path(src).resolve()
    procs = list(FilterDefaults().procs())
    at = procs.index(exec_show_docs)
    if execute:  # run the whole notebook where nbdev runs the show_doc cells, before outputs are tidied
        procs.remove(exec_show_docs)
        procs.insert(procs.index(next(p for p in procs if getattr(p, "__name__", "") == "add_show_docs")) + 1,
                     _exec_all(src, skip_flags, cell_timeout))
    else: procs[at] = _exec_docs()
    nb = read_nb(src)
    try:
        with working_directory(src.parent): NBProcessor(nb=nb, procs=procs, rm_directives="quarto").process()
    except NotebookFailed as e: return time.time() - t0, str(e)
    except Exception as e: return time.time() - t0, f"{src.relative_to(ROOT)}: {type(e).__name__}: {e}\n{traceback.format_exc()[-3000:]}"
    write_nb(nb, dst)
    return time.time() - t0, ""


def process_all(pairs: list, *args) -> list:
    "`process` each (source, destination) pair in turn: [(seconds, error)]."
    return [process(src, dst, *args) for src, dst in pairs]


# ------------------------------------------------------------------------------------------- 2. stage for MyST-NB
_FM = re.compile(r"^---\n(.*?)\n---", re.DOTALL)                     # nbdev's YAML frontmatter (first raw cell)
_DIRECTIVE = re.compile(r"^#\|\s*([\w-]+)\s*:\s*(.*?)\s*$")          # a Quarto cell option `#| key: value`
_SOURCE_LINK = re.compile(r"\[source\]\((https://github\.com/[^)\s]+?)(?:#L(\d+|None))?\)(\{[^}\n]*\})?")
_SD_HEADING = re.compile(r"^#{2,4} ((?:[\w.]|\\_)+)\s*$", re.MULTILINE)  # the heading show_doc writes for a name
_FLOAT_NOISE = re.compile(r"(?<![\w.])-?\d+\.\d*?(?:0{6,}[1-9]\d{0,2}|9{6,}\d{0,2})(?![\d])")  # 0.6799999999999999
_DOCSTRING = re.compile(r"^\*(.+)\*$", re.MULTILINE)                  # show_doc's italic docstring line


def _text(src) -> str: return "".join(src) if isinstance(src, list) else (src or "")


def _quiet_paths(text: str) -> str:
    "Machine paths out of outputs: the repository, installed packages, the interpreter, temporary folders, home."
    import site, sysconfig
    subs = [(str(ROOT) + "/", ""), (str(ROOT), "."),
            *((p.rstrip("/") + "/", "") for p in site.getsitepackages() + [site.getusersitepackages()]),  # `tunix/x.py`
            (sysconfig.get_paths()["stdlib"] + "/", "<python>/"), (sys.prefix + "/", "<venv>/")]
    for a, b in sorted(subs, key=lambda s: -len(s[0])): text = text.replace(a, b)
    tmp = re.escape(os.path.realpath(tempfile.gettempdir()))
    text = re.sub(rf"(?:/private)?{tmp}/[\w.@+-]+", "<tmp>", text)
    return text.replace(os.path.expanduser("~") + "/", "~/") if os.path.expanduser("~") not in ("/", "") else text


def _as_terminal(text: str) -> str:
    "Stream text as a terminal shows it: a line redrawn with carriage returns keeps its last state."
    return "\n".join(line.rstrip("\r").split("\r")[-1] for line in text.split("\n"))


def _round_noise(text: str) -> str: return _FLOAT_NOISE.sub(lambda m: f"{float(m.group(0)):.12g}", text)


def _source_line(url: str, name: str) -> str | None:
    "The line of `name` (`f`, `Class`, `Class.method`) in the repository file `url` points at."
    rel = url.split("/blob/", 1)[1].split("/", 1)[1]
    try: tree = ast.parse((ROOT / rel).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, IndexError): return None
    parts, body = name.split("."), tree.body
    for i, part in enumerate(parts):
        node = next((n for n in body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                     and n.name == part), None)
        if node is None:  # `@patch`-ed methods and assigned names live at module level
            node = next((n for n in ast.walk(tree) if getattr(n, "name", None) == parts[-1]
                         or (isinstance(n, ast.Assign) and any(getattr(t, "id", None) == parts[-1] for t in n.targets))),
                        None)
            return str(node.lineno) if node else None
        if i == len(parts) - 1: return str(node.lineno)
        body = node.body
    return None


def _show_doc_md(md: str) -> str:
    "show_doc's markdown with a working source link (file and line) and docstrings whose `*` stay literal."
    name = (m.group(1).replace("\\_", "_") if (m := _SD_HEADING.search(md)) else "")
    def _link(m):
        line = m.group(2) if m.group(2) not in (None, "None") else _source_line(m.group(1), name)
        return f"[source]({m.group(1)}{'#L' + line if line else ''}){{.source-link}}"
    md = _SOURCE_LINK.sub(_link, re.sub(r"^\s*---\s*\n", "", md))  # no rule before the entry: its heading starts it
    md = _SD_HEADING.sub(lambda m: m.group(0).replace("_", r"\_"), md)  # `__repr__` is a name, not bold
    return _DOCSTRING.sub(lambda m: "*" + m.group(1).replace("*", r"\*") + "*", md)


def _site_links(md: str, page: str, html2doc: dict, site_url: str) -> str:
    "nbdev's links into the published site (`site_url/core.html#name`) as links between the pages of this build."
    def _sub(m):
        doc = html2doc.get(m.group(1))
        if doc is None: return m.group(0)
        return "](" + os.path.relpath(doc + ".ipynb", Path(page).parent or ".") + (m.group(2) or "") + ")"
    return re.sub(rf"\]\({re.escape(site_url)}/([^)#\s]+\.html)(#[^)\s]*)?\)", _sub, md) if site_url else md


def stage(nb: dict, rel: str, html2doc: dict, site_url: str, repo: dict, badges: bool, module: str = "") -> tuple:
    "A processed notebook as a MyST-NB source: (notebook JSON ready for Sphinx, title)."
    cells, title = [], None
    for cell in nb["cells"]:
        src = cell.get("source")
        if src is None: continue  # removed by a processor
        src = _text(src)
        if cell["cell_type"] == "raw":
            if (m := _FM.match(src)) and title is None:
                import yaml
                fm = yaml.safe_load(m.group(1)) or {}
                title = str(fm.get("title", Path(rel).stem))
                md = f"# {title}\n"
                if fm.get("description"): md += f"\n{{.description}}\n{fm['description']}\n"
                cells.append(dict(cell_type="markdown", metadata={}, source=md))
                if badges: cells.append(dict(cell_type="markdown", metadata={}, source=_badges(rel, repo)))
            continue
        if cell["cell_type"] == "markdown":
            cells.append(dict(cell_type="markdown", metadata={}, source=_site_links(src, rel, html2doc, site_url)))
            continue
        lines, opts = src.splitlines(), {}
        while lines and (m := _DIRECTIVE.match(lines[0])): opts[m.group(1).lower()] = m.group(2).lower(); lines.pop(0)
        if opts.get("include") == "false": continue
        outputs = [_tidy_output(dict(o)) for o in cell.get("outputs", [])]
        if opts.get("output") == "asis":  # show_doc: its markdown is page content (headings, anchors, contents)
            md = "\n\n".join(_text(o["data"]["text/markdown"]) for o in outputs if "text/markdown" in o.get("data", {}))
            if module: md = md.replace("__main__.", module + ".")  # names the notebook defined: where they live
            if md.strip(): cells.append(dict(cell_type="markdown", metadata={},
                                             source=_site_links(_show_doc_md(md), rel, html2doc, site_url)))
            continue
        tags = (["remove-input"] if opts.get("echo") == "false" or not "\n".join(lines).strip() else []) + \
               (["remove-output"] if opts.get("output") == "false" else [])
        cells.append(dict(cell_type="code", metadata={"tags": tags} if tags else {}, source="\n".join(lines),
                          outputs=outputs, execution_count=None))
    for i, c in enumerate(cells): c["id"] = f"c{i:04d}"
    meta = {k: v for k, v in nb.get("metadata", {}).items() if k in ("kernelspec", "language_info")}
    meta.setdefault("kernelspec", {"display_name": "Python 3", "language": "python", "name": "python3"})
    meta["language_info"] = {**meta.get("language_info", {}), "name": "python", "pygments_lexer": "ipython3"}  # `!pip`
    return dict(cells=cells, metadata=meta, nbformat=4, nbformat_minor=5), title


def _tidy_output(o: dict) -> dict:
    o.pop("transient", None)
    if o.get("output_type") in ("display_data", "execute_result"): o.setdefault("metadata", {})
    if o.get("output_type") == "execute_result": o["execution_count"] = None
    if o.get("output_type") == "stream": o["text"] = _round_noise(_quiet_paths(_as_terminal(_text(o["text"]))))
    for k in ("text/plain", "text/markdown", "text/html"):
        if k in o.get("data", {}): o["data"][k] = _round_noise(_quiet_paths(_text(o["data"][k])))
    if o.get("output_type") == "error":
        o["traceback"] = [_quiet_paths(t) for t in o.get("traceback", [])]
    return o


def _badges(rel: str, repo: dict) -> str:
    "'Open in Colab' and 'Run on Kaggle' links to the notebook's path in the repository."
    path = f"{repo['user']}/{repo['repo']}/blob/{repo['branch']}/{repo['nbs']}/{rel}"
    return ("{.launch-badges}\n"
            f"[Open in Colab](https://colab.research.google.com/github/{path}) "
            f"[Run on Kaggle](https://kaggle.com/kernels/welcome?src=https://github.com/{path})\n")


def _entries(nb: dict) -> set:
    "The anchors of a staged page's show_doc entries (lowercase names, as nbdev links them)."
    return {m.group(1).replace("\\_", "_").lower() for c in nb["cells"] if c["cell_type"] == "markdown"
            for m in _SD_HEADING.finditer(c["source"])}


def _methods_to_classes(staged: dict) -> None:
    """nbdev's links to names without an entry: a method's point at its class, others become plain code.

    nbdev links every backticked name its index knows (`Class.method`, private helpers too), but only the names
    shown with `show_doc` have a heading to land on."""
    anchors = {rel: _entries(nb) for rel, nb in staged.items()}
    def _fix(rel, m):
        text, path, frag = m.groups()
        known = anchors.get(os.path.normpath(os.path.join(os.path.dirname(rel), path)).replace(os.sep, "/"))
        if known is None or frag in known: return m.group(0)
        if "." in frag and frag.rsplit(".", 1)[0] in known: return f"[{text}]({path}#{frag.rsplit('.', 1)[0]})"
        return text if text.strip("`").lower().endswith(frag.rsplit(".", 1)[-1]) else m.group(0)  # nbdev's: `name`
    for rel, nb in staged.items():
        for c in nb["cells"]:
            if c["cell_type"] == "markdown":
                c["source"] = re.sub(r"\[([^\]]+)\]\(([^)\s#]+\.ipynb)#([^)\s]+)\)", lambda m: _fix(rel, m), c["source"])


def _public_names(module: Path) -> list:
    "(name, source of its value or None) for each name in a module's `__all__`, read from its source."
    tree, values = ast.parse(src := module.read_text(encoding="utf-8")), {}
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                if isinstance(t, ast.Name): values[t.id] = ast.get_source_segment(src, node.value)
    names = next((ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
                  and any(getattr(t, "id", None) == "__all__" for t in n.targets)), [])
    return [(n, values.get(n)) for n in names]


def _names_page(staged: dict, modules: dict, titles: dict, lib: str) -> str:
    "A page listing every public name of every module: a link to its entry, or its value for a constant."
    parts = [f"# Index of names\n\n{{.description}}\nEvery name in the `__all__` of each {lib} module, linked to its "
             "documentation; constants with their value.\n"]
    for rel, module in sorted(modules.items(), key=lambda kv: kv[1]):
        path = ROOT / (module.replace(".", "/") + ".py")
        if not path.exists(): continue
        anchors = _entries(staged[rel])
        rows = []
        for name, value in _public_names(path):
            if name.lower() in anchors: rows.append(f"| [`{name}`]({rel}#{name.lower()}) | |")
            else:
                shown = " ".join((value or "").split())
                shown = (shown if len(shown) <= 90 else shown[:87] + "…").replace("|", "\\|").replace("`", "'")
                rows.append(f"| [`{name}`]({rel}) | {'`= ' + shown + '`' if shown else ''} |")
        parts.append(f"## `{module}`: [{titles[rel]}]({rel})\n\n| name | value |\n|---|---|\n" + "\n".join(rows) + "\n")
    return "\n".join(parts)


def _nav(docs: list, nav: list) -> str:
    "The home page's hidden toctrees: the sidebar sections of docs/conf.py, each a list of globs."
    out, placed = [], {"index"}
    for caption, globs in nav:
        entries = []
        for g in globs:
            for d in sorted(d for d in docs if fnmatch.fnmatch(d, g) and d not in placed):
                entries.append(d); placed.add(d)
        if entries: out.append(f"```{{toctree}}\n:caption: {caption}\n:hidden:\n:maxdepth: 1\n\n" + "\n".join(entries) + "\n```")
    rest = [d for d in docs if d not in placed]
    if rest: out.append("```{toctree}\n:caption: More\n:hidden:\n:maxdepth: 1\n\n" + "\n".join(rest) + "\n```")
    return "\n\n".join(out)


# ------------------------------------------------------------------------------------------- 3. render
def notebooks(only: list | None = None) -> list:
    "The notebooks nbdev documents (its own glob: new notebooks and folders come in by themselves), paths under nbs/."
    from nbdev.config import get_config
    from nbdev.doclinks import nbglob
    nbs = Path(get_config(ROOT).nbs_path)
    rels = sorted(Path(p).relative_to(nbs).as_posix() for p in nbglob(nbs, as_path=True))
    if only: rels = [r for r in rels if r == "index.ipynb" or any(fnmatch.fnmatch(r, g) for g in only)]  # home: the root
    if not rels: sys.exit(f"no notebooks under {nbs}" + (f" match {only}" if only else ""))
    return rels


def run_notebooks(rels: list, proc_dir: Path, execute: bool, workers: int, cell_timeout: int) -> None:
    "Step 1 for each notebook into `proc_dir`; exits naming every failed notebook and cell."
    from nbdev.config import get_config
    cfg = get_config(ROOT)
    nbs, flags = Path(cfg.nbs_path), str(cfg.get("tst_flags", "")).split()
    shutil.rmtree(proc_dir, ignore_errors=True)
    for rel in rels: (proc_dir / rel).parent.mkdir(parents=True, exist_ok=True)
    print(f"{'executing and processing' if execute else 'processing'} {len(rels)} notebooks, {workers} at a time…", flush=True)
    # executed: a fresh process per notebook (IPython takes over `__main__`, JAX state stays apart); structure only:
    # one process per worker for a share of the notebooks, so the libraries they import load once per worker
    batches = [[r] for r in rels] if execute else [rels[i::workers] for i in range(workers)]
    failed = {}
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), max_tasks_per_child=1) as ex:
        futs = [(b, ex.submit(process_all, [(str(nbs / r), str(proc_dir / r)) for r in b], execute, flags, cell_timeout))
                for b in batches if b]
        for batch, fut in futs:
            try: results = fut.result()
            except Exception as e: results = [(0.0, f"{batch}: the worker died: {e!r}")] * len(batch)
            for rel, (secs, err) in zip(batch, results):
                print(f"  {'ok  ' if not err else 'FAIL'} {rel} ({secs:.0f}s)", flush=True)
                if err: failed[rel] = err
    if failed:
        for err in failed.values(): print(f"\nFAILED {err}", file=sys.stderr)
        sys.exit(f"{len(failed)} notebook(s) failed: {', '.join(failed)}; no site was built")
    (proc_dir / "executed.json").write_text(json.dumps(execute))


def stage_all(rels: list, proc_dir: Path, src_dir: Path) -> dict:
    "Step 2: the processed notebooks as MyST-NB sources in `src_dir`: {notebook: title}."
    from nbdev.config import get_config, nbpath2html
    sys.path.insert(0, str(ROOT / "docs"))
    import conf as docs_conf  # the site's settings: NAV, BADGES
    cfg = get_config(ROOT)
    nbs, docs, modules = Path(cfg.nbs_path), {rel: rel.removesuffix(".ipynb") for rel in rels}, {}
    html2doc = {nbpath2html(Path(rel)).as_posix(): doc for rel, doc in docs.items()}
    repo = dict(user=cfg.user, repo=cfg.repo, branch=cfg.branch, nbs=nbs.relative_to(ROOT).as_posix())
    site_url = f"{cfg.doc_host}{cfg.doc_baseurl}".rstrip("/") if cfg.get("doc_host") else ""
    staged, titles = {}, {}
    for rel in rels:
        nb = json.loads((proc_dir / rel).read_text(encoding="utf-8"))
        exp = next((m for c in json.loads((nbs / rel).read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"
                    and (m := re.match(r"#\|\s*default_exp\s+(\S+)", _text(c["source"])))), None)
        if exp: modules[rel] = f"{cfg.lib_name}.{exp.group(1)}"
        staged[rel], titles[rel] = stage(nb, rel, html2doc, site_url, repo, any(fnmatch.fnmatch(rel, g) for g in docs_conf.BADGES),
                                         modules.get(rel, ""))
    _methods_to_classes(staged)
    shutil.rmtree(src_dir, ignore_errors=True)
    src_dir.mkdir(parents=True)
    if modules:
        (src_dir / "names.md").write_text(_names_page(staged, modules, titles, cfg.lib_name), encoding="utf-8")
        docs["names.md"] = "names"
    for rel, nb in staged.items():
        if docs[rel] == "index":
            nb["cells"].append(dict(cell_type="markdown", metadata={}, id="nav",
                                    source=_nav(sorted(docs.values()), docs_conf.NAV)))
        (src_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        (src_dir / rel).write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return titles


def build(out: Path, execute: bool = True, only: list | None = None, workers: int = 2, cell_timeout: int = 1200,
          stage_dir: Path = STAGE, reuse: bool = False) -> dict:
    "Build the site into `out` (work files in `stage_dir`; `reuse`: step 1's results from the last run): its manifest."
    t0, proc_dir = time.time(), stage_dir / "proc"
    rels = notebooks(only)
    if reuse:
        if not (proc_dir / "executed.json").exists(): sys.exit(f"--reuse: no earlier run in {stage_dir}")
        execute, rels = json.loads((proc_dir / "executed.json").read_text()), [r for r in rels if (proc_dir / r).exists()]
    else: run_notebooks(rels, proc_dir, execute, workers, cell_timeout)
    t_exec = time.time() - t0
    titles = stage_all(rels, proc_dir, stage_dir / "src")

    from sphinx.cmd.build import build_main
    strict = ["-W", "--keep-going"] if not only else []  # a subset links to pages it does not build
    argv = ["-b", "html", "-c", str(ROOT / "docs"), "-d", str(stage_dir / "doctrees"), *strict, "-q",
            "-j", str(workers), str(stage_dir / "src"), str(stage_dir / "html")]  # MyST-NB keeps files beside the output
    if build_main(argv): sys.exit("sphinx-build reported warnings or errors (above); no site was written")
    if out.exists(): shutil.rmtree(out)
    shutil.copytree(stage_dir / "html", out, ignore=shutil.ignore_patterns(".buildinfo", ".doctrees"))
    (out / ".nojekyll").touch()
    manifest = {"pages": {rel: rel.removesuffix(".ipynb") + ".html" for rel in rels}, "titles": titles,
                "extra_pages": ["names.html"] if (out / "names.html").exists() else [],
                "executed": execute, "seconds": {"notebooks": round(t_exec), "total": round(time.time() - t0)}}
    (out / "pages.json").write_text(json.dumps(manifest, indent=1))
    print(f"wrote {len(rels)} pages to {out}/ in {time.time() - t0:.0f}s (notebooks {t_exec:.0f}s); "
          f"open {out / 'index.html'}")
    return manifest


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="_docs", help="output folder (default: _docs, nbdev's doc_path)")
    ap.add_argument("--no-exec", action="store_true", help="do not run the notebooks: pages without cell outputs")
    ap.add_argument("--only", action="append", metavar="GLOB", help="only notebooks (paths under nbs/) matching GLOB")
    ap.add_argument("--workers", type=int, default=2, help="notebooks processed at once (default: 2)")
    ap.add_argument("--reuse", action="store_true", help="render the notebooks as the last run left them (no step 1)")
    ap.add_argument("--stage", default=str(STAGE), help=f"work folder (default: {STAGE.relative_to(ROOT)})")
    ap.add_argument("--cell-timeout", type=int, default=1200, help="seconds a cell may run (default: 1200)")
    a = ap.parse_args(argv)
    out = Path(a.out) if Path(a.out).is_absolute() else Path.cwd() / a.out
    build(out, execute=not a.no_exec, only=a.only, workers=a.workers, cell_timeout=a.cell_timeout,
          stage_dir=Path(a.stage).resolve(), reuse=a.reuse)


if __name__ == "__main__":
    main()
