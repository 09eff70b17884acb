"""The documentation site (`python tools/build_docs.py`) is complete, links work, and it reads right in a browser.

By default the site is built here without running the notebooks (`--no-exec`: every page and every API entry,
no cell outputs), plus the reward guide executed, to prove that outputs, figures and maths reach the pages. With
`DOCS_SITE=<folder>` the tests check a site built already instead, e.g. the full build the Pages workflow publishes.
The browser checks run the pages in headless Chromium (`.ci/run` installs it); `DOCS_SCREENSHOTS=<folder>` keeps a
screenshot of the main pages there.
"""
import ast, json, os, re, shutil, subprocess, sys
from fnmatch import fnmatch
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
NBS, LIB = ROOT / "nbs", ROOT / "agent_tunix"
REPO = "https://github.com/agent-tunix/agent_tunix/blob/main/"
EXECUTED = "guides/reward_guide.ipynb"  # small, with a plot: the executed page the default run builds
SCREENSHOTS = ["index.ipynb", "guides/reward_guide.ipynb", "02_rewards.ipynb", "03_analysis.ipynb",
               "tutorials/custom_reward_training.ipynb", "tutorials/grpo_gsm8k.ipynb"]


def build_site(tmp: Path, *args: str) -> tuple:
    "Run the documented docs command into `tmp/site`: (folder, manifest)."
    res = subprocess.run([sys.executable, "tools/build_docs.py", "--out", str(tmp / "site"), "--stage", str(tmp / "work"),
                          *args], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, f"build_docs.py failed:\n{res.stdout[-5000:]}\n{res.stderr[-5000:]}"
    return tmp / "site", json.loads((tmp / "site" / "pages.json").read_text())


def _given_site():
    if not os.environ.get("DOCS_SITE"): return None
    out = Path(os.environ["DOCS_SITE"]).resolve()
    return out, json.loads((out / "pages.json").read_text())


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return _given_site() or build_site(tmp_path_factory.mktemp("docs"), "--no-exec")


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    given = _given_site()
    if given and given[1]["executed"]: return given
    return build_site(tmp_path_factory.mktemp("docs_exec"), "--only", EXECUTED)


class _Page(HTMLParser):
    "The ids, links (`href`, `src`), source links, images and visible text of a page."
    def __init__(self, path: Path):
        super().__init__()
        self.ids, self.links, self.text, self.imgs, self.source_links, self._skip, self._a = set(), [], [], [], [], 0, None
        self.outputs, self._divs = [], []  # text of cell outputs; the open divs (True: an output area)
        self.feed(path.read_text(encoding="utf-8"))
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"): self.ids.add(a["id"])
        for k in ("href", "src"):
            if a.get(k): self.links.append(a[k])
        if tag == "img": self.imgs.append(a.get("src", ""))
        if tag == "a": self._a = [a.get("href"), ""]
        if tag in ("script", "style"): self._skip += 1
        if tag == "div": self._divs.append("cell_output" in (a.get("class") or "") or any(self._divs))
    def handle_endtag(self, tag):
        if tag in ("script", "style"): self._skip -= 1
        if tag == "div" and self._divs: self._divs.pop()
        if tag == "a" and self._a:
            if self._a[1].strip() == "source": self.source_links.append(self._a[0])
            self._a = None
    def handle_data(self, data):
        if self._a is not None: self._a[1] += data
        if not self._skip: self.text.append(data)
        if self._divs and self._divs[-1]: self.outputs.append(data)


def _notebooks() -> list:
    "Every notebook nbdev documents: under nbs/, folders and files starting with `_` or `.` left out."
    return sorted(p.relative_to(NBS).as_posix() for p in NBS.rglob("*.ipynb")
                  if not any(part[0] in "_." for part in p.relative_to(NBS).parts))


def test_every_notebook_has_a_page_in_the_navigation(site):
    out, manifest = site
    assert sorted(manifest["pages"]) == _notebooks()
    assert manifest["pages"]["index.ipynb"] == "index.html"
    home = (out / "index.html").read_text(encoding="utf-8")
    nav = home[home.index('class="bd-sidebar-primary'):]  # the sidebar lists every page, in its sections
    for nb, page in manifest["pages"].items():
        html = (out / page).read_text(encoding="utf-8")
        assert "<h1" in html, f"{page} (from {nb}) has no title"
        if page != "index.html": assert f'href="{page}"' in nav, f"the sidebar does not link {page}"
    for section in ("Guides", "Tutorials", "API reference"):
        assert section in nav, f"no {section} section in the sidebar"


def test_internal_links_resolve(site):
    out, manifest = site
    pages = {p: _Page(out / p) for p in [*manifest["pages"].values(), *manifest["extra_pages"], "genindex.html", "search.html"]}
    broken, checked = [], 0
    for page, refs in pages.items():
        for link in refs.links:
            u = urlsplit(link)
            if u.scheme or link.startswith(("//", "mailto:", "javascript:")): continue
            target = Path(os.path.normpath((out / page).parent / unquote(u.path))) if u.path else out / page
            checked += 1
            if not target.is_file(): broken.append(f"{page}: {link} (no such file)"); continue
            rel = target.relative_to(out).as_posix()
            if u.fragment and rel in pages and unquote(u.fragment) not in pages[rel].ids:
                broken.append(f"{page}: {link} (no such anchor)")
    assert checked > 10 * len(pages), "too few internal links: the navigation is missing"
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_the_site_needs_no_network(site):
    "Scripts, styles and fonts come from the site itself (MathJax included): it works offline, from a folder."
    out, manifest = site
    assert (out / "_static" / "mathjax" / "tex-svg.js").is_file()
    for page in manifest["pages"].values():
        html = (out / page).read_text(encoding="utf-8")
        remote = re.findall(r'<(?:script|link|img)\b[^>]*(?:src|href)="((?:https?:)?//[^"]+)"', html)
        assert not remote, f"{page} loads {remote}"


def _public(module: Path) -> tuple:
    "(names in `__all__`, the ones defined with def/class) of a module, read from its source."
    tree = ast.parse(module.read_text(encoding="utf-8"))
    names = next((list(ast.literal_eval(n.value)) for n in tree.body if isinstance(n, ast.Assign)
                  and any(getattr(t, "id", None) == "__all__" for t in n.targets)), [])
    defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    return names, defined


def test_every_public_name_is_documented(site):
    out, manifest = site
    parsed = [_Page(out / p) for p in [*manifest["pages"].values(), *manifest["extra_pages"]]]
    text, ids = "\n".join(" ".join(p.text) for p in parsed), set().union(*(p.ids for p in parsed))
    modules = [m for m in sorted(LIB.glob("*.py")) if not m.name.startswith("_")]
    assert modules
    missing, undocumented = [], []
    for m in modules:
        names, defined = _public(m)
        missing += [f"{m.stem}.{n}" for n in names if not re.search(rf"(?<!\w){re.escape(n)}(?!\w)", text)]
        undocumented += [f"{m.stem}.{n}" for n in names if n in defined and n.lower() not in ids]
    assert not missing, "public names that appear on no page:\n" + "\n".join(missing)
    assert not undocumented, "public functions/classes without a show_doc entry (anchor):\n" + "\n".join(undocumented)


def test_source_links_point_at_the_definition(site):
    "Each show_doc entry's 'source' link names a file of the repository and the line that defines the name."
    out, manifest = site
    links = [(page, href) for page in manifest["pages"].values() for href in _Page(out / page).source_links]
    assert len(links) > 50
    wrong = []
    for page, href in links:
        m = re.fullmatch(re.escape(REPO) + r"([\w/.]+\.py)#L(\d+)", href or "")
        if not m: wrong.append(f"{page}: {href!r}"); continue
        lines = (ROOT / m.group(1)).read_text(encoding="utf-8").splitlines()
        line = lines[int(m.group(2)) - 1] if int(m.group(2)) <= len(lines) else ""
        if not re.match(r"\s*(@|def |async def |class |\w+\s*(:[^=]+)?=)", line): wrong.append(f"{page}: {href} -> {line!r}")
    assert not wrong, "source links without a file and a defining line:\n" + "\n".join(wrong[:20])


def test_tutorials_open_in_colab_and_kaggle(site):
    out, manifest = site
    tutorials = [nb for nb in manifest["pages"] if nb.startswith("tutorials/")]
    assert tutorials
    for nb in tutorials:
        html = (out / manifest["pages"][nb]).read_text(encoding="utf-8")
        path = f"agent-tunix/agent_tunix/blob/main/nbs/{nb}"
        assert f'href="https://colab.research.google.com/github/{path}"' in html, f"{nb}: no Colab link"
        assert f'href="https://kaggle.com/kernels/welcome?src=https://github.com/{path}"' in html, f"{nb}: no Kaggle link"


# ------------------------------------------------------------------------------------------- executed pages
_FIGURE = re.compile(r"\bplt\.(?:subplots|figure|plot|hist|bar)\(|(?<![\w.])plot_\w+\(|\bax\w*\.(?:plot|hist|bar)\(|Image\(")
_DIRECTIVES = re.compile(r"^#\|\s*([\w-]+)", re.MULTILINE)


def _makes_figure(line: str) -> bool:
    "A line that makes a figure for the reader (not one checked by a test, or saved to a file in a loop)."
    line = line.strip()
    return bool(_FIGURE.search(line)) and not line.startswith(("test_", "assert ", "for ", "show_doc(")) and "path=" not in line


def _figure_cells(nb: str) -> int:
    "Cells of a notebook that make a figure, among those the docs run and show (not hidden, exported or skipped)."
    flags = {"hide", "export", "exporti", "exports", "notest", "tpu", "gpu", "download", "eval"}
    cells = json.loads((NBS / nb).read_text(encoding="utf-8"))["cells"]
    return sum(1 for c in cells if c["cell_type"] == "code" and any(map(_makes_figure, (src := "".join(c["source"])).splitlines()))
               and not (set(_DIRECTIVES.findall(src)) & flags))


def test_executed_pages_show_outputs_and_every_figure(executed):
    out, manifest = executed
    assert manifest["executed"]
    noise = re.compile(r"\d\.\d*(?:0{6,}[1-9]|9{6,}\d)|Traceback \(most recent call last\)|site-packages/|/tmp/tmp|\r")
    outputs = 0
    for nb, page in manifest["pages"].items():
        p = _Page(out / page)
        outputs += len(p.outputs)
        images = [s for s in p.imgs if s.startswith("_images/") or "/_images/" in s]
        assert len(images) >= _figure_cells(nb), f"{page}: {len(images)} images for {_figure_cells(nb)} figure cells"
        found = noise.findall(" ".join(p.outputs))
        assert not found, f"{page}: tracebacks, machine paths or float noise in outputs: {found[:5]}"
    assert outputs and _figure_cells(EXECUTED) >= 1  # the default run proves outputs and a figure reach the page


# ------------------------------------------------------------------------------------------- in a browser
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
                  "--disable-component-update", "--disable-sync", "--allow-file-access-from-files"]
CHECKER = """<!DOCTYPE html><html><body><iframe id="f" style="width:1280px;height:900px"></iframe><pre id="out"></pre>
<script>
const pages = %s, res = {};
const load = (src) => new Promise(ok => { const f = document.getElementById("f"); f.onload = () => ok(f); f.src = src; });
const sleep = (ms) => new Promise(ok => setTimeout(ok, ms));
(async () => {
  for (const page of pages) {
    const f = await load(page), w = f.contentWindow, d = f.contentDocument;
    if (w.MathJax && w.MathJax.startup) { try { await w.MathJax.startup.promise; } catch (e) {} }
    const article = d.querySelector("article") || d.body, edge = article.getBoundingClientRect().right;
    const clipped = [...d.querySelectorAll("article pre")].filter(p => {
      const ox = w.getComputedStyle(p).overflowX, r = p.getBoundingClientRect();
      return (p.scrollWidth > p.clientWidth + 1 && !["auto", "scroll"].includes(ox)) || r.right > edge + 1;
    }).map(p => p.textContent.slice(0, 60));
    res[page] = {
      title: (d.querySelector("h1") || {}).textContent || "",
      traceback: d.body.innerText.includes("Traceback (most recent call last)") || !!d.querySelector(".output.traceback"),
      sourceWithoutHref: [...d.querySelectorAll("a")].filter(a => a.textContent.trim() == "source" && !a.getAttribute("href")).length,
      clipped: clipped,
      searchBox: !!d.querySelector('form[action$="search.html"] input[name="q"]'),
      math: d.querySelectorAll(".math").length, mathRendered: d.querySelectorAll("mjx-container").length,
      colab: [...d.querySelectorAll('a[href^="https://colab.research.google.com/github/"]')].filter(a => a.offsetParent).length,
      prevNext: !!d.querySelector(".prev-next-area a"), toc: !!d.querySelector(".bd-toc-nav, #pst-page-navigation-heading-2"),
      copyButtons: d.querySelectorAll("button.copybtn").length, codeBlocks: d.querySelectorAll("div.highlight pre").length,
    };
  }
  const f = await load("search.html?q=check_answer"), d = f.contentDocument;
  for (let i = 0; i < 100 && !d.querySelector("#search-results li"); i++) await sleep(100);
  res.search = d.querySelectorAll("#search-results li").length;
  document.getElementById("out").textContent = JSON.stringify(res);
})();
</script></body></html>"""


def _chromium() -> str:
    path = next(filter(None, map(shutil.which, ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"])), None)
    if path is None: pytest.fail("chromium is not installed: `apt-get install -y chromium` (.ci/run installs it)")
    return path


def browser_check(out: Path, pages: list, tmp: Path) -> dict:
    "Open every page in one headless Chromium (an iframe each) and measure what a reader sees."
    checker = out.resolve() / "_browser_check.html"
    checker.write_text(CHECKER % json.dumps(pages), encoding="utf-8")
    try:
        res = subprocess.run([_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp / 'profile'}", "--window-size=1400,1000",
                              "--virtual-time-budget=120000", "--dump-dom", checker.as_uri()],
                             capture_output=True, text=True, timeout=300)
    finally:
        checker.unlink()
    m = re.search(r'<pre id="out">(.*?)</pre>', res.stdout, re.DOTALL)
    assert m and m.group(1), f"the browser check did not finish:\n{res.stderr[-3000:]}"
    import html
    return json.loads(html.unescape(m.group(1)))


def _check_in_browser(out, manifest, tmp):
    res = browser_check(out, list(manifest["pages"].values()), tmp)
    assert res.pop("search") > 0, "searching for check_answer finds nothing"
    problems = []
    for nb, page in manifest["pages"].items():
        r = res[page]
        if r["title"].strip().rstrip("#") != manifest["titles"][nb]: problems.append(f"{page}: title {r['title']!r}")
        if r["traceback"]: problems.append(f"{page}: shows a traceback")
        if r["sourceWithoutHref"]: problems.append(f"{page}: {r['sourceWithoutHref']} source links without href")
        if r["clipped"]: problems.append(f"{page}: code cut off: {r['clipped'][:3]}")
        if not r["searchBox"]: problems.append(f"{page}: no search box")
        if r["math"] and r["mathRendered"] < r["math"]: problems.append(f"{page}: maths not rendered ({r})")
        if nb.startswith("tutorials/") and not r["colab"]: problems.append(f"{page}: no visible Colab link")
        if page != "index.html" and not r["prevNext"]: problems.append(f"{page}: no previous/next links")
        if r["codeBlocks"] and not r["copyButtons"]: problems.append(f"{page}: code without copy buttons")
    assert not problems, "\n".join(problems)
    return res


def test_pages_in_headless_chromium(site, tmp_path):
    out, manifest = site
    res = _check_in_browser(out, manifest, tmp_path)
    assert res["05_reward_model.html"]["mathRendered"] > 0 if "05_reward_model.html" in res else True
    assert sum(r["math"] for r in res.values()) > 0, "no maths anywhere: the MathJax check checked nothing"


def test_executed_pages_in_headless_chromium(executed, tmp_path):
    out, manifest = executed
    _check_in_browser(out, manifest, tmp_path)


def test_screenshots(site, tmp_path):
    "Screenshots of the main pages render (not blank); kept in DOCS_SCREENSHOTS when set."
    out, manifest = site
    shots = Path(os.environ.get("DOCS_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    names = [nb for nb in SCREENSHOTS if nb in manifest["pages"]]
    if not os.environ.get("DOCS_SCREENSHOTS"): names = names[:1] + [n for n in names if n.startswith("tutorials/")][:1]
    for nb in names:
        png = shots / (manifest["pages"][nb].replace("/", "_").removesuffix(".html") + ".png")
        res = subprocess.run([_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                              "--window-size=1280,1000", "--virtual-time-budget=10000", f"--screenshot={png}",
                              (out / manifest["pages"][nb]).as_uri()], capture_output=True, text=True, timeout=120)
        assert res.returncode == 0 and png.is_file(), res.stderr[-2000:]
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000, f"{png}: blank or missing screenshot"
        print(f"screenshot: {png}")


def test_navigation_follows_docs_conf():
    "Every notebook falls into a sidebar section of docs/conf.py (else it lands in 'More')."
    sys.path.insert(0, str(ROOT / "docs"))
    import conf
    docs = [nb.removesuffix(".ipynb") for nb in _notebooks() if nb != "index.ipynb"]
    unplaced = [d for d in docs if not any(fnmatch(d, g) for _, globs in conf.NAV for g in globs)]
    assert not unplaced, f"notebooks in no section of NAV in docs/conf.py: {unplaced}"
