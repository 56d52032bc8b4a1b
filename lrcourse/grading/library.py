"""Answers that call the library being taught, and code that could hide such calls.

An exercise that asks for StepLR's formula can be "solved" by calling
``torch.optim.lr_scheduler.StepLR`` or ``lrcourse.schedules``.  Each answer cell of a source
notebook says what it may not use (``metadata.lrcourse.may_not_use``: dotted names of modules,
classes or functions).  Two kinds of evidence are gathered, and both are reported as
"flagged for review" (or, with ``--library-calls zero``, cost the exercise its points):

* **statically**, here, in the grader: the answer cells (after IPython's own transformation,
  so magics and ``!commands`` are seen as the calls they become) are parsed and every name
  they refer to is resolved through their imports and simple assignments.  A reference to a
  forbidden name is flagged; so is every way of reaching code without naming it (``exec``,
  ``eval``, ``__import__``, ``importlib``, ``getattr`` with a computed name, ``ctypes``,
  frame and ``gc`` inspection, ``sys.modules``, profiler and audit hooks, processes, IPython's
  shell) and any reference to the grader's or the checks' modules.  The answer cells are all
  the code a learner contributes, so this check sees everything they wrote;
* **at run time**, in the sandbox: the runner's audit hook and profile function report calls
  into forbidden code made while the checks ran, and the events above (see
  :mod:`lrcourse.grading.runner`).  That evidence comes from the learner's own process and can
  be suppressed, but only by code the static check flags.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

EVASION_NAMES = {
    "exec": "exec() (runs code from a string)",
    "eval": "eval() (runs code from a string)",
    "compile": "compile() (makes code from a string)",
    "__import__": "__import__() (imports a module by a computed name)",
    "globals": "globals()", "locals": "locals()", "vars": "vars()",
    "breakpoint": "breakpoint()",
    "get_ipython": "IPython's shell (get_ipython, magics, !commands)",
    "__builtins__": "__builtins__",
}
# dotted names: the name itself or anything under it
EVASION_MODULES = {
    "ctypes", "_ctypes", "cffi", "gc", "inspect", "importlib", "builtins", "marshal", "pickle",
    "dill", "cloudpickle", "code", "codeop", "runpy", "subprocess", "multiprocessing",
    "threading", "_thread", "concurrent", "signal", "socket", "pty", "resource", "IPython",
    "sys.modules", "sys._getframe", "sys._current_frames", "sys.setprofile", "sys.settrace",
    "sys.addaudithook", "sys.audit", "sys.meta_path", "sys.path_hooks",
    "os.system", "os.popen", "os.fork", "os.forkpty", "os.kill", "os.killpg", "os.environ",
    "types.FunctionType", "types.CodeType", "types.ModuleType", "types.LambdaType",
    "lrcourse.grading", "lrcourse.checks",
}
EVASION_PREFIXES = ("os.exec", "os.spawn", "os.posix_spawn")
EVASION_ATTRIBUTES = {
    "__globals__", "__code__", "__closure__", "__builtins__", "__subclasses__", "__import__",
    "__loader__", "__spec__", "f_back", "f_globals", "f_locals", "f_builtins", "f_code",
    "f_trace", "gi_frame", "cr_frame", "ag_frame", "tb_frame", "tb_next", "co_code",
    "_getframe", "setprofile", "settrace", "addaudithook",
}
ALLOWED_MAGICS = {"time", "timeit", "matplotlib", "precision", "who", "whos", "pprint"}

# what the runner's audit events mean, for the feedback
EVENT_WORDS = {
    "sys.setprofile": "changed the profiler the grader watches calls with (sys.setprofile)",
    "sys.settrace": "installed a tracer (sys.settrace)",
    "sys._getframe": "inspected the call stack (sys._getframe)",
    "sys._current_frames": "inspected other threads' stacks",
    "gc.": "walked the garbage collector's objects",
    "object.__setattr__": "replaced a function's code or globals",
    "code.__new__": "built a code object",
    "exec": "ran code from a string (exec/eval)",
    "compile": "compiled code from a string",
    "ctypes.": "used ctypes",
    "os.system": "started a process", "os.fork": "started a process",
    "os.forkpty": "started a process", "os.exec": "started a program",
    "os.posix_spawn": "started a process", "os.spawn": "started a process",
    "subprocess.Popen": "started a process", "os.kill": "sent a signal",
    "os.killpg": "sent a signal", "signal.pthread_kill": "sent a signal",
    "socket.": "opened a network socket",
}


@dataclass(frozen=True)
class Finding:
    """One reason to review an answer, tied to its exercise."""

    grade_id: str          # the answer cell
    group: int | None      # its exercise
    kind: str              # "library" (a forbidden name) or "evasion" (code that can hide one)
    message: str


def _matches(full: str, entries) -> str | None:
    for entry in entries:
        if full == entry or full.startswith(entry + "."):
            return entry
    return None


def _transform(text: str) -> str:
    """The cell as IPython runs it (``%magic`` and ``!cmd`` become ``get_ipython()`` calls)."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        return TransformerManager().transform_cell(text)
    except Exception:  # noqa: BLE001 - a cell IPython cannot transform does not run either
        return text


class _Scan(ast.NodeVisitor):
    """Resolve names through imports and assignments; report forbidden and evasive ones."""

    def __init__(self, aliases: dict[str, str], forbid: list[str], report: bool):
        self.aliases = aliases
        self.forbid = forbid
        self.report = report
        self.found: list[tuple[str, str]] = []
        self.allowed_nodes: set[int] = set()
        self.entries: set[str] = set()

    # -------------------------------------------------------------------------- helpers

    def _flag(self, kind: str, message: str) -> None:
        if self.report and (kind, message) not in self.found and len(self.found) < 12:
            self.found.append((kind, message))

    def _dotted(self, node: ast.AST) -> str | None:
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name):
            base = self.aliases.get(node.id, node.id)
            return ".".join([base, *reversed(parts)])
        return None

    def _check_name(self, full: str) -> None:
        entry = _matches(full, self.forbid)
        if entry:
            if entry in self.entries:
                return
            self.entries.add(entry)
            self._flag("library", f"uses {full}, which this exercise asks you not to use: the "
                                  "answer must compute the learning rates itself")
            return
        if _matches(full, EVASION_MODULES) or full.startswith(EVASION_PREFIXES):
            self._flag("evasion", f"uses {full}, which an answer here does not need and which "
                                  "can hide what the code calls")

    # --------------------------------------------------------------------------- visitors

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._check_name(alias.name)
            if alias.asname:
                self.aliases[alias.asname] = alias.name
            else:
                top = alias.name.split(".")[0]
                self.aliases[top] = top

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        for alias in node.names:
            full = f"{module}.{alias.name}" if module else alias.name
            if alias.name == "*":
                self._check_name(module)
                continue
            self._check_name(full)
            self.aliases[alias.asname or alias.name] = full

    def visit_Assign(self, node: ast.Assign) -> None:
        self.generic_visit(node)
        full = self._dotted(node.value)
        if full:
            for target in node.targets:
                if isinstance(target, ast.Name):
                    self.aliases[target.id] = full

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        # get_ipython().run_line_magic("timeit", ...) is allowed for a few harmless magics
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call) and \
                isinstance(func.value.func, ast.Name) and func.value.func.id == "get_ipython" \
                and func.attr in ("run_line_magic", "run_cell_magic") and node.args and \
                isinstance(node.args[0], ast.Constant) and node.args[0].value in ALLOWED_MAGICS:
            self.allowed_nodes.add(id(func.value.func))
        if isinstance(func, ast.Name) and func.id in ("getattr", "setattr", "delattr",
                                                      "hasattr") and len(node.args) >= 2:
            name = node.args[1]
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                base = self._dotted(node.args[0])
                if base:
                    self._check_name(f"{base}.{name.value}")
                if name.value in EVASION_ATTRIBUTES:
                    self._flag("evasion", f"uses the attribute {name.value}, which an answer "
                                          "here does not need and which can hide what the code "
                                          "calls")
            else:
                self._flag("evasion", f"uses {func.id}() with a computed attribute name, which "
                                      "can hide what the code calls")
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr in EVASION_ATTRIBUTES or (node.attr.startswith("__") and
                                               node.attr in EVASION_NAMES):
            self._flag("evasion", f"uses the attribute {node.attr}, which an answer here does "
                                  "not need and which can hide what the code calls")
        full = self._dotted(node)
        if full is not None:
            self._check_name(full)
            # the chain is resolved as a whole: do not report its prefixes again
            inner = node.value
            while isinstance(inner, ast.Attribute):
                inner = inner.value
            if isinstance(inner, ast.Name) and inner.id in EVASION_NAMES and \
                    id(inner) not in self.allowed_nodes:
                self._flag("evasion", f"uses {EVASION_NAMES[inner.id]}, which can hide what "
                                      "the code calls")
            return
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            if node.id in EVASION_NAMES and node.id not in self.aliases and \
                    id(node) not in self.allowed_nodes:
                self._flag("evasion", f"uses {EVASION_NAMES[node.id]}, which can hide what the "
                                      "code calls")
            elif node.id in self.aliases:
                self._check_name(self.aliases[node.id])


def static_findings(cells: list[tuple[str, str, str | None, int | None, list[str]]]
                    ) -> list[Finding]:
    """Findings for the answer cells among ``cells``.

    ``cells`` are ``(kind, source, grade_id, group, may_not_use)`` in notebook order: set-up
    cells only define names (their imports are the instructor's), answer cells are checked
    against their own ``may_not_use`` list and the evasion rules.
    """
    aliases: dict[str, str] = {}
    findings: list[Finding] = []
    for kind, text, grade_id, group, forbid in cells:
        try:
            tree = ast.parse(_transform(text))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue  # it will not run either; the sandbox says so
        scan = _Scan(aliases, forbid, report=(kind == "answer"))
        try:
            scan.visit(tree)
        except RecursionError:
            findings.append(Finding(grade_id or "", group, "evasion",
                                    "is nested too deeply to be checked"))
            continue
        findings += [Finding(grade_id or "", group, k, m) for k, m in scan.found]
    return findings


def runtime_findings(grade_id: str, group: int | None, calls: list, events: list,
                     forbid: list[str]) -> list[Finding]:
    """Findings from what the runner reported while probes or cells ran."""
    found = []
    for call in calls[:10]:
        if isinstance(call, str) and _matches(call, forbid) or isinstance(call, str) and any(
                call.startswith(f + ".") or call == f for f in forbid):
            found.append(Finding(grade_id, group, "library",
                                 f"called {call[:120]} while the check ran: this exercise asks "
                                 "you not to use it"))
    for event in events[:10]:
        if not isinstance(event, str):
            continue
        words = next((w for prefix, w in EVENT_WORDS.items() if event.startswith(prefix)), None)
        if words:
            found.append(Finding(grade_id, group, "evasion", f"{words}, which an answer here "
                                                             "does not need"))
    return found
