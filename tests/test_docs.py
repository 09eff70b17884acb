"""The static documentation site (`python tools/build_docs.py`) builds, is complete and renders in a browser.

The structural checks build every page without executing the notebooks (`--no-exec`, about 15 s on two cores);
one guide is built with execution to prove that plots reach the pages as images. The full build (every
notebook executed) takes a few minutes and is the documented command, not part of the test run.
"""
import ast, html, json, os, re, shutil, struct, subprocess, sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
NBS, LIB = ROOT / "nbs", ROOT / "agent_tunix"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]


def build_site(out: Path, *args: str) -> dict:
    "Run the documented docs command into `out`; return the manifest it writes."
    res = subprocess.run([sys.executable, "tools/build_docs.py", "--out", str(out), *args], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, f"build_docs.py failed:\n{res.stdout}\n{res.stderr}"
    return json.loads((out / "pages.json").read_text())


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("docs") / "site"
    return out, build_site(out, "--no-exec")


class _Refs(HTMLParser):
    "Collects the ids, the links (`href`, `src`) and the visible text of a page."
    def __init__(self):
        super().__init__(); self.ids, self.links, self.text, self._skip = set(), [], [], 0
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"): self.ids.add(a["id"])
        for k in ("href", "src"):
            if a.get(k): self.links.append(a[k])
        if tag in ("script", "style"): self._skip += 1
    def handle_endtag(self, tag):
        if tag in ("script", "style"): self._skip -= 1
    def handle_data(self, data):
        if not self._skip: self.text.append(data)


def _parse(path: Path) -> _Refs:
    p = _Refs(); p.feed(path.read_text(encoding="utf-8")); return p


def _notebooks() -> list:
    "Every notebook nbdev documents: under nbs/, folders and files starting with `_` or `.` left out."
    return sorted(p.relative_to(NBS).as_posix() for p in NBS.rglob("*.ipynb")
                  if not any(part[0] in "_." for part in p.relative_to(NBS).parts))


def test_every_notebook_has_a_page(site):
    out, manifest = site
    nbs = _notebooks()
    assert nbs and sorted(manifest["pages"]) == nbs
    assert manifest["pages"]["index.ipynb"] == "index.html"
    for nb, page in manifest["pages"].items():
        html = (out / page).read_text(encoding="utf-8")
        assert "<h1" in html and 'class="site-nav"' in html, f"{page} (from {nb}) has no title or no navigation"
        for other in manifest["pages"].values():  # the sidebar links every page, relative to this one
            assert f'href="{os.path.relpath(other, Path(page).parent)}"' in html, f"{page} does not link {other}"


def test_internal_links_resolve(site):
    out, manifest = site
    pages = {p: _parse(out / p) for p in [*manifest["pages"].values(), *manifest["extra_pages"]]}
    broken, checked = [], 0
    for page, refs in pages.items():
        for link in refs.links:
            u = urlsplit(link)
            if u.scheme or link.startswith(("//", "mailto:")): continue  # external, data: URIs
            target = (out / page).parent / unquote(u.path) if u.path else out / page
            target = Path(os.path.normpath(target))
            checked += 1
            if not target.is_file(): broken.append(f"{page}: {link} (no such file)"); continue
            rel = target.relative_to(out).as_posix()
            if u.fragment and rel in pages and unquote(u.fragment) not in pages[rel].ids:
                broken.append(f"{page}: {link} (no such anchor)")
    assert checked > len(pages), "too few internal links: the navigation is missing"
    assert not broken, "broken links:\n" + "\n".join(broken)


def _public_names(module: Path) -> list:
    "The names in a module's `__all__`, read from its source (no import: some modules need the train extra)."
    for node in ast.parse(module.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            return list(ast.literal_eval(node.value))
    return []


def _public_callables(module: Path) -> set:
    "The public names a module defines with `def` or `class` (nbdev gives each a `show_doc` entry)."
    tree = ast.parse(module.read_text(encoding="utf-8"))
    return {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


def test_every_public_name_is_documented(site):
    out, manifest = site
    all_pages = [*manifest["pages"].values(), *manifest["extra_pages"]]
    parsed = {p: _parse(out / p) for p in all_pages}
    text = "\n".join(" ".join(r.text) for r in parsed.values())
    ids = set().union(*(r.ids for r in parsed.values()))
    modules = [m for m in sorted(LIB.glob("*.py")) if not m.name.startswith("_")]
    assert modules
    missing = [f"agent_tunix.{m.stem}.{n}" for m in modules for n in _public_names(m)
               if not re.search(rf"(?<![\w]){re.escape(n)}(?![\w])", text)]
    assert not missing, "public names that appear on no page:\n" + "\n".join(missing)
    # functions and classes are shown with `show_doc`: each has its own anchor (nbdev's lowercase id)
    undocumented = [f"agent_tunix.{m.stem}.{n}" for m in modules for n in _public_names(m)
                    if n in _public_callables(m) and n.lower() not in ids]
    assert not undocumented, "public functions/classes without a show_doc entry:\n" + "\n".join(undocumented)


def test_plots_appear_as_images(tmp_path):
    "With execution (the default), a notebook's plots are embedded in its page."
    manifest = build_site(tmp_path / "site", "--only", "guides/reward_guide.ipynb")
    assert not manifest["failed"], manifest["failed"]
    html = (tmp_path / "site" / manifest["pages"]["guides/reward_guide.ipynb"]).read_text(encoding="utf-8")
    assert re.search(r'<img[^>]+src="data:image/png;base64,', html), "the reward guide's plot is not on its page"


def _png_size(path: Path) -> tuple:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def test_pages_render_in_headless_chromium(site, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.fail("chromium is not installed: `apt-get install -y chromium` (Debian's package; .ci/run installs it)")
    out, manifest = site
    shots = Path(os.environ.get("DOCS_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    for nb in ("index.ipynb", "00_core.ipynb" if "00_core.ipynb" in manifest["pages"] else sorted(manifest["pages"])[0]):
        page = out / manifest["pages"][nb]
        title = html.escape(manifest["titles"][nb], quote=False)
        run = lambda *a: subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                                         "--window-size=1280,1000", *a, page.as_uri()],
                                        capture_output=True, text=True, timeout=120)
        dom = run("--dump-dom")
        assert dom.returncode == 0, dom.stderr[-2000:]
        assert re.search(r"<h1[^>]*>\s*" + re.escape(title), dom.stdout), f"{page.name}: title {title!r} not rendered"
        assert re.search(r'class="[^"]*jp-CodeCell', dom.stdout) and "<pre" in dom.stdout, f"{page.name}: no code block"
        assert 'class="site-nav"' in dom.stdout, f"{page.name}: no navigation"
        png = shots / (Path(manifest["pages"][nb]).stem + ".png")
        shot = run(f"--screenshot={png}")
        assert shot.returncode == 0 and png.is_file(), shot.stderr[-2000:]
        assert _png_size(png) == (1280, 1000) and png.stat().st_size > 20_000, f"{png}: blank or missing screenshot"
        print(f"screenshot: {png}")


def test_quarto_sidebar_lists_every_page():
    "The published (Quarto) site's hand-written sidebar in nbs/_quarto.yml reaches every notebook."
    import yaml
    from fnmatch import fnmatch
    cfg = yaml.safe_load((NBS / "_quarto.yml").read_text(encoding="utf-8"))
    def entries(contents):
        for c in [contents] if isinstance(contents, (str, dict)) else contents:
            if isinstance(c, str): yield c
            elif "contents" in c: yield from entries(c["contents"])
            elif "href" in c: yield c["href"]
    listed = list(entries(cfg["website"]["sidebar"]["contents"]))
    unlisted = [nb for nb in _notebooks() if not any(fnmatch(nb, e) for e in listed)]
    assert not unlisted, f"notebooks missing from the sidebar in nbs/_quarto.yml: {unlisted}"
    assert "metadata-files" in cfg and "nbdev.yml" in cfg["metadata-files"]
