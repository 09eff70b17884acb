"""What the site needs beyond its theme: MathJax served from the site, and a Kaggle entry in the launch menu."""
import importlib.util, re
from pathlib import Path

from sphinx.util.fileutil import copy_asset

# The parts of MathJax 3 that `tex-svg.js` loads (TeX input with its extensions, the menu, assistive MathML);
# SVG output carries its own glyphs, so no font files are needed.
MATHJAX_PARTS = ["tex-svg.js", "input", "ui", "a11y", "adaptors"]


def heading_slug(title: str) -> str:
    "Heading anchors as nbdev links to them: `### Class.method` is `#class.method`; prose headings as GitHub makes them."
    return re.sub(r"[^\w.\- ]", "", title.strip().lower()).replace(" ", "-")


def mathjax_dir() -> Path:
    "MathJax 3 as the sphinx-mathjax-offline wheel ships it (its import name has hyphens: found by spec, not imported)."
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("MathJax is missing: pip install -e '.[docs]' (it comes with sphinx-mathjax-offline)")
    return Path(list(spec.submodule_search_locations)[0]) / "static" / "mathjax"


def copy_mathjax(app, exc):
    if exc is not None or app.builder.format != "html": return
    src, dst = mathjax_dir(), Path(app.outdir) / "_static" / "mathjax"
    for part in MATHJAX_PARTS:
        if (src / part).is_dir(): copy_asset(src / part, dst / part)
        else: dst.mkdir(parents=True, exist_ok=True); copy_asset(src / part, dst)


def add_kaggle(app, pagename, templatename, context, doctree):
    "Beside the theme's Colab entry in the launch menu: the same notebook on Kaggle."
    for group in context.get("header_buttons", []):
        if group.get("label") != "launch-buttons": continue
        colab = next((b for b in group["buttons"] if b.get("text") == "Colab"), None)
        if colab is None: return
        path = colab["url"].split("/github/", 1)[1]
        group["buttons"].append({"type": "link", "text": "Kaggle", "tooltip": "Run on Kaggle", "icon": "fab fa-kaggle",
                                 "url": f"https://kaggle.com/kernels/welcome?src=https://github.com/{path}"})


def setup(app):
    mathjax_dir()  # fail at once, not after the build
    app.connect("build-finished", copy_mathjax)
    app.connect("html-page-context", add_kaggle, priority=502)  # after the theme's launch buttons (501)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
