"""The one command-line entry point: `lrcourse release` and `lrcourse grade` wired up."""

import subprocess
import sys

import pytest

from lrcourse import cli


def test_help_lists_every_subcommand(capsys):
    assert cli.main([]) == 0
    out = capsys.readouterr().out
    assert "release" in out and "grade" in out


def test_unknown_subcommand_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["relase"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'relase'" in capsys.readouterr().err


def test_installed_script_runs_release_check():
    # exercises/ as committed is what the generator makes from solutions/
    done = subprocess.run([sys.executable, "-m", "lrcourse.cli", "release", "--check"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "up to date" in done.stdout


def test_grade_refuses_a_submission_path_that_does_not_exist(tmp_path, capsys):
    assert cli.main(["grade", str(tmp_path / "typo"), "--out", str(tmp_path / "out")]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
