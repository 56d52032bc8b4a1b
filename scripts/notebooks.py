"""Author and refresh the course's notebooks.

    python scripts/notebooks.py draft SRC.py OUT.ipynb   # percent-format script -> notebook
    python scripts/notebooks.py execute NB.ipynb ...      # run in place, store the outputs

``draft`` reads a "percent" script: ``# %%`` starts a code cell, ``# %% [markdown]`` a
markdown cell whose lines lose their leading ``# ``.  It is an authoring convenience; the
.ipynb files are the course's source.

``execute`` runs each notebook top to bottom in its own folder (as nbval does) and writes it
back with its outputs, so figures show on a static render (widgets keep their PNG fallback).  It fails, naming the cell, when a
cell raises or writes to stderr (a warning), and prints how long each notebook took.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

KERNEL = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def draft(src: Path, out: Path) -> None:
    cells, kind, lines = [], None, []

    def flush():
        if kind is None:
            return
        text = "\n".join(lines).strip("\n")
        if kind == "markdown":
            text = "\n".join(re.sub(r"^# ?", "", ln) for ln in text.splitlines())
            cells.append(nbformat.v4.new_markdown_cell(text))
        elif text:
            cells.append(nbformat.v4.new_code_cell(text))

    for line in src.read_text().splitlines():
        if line.startswith("# %%"):
            flush()
            kind, lines = ("markdown" if "[markdown]" in line else "code"), []
        elif kind is not None:
            lines.append(line)
    flush()
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = KERNEL
    nb.metadata["language_info"] = {"name": "python"}
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"c{i:02d}"
    nbformat.write(nb, out)


def execute(path: Path, timeout: int = 300) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    elapsed = time.perf_counter() - start
    for i, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" or output.get("name") == "stderr":
                text = output.get("text") or "\n".join(output.get("traceback", []))
                raise SystemExit(f"{path}: cell {i} wrote an error or warning:\n{text}")
    _keep_static_outputs(nb)
    nbformat.write(nb, path)
    return elapsed


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _keep_static_outputs(nb) -> None:
    """Drop live-widget views from the stored outputs, keeping their PNG fallback.

    A stored widget view refers to a kernel that no longer exists: JupyterLab would show
    "model not found" where the learner should see the figure.  Explorers also publish an
    image/png, which is what a static render and an unexecuted notebook show; running the
    cell brings the live sliders back.
    """
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        kept = []
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW in data:
                data.pop(WIDGET_VIEW)
                # The widget's text repr says nothing useful: beside a PNG it is noise, and
                # alone it is a progress bar frozen at 0 % (tqdm), so it goes either way.
                data.pop("text/plain", None)
            if output.get("output_type") in ("display_data", "execute_result") and not data:
                continue  # e.g. a progress bar that has no static form
            kept.append(output)
        if "outputs" in cell:
            cell["outputs"] = kept


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("draft")
    d.add_argument("src", type=Path)
    d.add_argument("out", type=Path)
    e = sub.add_parser("execute")
    e.add_argument("notebooks", type=Path, nargs="+")
    args = parser.parse_args(argv)
    if args.cmd == "draft":
        draft(args.src, args.out)
        return 0
    for nb in args.notebooks:
        print(f"{nb}: {execute(nb):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
