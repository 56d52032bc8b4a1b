"""The three descriptions of the course's environment agree: pyproject.toml (what pip installs),
scripts/setup_env.sh (the torch ./course pins) and environment.yml (conda, Binder)."""

from __future__ import annotations

import re
import subprocess
import sys
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


def _fake_venv(path: Path, torch_version: str) -> Path:
    """A virtualenv without pip whose only package is the metadata of a torch release."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    purelib = subprocess.run([str(path / "bin" / "python"), "-c",
                              "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    info = Path(purelib) / f"torch-{torch_version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: torch\nVersion: {torch_version}\n")
    return path


@pytest.mark.parametrize("version", ["2.3.1", "2.8.0+cpu"])
def test_setup_refuses_a_torch_below_the_floor_instead_of_fetching_another(tmp_path, version):
    # pip would otherwise replace it with the newest torch it finds: a CUDA build on Linux
    venv = _fake_venv(tmp_path / "venv", version)
    before = sorted(p.name for p in venv.rglob("*"))
    done = subprocess.run(["bash", str(REPO / "scripts" / "setup_env.sh"), "lab"],
                          env={"PATH": "/usr/bin:/bin", "LRCOURSE_VENV": str(venv)},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert f"has torch {version}, older than the course needs (torch>=2.9" in done.stderr
    assert 'LRCOURSE_TORCH="torch==2.9.0"' in done.stderr
    assert sorted(p.name for p in venv.rglob("*")) == before  # nothing was installed
