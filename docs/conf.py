"""Sphinx configuration: numpydoc API pages, a sphinx-gallery of the examples,
Markdown pages through MyST. Build: ``sphinx-build -W docs docs/_build/html``
(``-D plot_gallery=0`` skips running the examples)."""

import os

import skattn

project = "skattn"
author = "the skattn developers"
copyright = "2026, the skattn developers"
version = release = skattn.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py"]
myst_heading_anchors = 3

autosummary_generate = True
templates_path = ["_templates"]
autodoc_default_options = {"inherited-members": False}
# numpydoc lists a class's methods; autosummary tables would list them twice.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

os.environ.setdefault("SKATTN_EXAMPLE_FAST", "0")
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
}

html_theme = "alabaster"
html_static_path = []
html_theme_options = {"description": "Attention networks for few labels", "fixed_sidebar": True}


def skip_metadata_requests(app, what, name, obj, skip, options):
    # scikit-learn generates set_*_request methods on every estimator; their
    # docstrings point into scikit-learn's own documentation.
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", skip_metadata_requests)
