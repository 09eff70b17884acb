"""Build the documentation site as static HTML without Quarto, into a folder a browser opens directly.

    python tools/build_docs.py [--out _site_static] [--workers 2] [--no-exec] [--strict] [--only GLOB]

The published site is built by Quarto (`nbdev-docs`, see .github/workflows/deploy.yaml), which cannot be
installed on our machines. This is the registry-only path, with the same steps nbdev takes:

1. **Execute** every notebook under `nbs/` (sub-folders such as `guides/` and `tutorials/` included) on a
   copy, with nbdev's notebook runner (execnb, as `nbdev-test` uses it): cells carrying a test flag from
   `tst_flags` (`notest tpu gpu download`) are skipped, so plots and printed tables land in the outputs. The
   repository stores notebooks without outputs; the copies are thrown away. A figure a cell leaves open without
   displaying it (as under `matplotlib.use("Agg")`) is added to that cell's outputs, as Jupyter's inline
   backend would show it.
2. **Process** each executed copy with nbdev's own documentation processors (what `nbdev-proc-nbs` applies:
   frontmatter, `#| hide`/`#| export` cells dropped, `show_doc` cells added for exported names), except
   that cells are not re-executed: the full run already rendered its `show_doc` cells, and only those without
   output are run, in a fresh shell holding the notebook's module (the ones nbdev adds, one per call of a cell
   holding several `show_doc` calls — a cell shows only its last — and all of them under `--no-exec`). Cell
   metadata is then stripped and Quarto's cell options (`echo`, `output`, `include`) become nbconvert tags.
3. **Render** each notebook to a standalone page with nbconvert (images embedded), add a navigation sidebar
   with relative links to every page, and turn links into the published site (`doc_host`/`doc_baseurl`,
   which nbdev writes for every backticked name) into relative links; a link to a method without its own
   entry points at its class. `names.html` lists every name in each module's `__all__`, linked to its entry.

`--no-exec` skips step 1: every page, API reference included, in seconds, without notebook outputs.
`--only 'guides/*'` builds a subset. A notebook that fails to execute still gets a page (its outputs up to
the failing cell); the failure is reported, and `--strict` makes it an error. The page of `nbs/NN_name.ipynb`
is `name.html`, as on the published site; `index.ipynb` is the home page `index.html`. `pages.json` in the
output folder maps each notebook to its page.
"""
from __future__ import annotations
import argparse, ast, html, json, os, re, shutil, sys, tempfile, time, traceback
from concurrent.futures import ProcessPoolExecutor
from fnmatch import fnmatch
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = {"": "API reference", "guides": "Guides", "tutorials": "Tutorials"}  # folder -> sidebar section
SECTION_ORDER = ["Home", "Guides", "Tutorials", "API reference"]
GUIDE_ORDER = ["getting_started", "reward_guide", "training_guide", "faq"]  # guides first in this order


# ---------------------------------------------------------------------------------------------- execute
def execute_notebook(src: str, dst: str, skip_flags: list, cell_timeout: int) -> tuple:
    "Run the notebook `src` (cwd: its folder) and write it with outputs to `dst`: (ok, seconds, error)."
    os.environ["IN_TEST"] = "1"  # as under nbdev-test and nbdev-proc-nbs
    if str(ROOT) not in sys.path: sys.path.insert(0, str(ROOT))
    from fastcore.nbio import write_nb
    from execnb.shell import CaptureShell
    from fastcore.xtras import working_directory
    from nbdev.process import NBProcessor
    from nbdev.test import _skip_cell  # the predicate nbdev-test uses for flags, `eval: false`, skip_exec
    src, start, err = Path(src), time.time(), ""
    nb = NBProcessor(src, rm_directives=False, process=True).nb
    k = CaptureShell(src)
    try:
        with working_directory(src.parent):
            k.run_all(nb, exc_stop=True, preproc=_skip_cell(nb, skip_flags), postproc=_keep_open_figures,
                      cell_timeout=cell_timeout)
    except BaseException as e:  # keep the outputs so far; the page still gets built
        err = (k.prettytb(fname=src) if getattr(k, "exc", None) else "") or "".join(traceback.format_exception(e))
    write_nb(nb, dst)
    return not err, time.time() - start, err


def _keep_open_figures(cell):
    "After a cell: figures it left open but never displayed (e.g. under `matplotlib.use('Agg')`) become outputs."
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is None or not plt.get_fignums(): return
    import base64, io
    for num in plt.get_fignums():
        fig, buf = plt.figure(num), io.BytesIO()
        fig.savefig(buf, format="png", bbox_inches="tight")
        cell.outputs.append(dict(output_type="display_data", metadata={},
                                 data={"image/png": base64.b64encode(buf.getvalue()).decode(), "text/plain": repr(fig)}))
        plt.close(fig)


# ---------------------------------------------------------------------------------------------- process
def _procs(module: str | None, name: str):
    "nbdev's documentation processors, with `exec_show_docs` replaced by `fill_show_docs`."
    from nbdev.processors import FilterDefaults, exec_show_docs
    from nbdev.process import Processor

    class fill_show_docs(Processor):
        "Run the `show_doc` cells that have no output: the ones `add_show_docs` inserted, or all under --no-exec."
        def begin(self):
            self.k = None
        def _shell(self):
            from execnb.shell import CaptureShell
            from nbdev.config import get_config
            k = CaptureShell()
            k.run_cell("from nbdev.showdoc import show_doc")
            if module:
                k.run_cell(f"import importlib as _il; _m = _il.import_module('{get_config().lib_name}.{module}')\n"
                           "globals().update({n: v for n, v in vars(_m).items() if not n.startswith('__')})")
            return k
        def __call__(self, cell):
            if cell.cell_type != "code" or cell.get("outputs") or not _SHOW_DOC.search(cell.source or ""): return
            if self.k is None: self.k = self._shell()
            self.k.cell(cell)
            if self.k.exc:
                print(f"WARNING: {name}: {cell.source.strip()} failed: {self.k.exc!r}", file=sys.stderr)
                cell.outputs = []

    return [fill_show_docs if p is exec_show_docs else p for p in FilterDefaults().procs()]


def _default_exp(nb: dict) -> str | None:
    "The module a notebook exports to (`#| default_exp name`), or None."
    for cell in nb["cells"]:
        src = cell.get("source") or ""
        m = re.search(r"^#\|\s*default_exp\s+(\S+)", "".join(src) if isinstance(src, list) else src, re.MULTILINE)
        if m: return m.group(1)
    return None


_SHOW_DOC = re.compile(r"^show_doc\(", re.MULTILINE)  # a cell that renders documentation (as nbdev tests it)
def _split_show_docs(nb: dict) -> bool:
    """Give each `show_doc` of a cell made only of `show_doc` calls its own cell (True if any was split).

    A cell displays only its last expression, so in `show_doc(f)\nshow_doc(g)` only `g` would be documented
    (Quarto's site has the same gap; one `show_doc` per cell avoids it). The new cells are rendered by
    `fill_show_docs`."""
    cells, split = [], False
    for cell in nb["cells"]:
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        lines = [l for l in src.splitlines() if l.strip()]
        calls = [l for l in lines if not l.startswith("#|")]
        if cell["cell_type"] != "code" or len(calls) < 2 or not all(_SHOW_DOC.match(l) for l in calls):
            cells.append(cell); continue
        dirs, split = [l for l in lines if l.startswith("#|")], True
        cells += [dict(cell_type="code", metadata={}, outputs=[], execution_count=None, source="\n".join(dirs + [c]))
                  for c in calls]
    nb["cells"] = cells
    return split


_FM = re.compile(r"^---\n(.*?)\n---", re.DOTALL)  # the YAML frontmatter of nbdev's first raw cell
_DIRECTIVE = re.compile(r"^#\|\s*([\w-]+)\s*:?\s*(.*?)\s*$")  # a Quarto/nbdev cell option line `#| key: value`


_PANDOC_LINK = re.compile(r'\[([^\]]+)\]\(([^)\s]+)\)\{([^}]*)\}')  # `[text](url){target="_blank" style="…"}`


def _md_links(md) -> str:
    "Quarto's link attributes (in `show_doc`'s source links) as HTML, which nbconvert's markdown keeps."
    md = "".join(md) if isinstance(md, list) else md
    def _a(m):
        attrs = " ".join(f'{k}="{html.escape(v)}"' for k, v in re.findall(r'([\w-]+)="([^"]*)"', m.group(3))
                         if k in ("target", "style"))
        return f'<a href="{html.escape(m.group(2))}" {attrs}>{m.group(1)}</a>'
    return _PANDOC_LINK.sub(_a, md)


def process_notebook(executed: Path, rel: Path) -> tuple[dict, dict]:
    "nbdev-process an executed notebook into nbformat-valid JSON for nbconvert: (notebook, frontmatter)."
    import yaml
    from nbdev.process import NBProcessor
    raw = json.loads(executed.read_text(encoding="utf-8"))
    module = _default_exp(raw)
    if _split_show_docs(raw): executed.write_text(json.dumps(raw), encoding="utf-8")
    proc = NBProcessor(executed, procs=_procs(module, str(rel)), rm_directives="quarto")
    proc.process()
    nb, fm, cells = proc.nb, {}, []
    for cell in nb.cells:
        src = cell.get("source")
        if src is None: continue  # removed by a processor (`#| hide`, `#| export`, …)
        tags = []
        if cell.cell_type == "raw":
            m = _FM.match(src)
            if m and not fm:
                fm = yaml.safe_load(m.group(1)) or {}
                title, desc = fm.get("title", rel.stem), fm.get("description", "")
                src = f"# {title}" + (f'\n\n<p class="description">{html.escape(str(desc))}</p>' if desc else "")
                cells.append(dict(cell_type="markdown", metadata={}, source=src))
            continue  # other raw cells have no HTML rendering
        if cell.cell_type == "code":
            lines, opts = src.splitlines(), {}
            while lines and (m := _DIRECTIVE.match(lines[0])):
                opts[m.group(1).lower()] = m.group(2).lower(); lines.pop(0)
            src = "\n".join(lines)
            if opts.get("include") == "false": continue
            if opts.get("echo") == "false" or not src.strip(): tags.append("remove_input")
            if opts.get("output") == "false": tags.append("remove_output")
            outputs = [dict(o) for o in cell.get("outputs", [])]
            for o in outputs:
                o.pop("transient", None)
                if "text/markdown" in o.get("data", {}): o["data"]["text/markdown"] = _md_links(o["data"]["text/markdown"])
                if o.get("output_type") == "execute_result": o.setdefault("metadata", {})
                if o.get("output_type") == "display_data": o.setdefault("metadata", {})
            cells.append(dict(cell_type="code", metadata={"tags": tags}, source=src, outputs=outputs,
                              execution_count=None))
        else:
            cells.append(dict(cell_type=cell.cell_type, metadata={}, source=src))
    for i, c in enumerate(cells): c["id"] = f"c{i:04d}"
    meta = {k: v for k, v in dict(nb.metadata).items() if k in ("kernelspec", "language_info")}
    meta["title"] = str(fm.get("title", rel.stem))
    return dict(cells=cells, metadata=meta, nbformat=4, nbformat_minor=5), fm


# ---------------------------------------------------------------------------------------------- render
def page_path(rel: Path, fm: dict) -> Path:
    "Where the page of notebook `rel` (relative to nbs/) goes in the site: as the published site names it."
    from nbdev.doclinks import nbpath2html
    return rel.parent / (fm.get("output-file") or nbpath2html(rel).name)


def _section(rel: Path) -> str:
    if rel == Path("index.ipynb"): return "Home"
    return SECTIONS.get(rel.parts[0] if len(rel.parts) > 1 else "", rel.parts[0].replace("_", " ").title())


def _sort_key(item):
    rel, _, _ = item
    sec = _section(rel)
    order = SECTION_ORDER.index(sec) if sec in SECTION_ORDER else len(SECTION_ORDER)
    guide = GUIDE_ORDER.index(rel.stem) if rel.stem in GUIDE_ORDER else len(GUIDE_ORDER)
    return order, sec, guide, str(rel)


def nav_html(pages: list, current: Path, site_title: str) -> str:
    "The sidebar: every page by section, links relative to `current` (a page path in the site)."
    def href(page: Path) -> str: return os.path.relpath(page, current.parent).replace(os.sep, "/")
    out, sec_open = [f'<nav class="site-nav" aria-label="Site"><a class="site-title" href="{href(Path("index.html"))}">'
                     f'{html.escape(site_title)}</a>'], None
    for rel, page, title in sorted(pages, key=_sort_key):
        sec = _section(rel)
        if sec != sec_open:
            if sec_open is not None: out.append("</ul>")
            out.append(f'<p class="nav-section">{html.escape(sec)}</p><ul>'); sec_open = sec
        cls = ' class="current" aria-current="page"' if page == current else ""
        out.append(f'<li><a{cls} href="{href(page)}">{html.escape(title)}</a></li>')
    out.append("</ul></nav>")
    return "".join(out)


NAV_CSS = """<style>
.site-nav{position:fixed;top:0;left:0;bottom:0;width:15rem;overflow-y:auto;box-sizing:border-box;padding:1rem;
  background:#f6f7f9;border-right:1px solid #dde;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;z-index:10}
.site-nav .site-title{display:block;font-size:1.2rem;font-weight:600;margin-bottom:.5rem;color:#1a4d8f;text-decoration:none}
.site-nav .nav-section{margin:.9rem 0 .2rem;font-weight:600;color:#555;text-transform:uppercase;font-size:.75rem;letter-spacing:.04em}
.site-nav ul{list-style:none;margin:0;padding:0}.site-nav li a{display:block;padding:.15rem .4rem;color:#234;text-decoration:none;border-radius:4px}
.site-nav li a:hover{background:#e6ebf2}.site-nav li a.current{background:#1a4d8f;color:#fff}
body{margin-left:15rem !important}main{max-width:60rem}
p.description{font-style:italic;font-size:125%;opacity:.75;margin-top:0}
.jp-RenderedMarkdown pre{background:#f5f5f5;padding:.6em .8em;border-radius:4px;overflow-x:auto}
@media (max-width:50rem){.site-nav{position:static;width:auto;border-right:none;border-bottom:1px solid #dde}body{margin-left:0 !important}}
</style>"""


def render_page(nbjson: dict, src_dir: Path) -> str:
    "A standalone HTML page from a processed notebook (images embedded)."
    import nbformat
    from nbconvert import HTMLExporter
    from traitlets.config import Config
    c = Config()
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_input_tags = {"remove_input"}
    c.TagRemovePreprocessor.remove_all_outputs_tags = {"remove_output"}
    c.TagRemovePreprocessor.remove_cell_tags = {"remove_cell"}
    c.HTMLExporter.exclude_input_prompt = True
    c.HTMLExporter.exclude_output_prompt = True
    c.HTMLExporter.embed_images = True  # images a markdown cell links to, like the plots in outputs
    nb = nbformat.from_dict(nbjson)
    nbformat.validate(nb)
    body, _ = HTMLExporter(config=c, template_name="lab").from_notebook_node(
        nb, resources={"metadata": {"name": nbjson["metadata"]["title"], "path": str(src_dir)}})
    return body


_HEADING_ID = re.compile(r'<h([1-6])([^>]*?) id="([^"]+)"')  # nbconvert's heading anchors keep their case


def _lowercase_anchors(page_html: str) -> str:
    "Add a lowercase anchor before each heading whose id has capitals: nbdev's doc links use Quarto's lowercase ids."
    ids = set(re.findall(r' id="([^"]+)"', page_html))
    def _add(m):
        low = m.group(3).lower()
        if low == m.group(3) or low in ids: return m.group(0)
        ids.add(low)
        return f'<span id="{low}"></span>' + m.group(0)
    return _HEADING_ID.sub(_add, page_html)


def _relink(page_html: str, page: Path, nb_rel: Path, pages_by_nb: dict, site_url: str) -> str:
    "Links into the published site, and links to notebooks, become relative links to pages."
    up = "../" * (len(page.parts) - 1)
    if site_url: page_html = page_html.replace(f'href="{site_url}/', f'href="{up}')

    def _nb_link(m):
        target, frag = m.group(2), m.group(3) or ""
        rel = Path(os.path.normpath(nb_rel.parent / target))
        if rel not in pages_by_nb: return m.group(0)
        return f'{m.group(1)}"{os.path.relpath(pages_by_nb[rel], page.parent).replace(os.sep, "/")}{frag}"'
    return re.sub(r'(href=)"(?!https?:)([^"#]+\.ipynb)(#[^"]*)?"', _nb_link, page_html)


def _point_methods_at_classes(out: Path, pages: list) -> None:
    """A doc link to a method nobody `show_doc`-ed (`core.html#batchreward.explain`) points at its class instead.

    nbdev links every backticked `Class.method`, but only shown names get an anchor."""
    ids = {p: set(re.findall(r' id="([^"]+)"', (out / p).read_text(encoding="utf-8"))) for p in pages}
    for page in pages:
        text = (out / page).read_text(encoding="utf-8")
        def _fix(m):
            target = Path(os.path.normpath(page.parent / m.group(1))) if m.group(1) else page
            frag, known = m.group(2), ids.get(target, set())
            if target not in ids or frag in known or "." not in frag: return m.group(0)
            owner = frag.rsplit(".", 1)[0]
            return f'href="{m.group(1)}#{owner}"' if owner in known else m.group(0)
        fixed = re.sub(r'href="((?![a-z]+:)[^"#]*)#([^"]+)"', _fix, text)
        if fixed != text: (out / page).write_text(fixed, encoding="utf-8")


NAMES_INDEX = Path("names.html")


def _public_names(source: str) -> list[tuple[str, str | None]]:
    "(name, value source or None) for each name in a module's `__all__`; the value for plain assignments."
    tree, values = ast.parse(source), {}
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            for tgt in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                if isinstance(tgt, ast.Name) and node.value is not None:
                    values[tgt.id] = ast.get_source_segment(source, node.value)
    names = next((ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
                  and any(getattr(t, "id", None) == "__all__" for t in n.targets)), [])
    return [(n, values.get(n)) for n in names]


def names_index(out: Path, modules: list, lib: Path, nav: str, lib_name: str) -> str:
    "A page listing every public name of every module: a link to its documentation, or its value for a constant."
    parts = [f"<h1>Index of names</h1><p class=\"description\">Every name in the <code>__all__</code> of each "
             f"{html.escape(lib_name)} module, linked to its documentation; constants with their value.</p>"]
    for module, page, title in modules:
        src = lib / (module.replace(".", "/") + ".py")
        if not src.exists(): continue
        ids = set(re.findall(r' id="([^"]+)"', (out / page).read_text(encoding="utf-8")))
        parts.append(f'<h2 id="{html.escape(module)}"><a href="{page.as_posix()}">{html.escape(lib_name)}.'
                     f'{html.escape(module)}</a> — {html.escape(title)}</h2><table><tbody>')
        for name, value in _public_names(src.read_text(encoding="utf-8")):
            anchor = name.lower() if name.lower() in ids else name if name in ids else None
            link = f'{page.as_posix()}#{anchor}' if anchor else page.as_posix()
            shown = (f"<code>= {html.escape(value if len(value) <= 100 else value[:97] + '…')}</code>"
                     if value is not None and not anchor else "")
            parts.append(f'<tr><td><a href="{link}"><code>{html.escape(name)}</code></a></td><td>{shown}</td></tr>')
        parts.append("</tbody></table>")
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
            "content=\"width=device-width, initial-scale=1\"><title>Index of names</title>" + NAV_CSS +
            "<style>body{font:15px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;color:#222}main{padding:1rem 2rem}"
            "table{border-collapse:collapse}td{padding:.15rem .8rem .15rem 0;vertical-align:top}"
            "code{font-size:90%}td:first-child{white-space:nowrap}</style></head><body>" + nav +
            "<main>" + "".join(parts) + "</main></body></html>\n")


# ---------------------------------------------------------------------------------------------- main
def notebooks(nbs: Path) -> list[Path]:
    "Every notebook nbdev would document, relative to `nbs` (folders and files starting `_` or `.` skipped)."
    from nbdev.doclinks import nbglob
    return sorted(Path(p).relative_to(nbs) for p in nbglob(nbs, as_path=True))


def build(out: Path, workers: int = 2, execute: bool = True, cell_timeout: int = 300, only: list | None = None) -> dict:
    "Build the site into `out` (only the notebooks matching a glob in `only`, if given): the manifest it writes."
    from nbdev.config import get_config
    cfg = get_config(ROOT)
    nbs, flags = Path(cfg.nbs_path), str(cfg.get("tst_flags", "")).split()
    site_url = f"{cfg.doc_host}{cfg.doc_baseurl}".rstrip("/") if cfg.get("doc_host") else ""
    rels = notebooks(nbs)
    if only: rels = [r for r in rels if any(fnmatch(r.as_posix(), g) for g in only)]
    if not rels: sys.exit(f"no notebooks under {nbs}" + (f" match {only}" if only else ""))
    tmp = Path(tempfile.mkdtemp(prefix="build_docs_"))
    failed, t0 = {}, time.time()
    try:
        for rel in rels: (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        if execute:
            print(f"executing {len(rels)} notebooks with {workers} worker(s)…", flush=True)
            # one fresh process per notebook: IPython takes over `__main__` in the worker, and JAX state stays apart
            with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"), max_tasks_per_child=1) as ex:
                futs = {rel: ex.submit(execute_notebook, str(nbs / rel), str(tmp / rel), flags, cell_timeout)
                        for rel in rels}
                for rel, fut in futs.items():
                    try: ok, secs, err = fut.result()
                    except Exception as e:  # the worker itself died
                        ok, secs, err = False, 0.0, repr(e); shutil.copy2(nbs / rel, tmp / rel)
                    print(f"  {'ok  ' if ok else 'FAIL'} {rel} ({secs:.1f}s)", flush=True)
                    if not ok: failed[str(rel)] = err
        else:
            for rel in rels: shutil.copy2(nbs / rel, tmp / rel)

        processed = {}
        for rel in rels:
            processed[rel] = process_notebook(tmp / rel, rel)
        pages = [(rel, page_path(rel, fm), str(fm.get("title", rel.stem))) for rel, (_, fm) in processed.items()]
        pages_by_nb = {rel: page for rel, page, _ in pages}
        modules = [(m, page, title) for rel, page, title in pages
                   if (m := _default_exp(json.loads((nbs / rel).read_text(encoding="utf-8"))))]
        nav_pages = pages + ([(Path(NAMES_INDEX.stem), NAMES_INDEX, "Index of names")] if modules else [])
        if out.exists(): shutil.rmtree(out)
        for rel, page, _title in pages:
            body = render_page(processed[rel][0], (nbs / rel).parent)
            body = _lowercase_anchors(_relink(body, page, rel, pages_by_nb, site_url))
            body = body.replace("</head>", NAV_CSS + "\n</head>", 1)
            body = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + nav_html(nav_pages, page, str(cfg.title)), body, count=1)
            (out / page).parent.mkdir(parents=True, exist_ok=True)
            (out / page).write_text(body, encoding="utf-8")
        if modules:
            (out / NAMES_INDEX).write_text(names_index(out, modules, Path(cfg.lib_path), nav_html(nav_pages, NAMES_INDEX,
                                           str(cfg.title)), str(cfg.lib_name)), encoding="utf-8")
        _point_methods_at_classes(out, [page for _, page, _ in nav_pages])
        (out / ".nojekyll").touch()
        manifest = {"pages": {r.as_posix(): p.as_posix() for r, p, _ in pages},
                    "titles": {r.as_posix(): title for r, _, title in pages},
                    "extra_pages": [NAMES_INDEX.as_posix()] if modules else [], "failed": failed}
        (out / "pages.json").write_text(json.dumps(manifest, indent=1))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"wrote {len(pages)} pages to {out}/ in {time.time() - t0:.0f}s; open {out / 'index.html'}")
    for rel, err in failed.items():
        print(f"\nWARNING: {rel} failed to execute; its page shows the outputs up to the failing cell:\n{err}",
              file=sys.stderr)
    return manifest


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="_site_static", help="output folder (default: _site_static)")
    ap.add_argument("--workers", type=int, default=2, help="notebooks executed in parallel (default: 2)")
    ap.add_argument("--no-exec", action="store_true", help="do not execute notebooks (pages without outputs)")
    ap.add_argument("--cell-timeout", type=int, default=300, help="seconds a cell may run (default: 300)")
    ap.add_argument("--strict", action="store_true", help="exit 1 if a notebook fails to execute")
    ap.add_argument("--only", action="append", metavar="GLOB",
                    help="build only the notebooks (paths relative to nbs/) matching GLOB; repeatable")
    a = ap.parse_args(argv)
    out = Path(a.out) if Path(a.out).is_absolute() else Path.cwd() / a.out
    manifest = build(out, workers=a.workers, execute=not a.no_exec, cell_timeout=a.cell_timeout, only=a.only)
    if a.strict and manifest["failed"]: sys.exit(f"{len(manifest['failed'])} notebook(s) failed to execute")


if __name__ == "__main__":
    main()
