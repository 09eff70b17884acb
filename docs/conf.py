"""Sphinx configuration of the agent_tunix documentation site.

Build with `python tools/build_docs.py` (see its docstring), not with `sphinx-build` directly: the sources are the
notebooks after nbdev's processing, staged by that script. The stack is the JAX ecosystem's (JAX, Flax and Optax
document themselves with Sphinx + MyST-NB + sphinx-book-theme). Everything a page needs is served from the site
itself (MathJax included), so the site works from a folder opened in a browser with no network.
"""
import sys, tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_nbdev = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["nbdev"]
REPO_URL = f"https://github.com/{_nbdev['user']}/{_nbdev['repo']}"

# The sidebar: sections in this order, each listing the notebooks (paths under nbs/, no suffix) that match its globs,
# in glob order and then alphabetically. A notebook matching no glob goes into a last section, "More".
NAV = [
    ("Guides", ["guides/getting_started", "guides/reward_guide", "guides/training_guide", "guides/*"]),
    ("Tutorials", ["tutorials/*"]),
    ("API reference", ["[0-9]*", "names"]),  # names: the index of every public name, written by the build
]
# Pages that get visible "Open in Colab" / "Run on Kaggle" links under their title (every notebook page also has
# the theme's launch menu, the rocket in the header).
BADGES = ["tutorials/*", "guides/*"]

project = _nbdev["title"]
author = "agent_tunix developers"
copyright = "agent_tunix developers, Apache-2.0"
root_doc = "index"

sys.path.insert(0, str(Path(__file__).parent / "_ext"))
extensions = ["myst_nb", "sphinx_copybutton", "sphinx.ext.mathjax", "nbdev_site"]
exclude_patterns = ["**/.ipynb_checkpoints"]

# --- MyST-NB: the notebooks arrive executed and processed; render, never run.
nb_execution_mode = "off"
nb_merge_streams = True
nb_output_stderr = "show"
myst_enable_extensions = ["dollarmath", "amsmath", "attrs_inline", "attrs_block", "colon_fence"]
myst_heading_anchors = 4
suppress_warnings = ["myst.header"]  # show_doc entries are level-3 headings, also on pages without level-2 ones
myst_dmath_double_inline = True


myst_heading_slug_func = "nbdev_site.heading_slug"  # show_doc's `### Class.method` is `#class.method`, as nbdev links it

# --- Theme
html_theme = "sphinx_book_theme"
html_title = project
html_static_path = ["_static"]
html_css_files = ["site.css"]
html_show_sourcelink = False
html_copy_source = True  # the theme's download menu offers the page's .ipynb
html_theme_options = {
    "repository_url": REPO_URL,
    "repository_branch": _nbdev.get("branch", "main"),
    "path_to_docs": _nbdev.get("nbs_path", "nbs"),  # page `tutorials/x` is the repository's nbs/tutorials/x.ipynb
    "use_repository_button": True,
    "use_source_button": True,
    "use_issues_button": True,
    "use_download_button": True,
    "launch_buttons": {"colab_url": "https://colab.research.google.com"},
    "show_toc_level": 2,
    "home_page_in_toc": True,
    "navigation_with_keys": False,
}

# --- Maths: MathJax 3 from the sphinx-mathjax-offline wheel, copied into the site (see _ext/nbdev_site.py).
mathjax_path = "mathjax/tex-svg.js"

# --- Copy buttons copy the code, not prompts or outputs.
copybutton_exclude = ".linenos, .gp, .go"
