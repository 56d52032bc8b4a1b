"""The lessons as files: linked from the index, links that resolve, stored outputs that are
clean, and every torch scheduler explained somewhere."""

import json
import re
from pathlib import Path

import pytest

from lrcourse import TORCH_SCHEDULERS

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SHIPPED = sorted([*LESSONS, *(ROOT / "solutions").glob("*.ipynb")])
LINK = re.compile(r"\]\(([^)#\s]+\.(?:ipynb|md))(?:#[^)]*)?\)")


def _cells(path):
    return json.loads(path.read_text())["cells"]


def _markdown(path):
    return "\n".join("".join(c["source"]) for c in _cells(path) if c["cell_type"] == "markdown")


def test_there_are_lessons():
    assert len(LESSONS) >= 11


def test_the_index_links_to_every_lesson():
    index = _markdown(ROOT / "notebooks" / "00_index.ipynb")
    linked = set(LINK.findall(index))
    missing = [p.name for p in LESSONS if p.name != "00_index.ipynb" and p.name not in linked]
    assert not missing, f"00_index.ipynb does not link to {missing}"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_relative_links_resolve(path):
    broken = [link for link in LINK.findall(_markdown(path))
              if not link.startswith("http") and not (path.parent / link).resolve().exists()]
    assert not broken, f"{path.name} links to missing files: {broken}"


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_stored_outputs_are_present_and_clean(path):
    code = [c for c in _cells(path) if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    assert all(c.get("execution_count") for c in code), f"{path.name} is stored unexecuted"
    for i, cell in enumerate(code):
        for output in cell.get("outputs", []):
            assert output["output_type"] != "error", f"{path.name}: cell {i} stored an error"
            assert output.get("name") != "stderr", \
                f"{path.name}: cell {i} stored a warning: {''.join(output.get('text', ''))[:200]}"
            assert "application/vnd.jupyter.widget-view+json" not in output.get("data", {}), \
                f"{path.name}: cell {i} stores a live widget view (run scripts/notebooks.py execute)"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_kernelspec_is_plain_python3(path):
    meta = json.loads(path.read_text())["metadata"]
    assert meta["kernelspec"]["name"] == "python3"


def test_every_torch_scheduler_is_explained_in_a_lesson():
    text = "\n".join(_markdown(p) for p in LESSONS if p.name not in ("00_index.ipynb",
                                                                      "10_cheat_sheet.ipynb"))
    missing = [name for name in TORCH_SCHEDULERS if f"`{name}`" not in text]
    assert not missing, f"no lesson explains {missing}"
