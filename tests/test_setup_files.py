"""The three descriptions of the course's environment agree: pyproject.toml (what pip installs),
scripts/setup_env.sh (the torch ./course pins) and environment.yml (conda, Binder)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

tomllib = pytest.importorskip("tomllib")

REPO = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _default_torch() -> str:
    text = (REPO / "scripts" / "setup_env.sh").read_text()
    return re.search(r'TORCH_SPEC="\$\{LRCOURSE_TORCH:-(torch==[0-9.]+)\}"', text).group(1)


def test_environment_yml_installs_what_pyproject_requires_with_the_same_cpu_torch():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    conda = {_name(d) for d in env["dependencies"] if isinstance(d, str)}
    [pip] = [d["pip"] for d in env["dependencies"] if isinstance(d, dict)]
    runtime = {_name(r) for r in project["dependencies"]} - {"torch"}
    # not for conda/Binder: the browser driver, the course's own extras ("lrcourse[site]") and
    # the optional ground truth of lrcourse.schedules.huggingface (its tests skip without it)
    tests = ({_name(r) for r in project["optional-dependencies"]["test"]}
             - {"playwright", "lrcourse", "transformers"})
    assert runtime | tests <= conda, (runtime | tests) - conda
    assert _default_torch() in pip  # the torch ./course installs
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in pip
    assert "-e ." in pip


def test_the_default_torch_is_within_the_floor():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    [floor] = [r for r in project["dependencies"] if _name(r) == "torch"]
    low = tuple(int(x) for x in re.search(r">=([0-9.]+)", floor).group(1).split("."))
    pinned = tuple(int(x) for x in _default_torch().split("==")[1].split("."))
    assert pinned[:len(low)] >= low
