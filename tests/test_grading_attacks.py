"""A hostile class: every attacker of grading_fixtures/attacks.py, graded with honest learners.

One run of the real command (`lrcourse grade`, worker processes, --jobs 2, bubblewrap
sandboxes) grades ~60 attackers together with three honest learners; the tests then check,
for every attacker, that it got exactly what it deserves, and for the run as a whole that no
honest learner's result moved (their feedback pages are byte-identical to a run of the honest
learners alone, with the same secret), that no file outside the output folder changed, that no
process of the run outlived it, and that nothing leaked into what learners and instructors
read (environment variables, the secret, hidden inputs and seeds, raw HTML, formulas).
"""

from __future__ import annotations

import compileall
import csv
import io
import json
import os
import secrets
import site
import time
from pathlib import Path

import pytest

from grading_fixtures.attacks import EIGHT, craft, undeserved
from grading_fixtures.crafted import (
    CORRECT, EMPTY, PASSED, REPO, SOURCE, TESTS, WRONG_STEP, describe_processes, digest,
    notebook, notebook_message, processes_of_uids, processes_with, run_grade,
    sandbox_unavailable, write,
)

TIMEOUT = 10


# Only a machine without bubblewrap, or one that forbids the namespaces it needs, skips these:
# any other failure to start a sandbox is a bug, and fails them.
SANDBOX_PROBLEM = sandbox_unavailable()
pytestmark = pytest.mark.skipif(bool(SANDBOX_PROBLEM), reason=SANDBOX_PROBLEM or "ok")


def _watched() -> dict[str, Path]:
    import lrcourse

    return {"lrcourse": Path(lrcourse.__file__).parent, "solutions": REPO / "solutions",
            "exercises": REPO / "exercises", "fixture source": SOURCE}


def _site_files() -> dict[str, str]:
    """Top-level files of site-packages (.pth files, sitecustomize.py, ...)."""
    out = {}
    for folder in site.getsitepackages():
        for entry in os.scandir(folder):
            if entry.is_file():
                out[entry.path] = str(entry.stat().st_mtime_ns)
    return out


def _marked_files(mark: str) -> list[str]:
    """Files named with the attackers' marker in the places an attacker would aim at."""
    places = ["/tmp", os.path.expanduser("~"), os.path.expanduser("~/.ipython"), "/dev/shm",
              "/var/tmp", *site.getsitepackages()]
    found = []
    for place in places:
        for dirpath, dirnames, filenames in os.walk(place):
            if dirpath.count(os.sep) - place.count(os.sep) > 3:
                dirnames[:] = []
            found += [os.path.join(dirpath, n) for n in filenames + dirnames if mark in n]
    return found


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    subs = root / "submissions"
    out = root / "marks"
    alice = write(subs / "alice" / "schedules.ipynb", notebook(CORRECT))
    bob = write(subs / "bob.ipynb", notebook({**CORRECT, "step_answer": WRONG_STEP}))
    carol = write(subs / "carol.ipynb", notebook(EMPTY))
    honest = [alice.parent, bob, carol]
    mark = f"LRCOURSE-ATTACK-{secrets.token_hex(4)}"
    attacks = craft(subs / "attackers", {"mark": mark, "alice": alice,
                                         "alice_folder": alice.parent, "bob": bob, "out": out})
    watched = _watched()
    compileall.compile_dir(str(watched["lrcourse"]), quiet=1)  # the grader's own .pyc files
    before = {name: digest(path) for name, path in watched.items()}
    before_subs = digest(subs)
    before_site = _site_files()
    env_secret = f"leak-me-{secrets.token_hex(8)}"
    os.environ["LRCOURSE_TEST_SECRET"] = env_secret
    keep: list = []
    try:
        status, stdout, stderr = run_grade(
            [*map(str, honest), *(str(a.path) for a in attacks.values()), "--out", str(out),
             "--source", str(SOURCE), "--timeout", str(TIMEOUT), "--jobs", "2"], keep)
        left = processes_with(mark) + (describe_processes(*keep[0].uids) if keep else [])
        alone = root / "honest-alone"
        status_alone, _, _ = run_grade(
            [*map(str, honest), "--out", str(alone), "--source", str(SOURCE),
             "--secret-file", str(out / ".grading-secret"), "--timeout", str(TIMEOUT),
             "--jobs", "2"])
    finally:
        del os.environ["LRCOURSE_TEST_SECRET"]
    time.sleep(4)  # what a delayed process would need to act after the run (none survives)
    state = json.loads((out / "results.json").read_text())
    results = {d["learner"]: {r["grade_id"]: r for r in d["results"]} for d in state["learners"]}
    return dict(root=root, out=out, alone=alone, attacks=attacks, status=status,
                status_alone=status_alone, stdout=stdout, stderr=stderr, results=results,
                learners={d["learner"]: d for d in state["learners"]}, mark=mark, left=left,
                before=before, after={name: digest(path) for name, path in watched.items()},
                before_subs=before_subs, after_subs=digest(subs), before_site=before_site,
                after_site=_site_files(), env_secret=env_secret, run=keep[0], subs=subs)


def test_the_class_is_hostile_enough(hostile):
    kinds = {a.kind for a in hostile["attacks"].values()}
    assert len(hostile["attacks"]) >= 40
    assert kinds >= {"patch", "peek", "transform", "forge", "read", "symlink", "detach", "kill",
                     "fork-bomb", "plant", "fill", "bomb", "inject", "leak", "library", "edit"}
    assert hostile["status"] == 0 and hostile["status_alone"] == 0, hostile["stderr"][-2000:]


def test_every_attacker_gets_exactly_what_it_deserves(hostile):
    wrong = undeserved(hostile["attacks"], hostile["results"], TESTS)
    assert not wrong, "\n".join(wrong)


def test_no_wrong_answer_scores_unless_flagged(hostile):
    # an attacker handing in the wrong step_lr can score on it only through a call to the
    # library being taught, and then it is flagged (and scored 0 with --library-calls zero)
    for name, attack in hostile["attacks"].items():
        if attack.path.is_file() and not attack.path.is_symlink() and \
                attack.path.suffix == ".ipynb" and \
                "((epoch + 1) // step_size)" in attack.path.read_text(errors="replace"):
            got = hostile["results"][name]["step_test"]
            assert got["points"] == 0 or got["flags"], name


def test_honest_learners_keep_their_results(hostile):
    alice, bob, carol = (hostile["results"][n] for n in ("alice", "bob", "carol"))
    assert {t: (r["status"], r["message"]) for t, r in alice.items()} == {
        t: ("passed", PASSED[t]) for t in TESTS}
    assert bob["step_test"]["message"] == notebook_message(WRONG_STEP)
    assert "first difference at epoch 2: expected 0.1, got 0.05" in bob["step_test"]["message"]
    assert bob["step_test"]["images"] == 1
    assert [bob[t]["status"] for t in TESTS] == ["failed", "passed", "passed", "passed"]
    assert {r["message"].split(":")[0] for r in carol.values()} == {
        "step_lr is not implemented yet", "exponential_lr is not implemented yet",
        "cosine_annealing_lr is not implemented yet"}
    # and exactly what they get when graded without the attackers (same secret)
    for name in ("alice", "bob", "carol"):
        assert (hostile["out"] / "feedback" / f"{name}.html").read_bytes() == \
            (hostile["alone"] / "feedback" / f"{name}.html").read_bytes()
    rows = {r["learner"]: r for r in csv.DictReader(io.StringIO(
        (hostile["out"] / "scores.csv").read_text()))}
    alone = {r["learner"]: r for r in csv.DictReader(io.StringIO(
        (hostile["alone"] / "scores.csv").read_text()))}
    assert {n: rows[n] for n in alone} == alone


def test_no_file_outside_the_output_folder_changed(hostile):
    assert hostile["after"] == hostile["before"]
    assert hostile["after_subs"] == hostile["before_subs"]
    assert hostile["after_site"] == hostile["before_site"]
    assert _marked_files(hostile["mark"]) == []
    # inside the output folder, only what the grader writes
    written = sorted(str(p.relative_to(hostile["out"])) for p in hostile["out"].rglob("*")
                     if p.is_file() and p.parent == hostile["out"])
    assert written == [".grading-secret", ".grading-state.json", "results.json", "scores.csv"]
    assert "vandalised" not in (hostile["out"] / "scores.csv").read_text()


def test_no_process_of_the_run_outlives_it(hostile):
    assert hostile["left"] == []
    assert processes_with(hostile["mark"]) == []
    if hostile["run"].uids[1] >= hostile["run"].uids[0]:
        assert processes_of_uids(*hostile["run"].uids) == []


def test_each_sandbox_ran_as_its_own_user(hostile):
    if os.geteuid() != 0:
        pytest.skip("only root can give each sandbox its own uid")
    first, last = hostile["run"].uids
    # one uid per notebook graded, plus the calibration's: never the grader's
    assert last - first + 1 >= len(hostile["learners"]) and first > 65535


def _outputs(hostile) -> dict[str, str]:
    files = {}
    for path in hostile["out"].rglob("*"):
        if path.is_file() and path.name != ".grading-secret":
            files[str(path)] = path.read_text(encoding="utf-8", errors="replace")
    return files


def test_nothing_leaks_into_what_people_read(hostile):
    secret = (hostile["out"] / ".grading-secret").read_text().strip()
    from lrcourse.grading.grader import compute_expected
    from lrcourse.grading.source import find_sources

    expected = compute_expected(find_sources(SOURCE), secret.encode())
    hidden_calls = []
    from lrcourse.checks._core import format_call

    for calls in expected.values():
        for e in calls.values():
            for case in e.hidden_cases:
                if "params" in case:
                    hidden_calls.append(format_call("x", "epoch", case["params"])[1:])
    assert len(hidden_calls) == 48
    outputs = _outputs(hostile)
    outputs["stdout"] = hostile["stdout"]
    for where, text in outputs.items():
        assert hostile["env_secret"] not in text, where
        assert secret not in text, where
        assert "hidden=True" not in text and "seed=11" not in text, where
        assert "LEAKED-INPUT" not in text, where   # leak_hidden_inputs: its exception text
        for call in hidden_calls:
            assert call not in text, (where, call)
    # the exercise that printed what the previous one saw only ever saw public inputs
    later = hostile["results"]["leak_hidden_later"]["cosine_test"]["message"]
    seen = later.split("exp saw: ", 1)[1].split("\n")[0]
    assert "base_lr" not in seen and seen.count("(") >= 10
    for base_lr, gamma in ((0.1, 0.9), (1.0, 0.5)):
        assert f"{base_lr!r}, {gamma!r})" in seen


def test_feedback_escapes_learner_text(hostile):
    feedback = hostile["out"] / "feedback"
    for page in feedback.iterdir():
        text = page.read_text()
        assert "<script" not in text and "onerror=" not in text.replace("onerror=alert", "")
        assert text.count('<p class="total">') == 1, page.name
        assert "Content-Security-Policy" in text
    html = (feedback / "inject_html.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in html
    assert "<style>body{display:none}" not in html
    forged = (feedback / "inject_forged_total.html").read_text()
    assert "&lt;p class=&#34;total&#34;&gt;8 / 8 points&lt;/p&gt;" in forged
    eve = next(p for p in feedback.iterdir() if p.name.startswith("b_eve"))
    assert "<title>Feedback: &lt;b&gt;eve&lt;i&gt;</title>" in eve.read_text()
    assert all(p.suffix == ".html" and p.parent == feedback for p in feedback.iterdir())


def test_scores_csv_keeps_formulas_as_text(hostile):
    rows = list(csv.reader(io.StringIO((hostile["out"] / "scores.csv").read_text())))
    names = [row[0] for row in rows[1:]]
    assert "'=HYPERLINK(\"evil.invalid\",\"click\")" in names
    assert {"'+SUM(1,2)", "'-2+3", "'@cmd"} <= set(names)
    assert not any(cell[:1] in "=+-@\t\r" for row in rows for cell in row if cell)


def test_terminal_output_has_no_escape_sequences(hostile):
    assert "\x1b" not in hostile["stdout"]
    assert "?[31mred?[0m" in hostile["stdout"]


def test_library_calls_score_zero_when_asked(hostile, tmp_path):
    attacks = hostile["attacks"]
    status, _, _ = run_grade([str(hostile["subs"] / "alice"), str(attacks["library_lrcourse"].path),
                              str(attacks["library_hidden_import"].path),
                              "--out", str(tmp_path), "--source", str(SOURCE),
                              "--library-calls", "zero", "--timeout", str(TIMEOUT)])
    assert status == 0
    state = json.loads((tmp_path / "results.json").read_text())
    got = {d["learner"]: {r["grade_id"]: r for r in d["results"]} for d in state["learners"]}
    assert {t: r["points"] for t, r in got["alice"].items()} == EIGHT
    for name in ("library_lrcourse", "library_hidden_import"):
        step = got[name]["step_test"]
        assert (step["points"], step["status"]) == (0, "flagged")
        assert step["message"].startswith("scored 0 (graded with --library-calls zero): answer "
                                          "cell 'step_answer' uses ")
        assert got[name]["cosine_test"]["points"] == 3
    rows = list(csv.DictReader(io.StringIO((tmp_path / "scores.csv").read_text())))
    assert {r["learner"]: r["flagged"] for r in rows} == {
        "alice": "", "library_hidden_import": "step_test", "library_lrcourse": "step_test"}
