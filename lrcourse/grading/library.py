"""Answers that call the library being taught, and code that could hide such calls.

An exercise that asks for StepLR's formula can be "solved" by calling
``torch.optim.lr_scheduler.StepLR`` or ``lrcourse.schedules``.  Each answer cell of a source
notebook says what it may not use (``metadata.lrcourse.may_not_use``: dotted names of modules,
classes or functions).  Two kinds of evidence are gathered, and both are reported as
"flagged for review" (or, with ``--library-calls zero``, cost the exercise its points):

* **statically**, here, in the grader: the answer cells (after IPython's own transformation,
  so magics and ``!commands`` are seen as the calls they become, and the code that ``%time``
  and ``%timeit`` run is read as well) are parsed and every name they refer to is resolved
  through their imports and simple assignments.  A reference to a forbidden name is flagged;
  so is every way of reaching code without naming it that we know of: ``exec``, ``eval``,
  ``__import__``, ``importlib`` and the other ways of importing by a string (``pkgutil``,
  ``pydoc``), ``getattr`` with a computed name or passed around as a value, ``operator``'s
  ``attrgetter``, ctypes, frame and ``gc`` inspection, ``sys.modules`` and ``sys.path``
  (under any alias, e.g. ``os.sys``), ``__main__`` (the grader's runner), the interpreter's
  dunder attributes (``__dict__``, ``__getattribute__``, ``__subclasses__``, ...), private
  attributes of modules, evaluators of annotations, unpickling, profiler and audit hooks,
  processes, IPython's shell, and any reference to the grader's or the checks' modules.  And
  an answer may import only what the source notebook imports and the usual numerical
  modules (:data:`SAFE_IMPORTS`): any other import is flagged, which closes the open-ended
  list of library modules that can run code named by a string.  This is a strong check, not
  a proof: Python's reflection is vast, and a flag's absence means that none of these rules
  fired, not that no library code ran;
* **at run time**, in the sandbox: the runner's audit hook and profile function report calls
  into forbidden code made while the checks ran, and the events above (see
  :mod:`lrcourse.grading.runner`).  That evidence comes from the learner's own process: code
  that reaches the runner's objects can erase it, and every way of reaching them we know of
  is flagged statically.  Events from the hidden cases are reported as one fixed sentence
  (:data:`lrcourse.grading.session.HIDDEN_FINDING`), never by name: which events fired is the
  learner's choice and could spell out the hidden inputs.
"""

from __future__ import annotations

import ast
import re
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
EVASION_MODULES |= {
    "__main__", "sys.path", "sys.path_importer_cache", "pkgutil", "pydoc", "zipimport", "imp",
    "site", "operator.attrgetter", "operator.methodcaller", "typing.get_type_hints",
    "typing.ForwardRef", "typing._eval_type", "functools.singledispatch",
    "functools.singledispatchmethod", "shelve", "timeit", "doctest", "pdb", "bdb", "cProfile",
    "profile", "trace", "numpy.ctypeslib", "torch.utils.cpp_extension", "torch.hub",
    "torch.package", "torch.jit", "torch.fx", "torch.ops.load_library",
}
EVASION_PREFIXES = ("os.exec", "os.spawn", "os.posix_spawn")
SAFE_IMPORTS = {
    "__future__", "math", "cmath", "numbers", "decimal", "fractions", "statistics", "random",
    "bisect", "heapq", "itertools", "functools", "collections", "collections.abc",
    "dataclasses", "typing", "enum", "abc", "copy", "warnings", "time", "re", "json", "pprint",
    "numpy", "matplotlib", "matplotlib.pyplot",
}
"""Modules any answer may import, on top of those the source notebook imports itself."""
SAFE_DUNDERS = {
    "__init__", "__name__", "__qualname__", "__doc__", "__class__", "__call__", "__len__",
    "__iter__", "__next__", "__getitem__", "__setitem__", "__contains__", "__repr__", "__str__",
    "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__hash__", "__add__",
    "__sub__", "__mul__", "__truediv__", "__floordiv__", "__mod__", "__pow__", "__neg__",
    "__abs__", "__float__", "__int__", "__bool__", "__enter__", "__exit__", "__post_init__",
    "__version__", "__all__", "__slots__",
}
"""Dunder attributes an answer may use; any other (``__dict__``, ``__getattribute__``,
``__subclasses__``, ``__globals__``, ``__self__``, ``__traceback__``, ``__wrapped__`` ...)
reaches the interpreter's internals and is flagged."""
SAFE_DUNDER_NAMES = {"__name__", "__doc__", "__class__", "__debug__", "__file__"}
EVASION_ATTRIBUTE_MODULES = {
    "sys", "os", "ctypes", "ctypeslib", "gc", "builtins", "importlib", "inspect", "meta_path",
    "path_hooks", "path_importer_cache", "f2py", "distutils", "cpp_extension", "hub",
    "load_library", "fx", "jit", "package",
}
"""Attribute names that lead to those modules from anywhere (``os.sys``, ``numpy.ctypeslib``,
``torch.utils.cpp_extension``...), flagged whatever the object they are read from."""
GETATTR_FAMILY = ("getattr", "setattr", "delattr", "hasattr")
UNPICKLING = {"allow_pickle": True, "weights_only": False}
"""Keyword arguments that let numpy or torch unpickle a file (which can run any code)."""
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


MAX_IPYTHON_LINES = 50
"""Lines of IPython syntax (``%magic``, ``!cmd``, ``obj?``) the check transforms in one cell.
IPython's transformer re-reads the whole cell once per such line (8000 magic lines: over a
minute, in the grading worker); a cell with more of them, or with more than
MAX_TRANSFORM_WORK characters x lines, is not transformed, so cannot be parsed, and is flagged
as unchecked.  An honest answer has a few such lines in a few hundred characters."""
MAX_TRANSFORM_WORK = 300_000
_IPYTHON_LINE = re.compile(r"^\s*[%!]|=\s*[%!]|\?\s*$", re.MULTILINE)


def _transform(text: str) -> str:
    """The cell as IPython runs it (``%magic`` and ``!cmd`` become ``get_ipython()`` calls)."""
    lines = len(_IPYTHON_LINE.findall(text))
    if lines > MAX_IPYTHON_LINES or lines * len(text) > MAX_TRANSFORM_WORK:
        return text
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        return TransformerManager().transform_cell(text)
    except Exception:  # noqa: BLE001 - a cell IPython cannot transform does not run either
        return text


class _Scan(ast.NodeVisitor):
    """Resolve names through imports and assignments; report forbidden and evasive ones.

    ``aliases`` (name -> dotted path) and ``modules`` (names bound by imports) are shared by
    the cells of a notebook, in order; ``allowed`` is what an answer may import (None: any).
    """

    def __init__(self, aliases: dict[str, str], forbid: list[str], report: bool,
                 modules: set[str] | None = None, allowed: set[str] | None = None):
        self.aliases = aliases
        self.modules = modules if modules is not None else set()
        self.allowed = allowed
        self.forbid = forbid
        self.report = report
        self.found: list[tuple[str, str]] = []
        self.allowed_nodes: set[int] = set()
        self.called: set[int] = set()
        self.entries: set[str] = set()
        self.depth = 0

    # -------------------------------------------------------------------------- helpers

    def _flag(self, kind: str, message: str) -> None:
        if self.report and (kind, message) not in self.found and len(self.found) < 12:
            self.found.append((kind, message))

    def _evasion(self, what: str) -> None:
        self._flag("evasion", f"uses {what}, which an answer here does not need and which can "
                              "hide what the code calls")

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
            self._evasion(full)

    def _check_attribute(self, name: str, node: ast.AST | None = None) -> None:
        """An attribute read from any object, by name (``x.name``, ``getattr(x, "name")``)."""
        if name.startswith("__") and name.endswith("__"):
            if name not in SAFE_DUNDERS:
                self._evasion(f"the attribute {name}")
        elif name in EVASION_ATTRIBUTES or name in EVASION_ATTRIBUTE_MODULES or (
                name == "modules" and id(node) not in self.called):   # model.modules() is fine
            self._evasion(f"the attribute {name}")

    def _check_import(self, module: str, level: int = 0) -> None:
        if self.allowed is None:
            return
        if level:
            self._flag("evasion", "uses a relative import, which an answer here does not need")
            return
        if module in self.allowed or any(a.startswith(module + ".") for a in self.allowed):
            return
        self._flag("evasion", f"imports {module}, which an answer here does not need (an "
                              "answer may import what the notebook's own cells import and the "
                              "usual numerical modules)")

    def _scan_code(self, text, what: str) -> None:
        """Code given as text to something that runs it (``%time``, ``%timeit``)."""
        if not isinstance(text, str):
            self._flag("evasion", f"runs code through {what} that cannot be checked")
            return
        if self.depth > 5:
            self._flag("evasion", f"nests {what} too deeply to be checked")
            return
        try:
            tree = _parse(_transform(text))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            self._flag("evasion", f"runs code through {what} that cannot be checked")
            return
        self.depth += 1
        try:
            self.visit(tree)
        finally:
            self.depth -= 1

    # --------------------------------------------------------------------------- visitors

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            before = len(self.found)
            self._check_name(alias.name)
            if len(self.found) == before:  # one reason per import is enough
                self._check_import(alias.name)
            if alias.asname:
                self.aliases[alias.asname] = alias.name
                self.modules.add(alias.asname)
            else:
                top = alias.name.split(".")[0]
                self.aliases[top] = top
                self.modules.add(top)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        before = len(self.found)
        for alias in node.names:
            full = f"{module}.{alias.name}" if module else alias.name
            if alias.name == "*":
                self._check_name(module)
                continue
            self._check_name(full)
            self._check_attribute(alias.name)
            self.aliases[alias.asname or alias.name] = full
            self.modules.add(alias.asname or alias.name)
        if len(self.found) == before:  # one reason per import is enough
            self._check_import(module, node.level)

    def visit_Assign(self, node: ast.Assign) -> None:
        self.generic_visit(node)
        full = self._dotted(node.value)
        if full:
            for target in node.targets:
                if isinstance(target, ast.Name):
                    self.aliases[target.id] = full

    def visit_keyword(self, node: ast.keyword) -> None:
        if node.arg in UNPICKLING and isinstance(node.value, ast.Constant) and \
                node.value.value is UNPICKLING[node.arg]:
            self._flag("evasion", f"loads pickled objects ({node.arg}={node.value.value}), "
                                  "which can run any code")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        self.called.add(id(func))
        # get_ipython().run_line_magic("timeit", ...) is allowed for a few harmless magics;
        # the code %time and %timeit run is checked like the rest of the cell
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call) and \
                isinstance(func.value.func, ast.Name) and func.value.func.id == "get_ipython" \
                and func.attr in ("run_line_magic", "run_cell_magic") and node.args and \
                isinstance(node.args[0], ast.Constant) and node.args[0].value in ALLOWED_MAGICS:
            self.allowed_nodes.add(id(func.value.func))
            magic = node.args[0].value
            if magic in CODE_MAGICS:
                texts = [_arg(node, 1)] + ([_arg(node, 2)] if func.attr == "run_cell_magic"
                                           else [])
                for text in texts:
                    self._scan_code(_strip_magic_options(text), f"%{magic}")
            return
        if isinstance(func, ast.Name) and func.id in GETATTR_FAMILY and len(node.args) >= 2:
            name = node.args[1]
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                base = self._dotted(node.args[0])
                if base:
                    self._check_name(f"{base}.{name.value}")
                self._check_attribute(name.value)
                if base and name.value.startswith("_") and not name.value.startswith("__") \
                        and base.split(".")[0] in self.modules:
                    self._evasion(f"the private attribute {name.value} of a module")
            else:
                self._flag("evasion", f"uses {func.id}() with a computed attribute name, which "
                                      "can hide what the code calls")
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self._check_attribute(node.attr, node)
        full = self._dotted(node)
        if full is not None:
            self._check_name(full)
            # the chain is resolved as a whole: do not report its prefixes again
            inner, chain = node.value, [node]
            while isinstance(inner, ast.Attribute):
                chain.append(inner)
                self._check_attribute(inner.attr, inner)
                inner = inner.value
            if isinstance(inner, ast.Name):
                if inner.id in EVASION_NAMES and id(inner) not in self.allowed_nodes:
                    self._flag("evasion", f"uses {EVASION_NAMES[inner.id]}, which can hide "
                                          "what the code calls")
                elif inner.id in GETATTR_FAMILY:
                    self._evasion(f"{inner.id} as a value")
                if inner.id in self.modules:
                    for link in chain:
                        if link.attr.startswith("_") and not link.attr.startswith("__"):
                            self._evasion(f"the private attribute {link.attr} of a module")
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
            elif node.id in GETATTR_FAMILY and id(node) not in self.called:
                self._evasion(f"{node.id} as a value")
            elif node.id.startswith("__") and node.id.endswith("__") and \
                    node.id not in SAFE_DUNDER_NAMES:
                self._evasion(node.id)


CODE_MAGICS = {"time", "timeit"}
"""Allowed magics whose argument (and cell, for ``%%time``) is Python code they run."""


def _arg(node: ast.Call, k: int):
    arg = node.args[k] if len(node.args) > k else None
    return arg.value if isinstance(arg, ast.Constant) else None


def _strip_magic_options(text):
    """``%timeit -n1 -r 3 code`` -> ``code`` (the options of %time/%timeit)."""
    if not isinstance(text, str):
        return text
    return re.sub(r"^\s*((-[nrp]\s*\d+|-[qotc])\s+)*", "", text)


def _parse(text: str) -> ast.Module:
    """Parse a cell as IPython would run it (top-level ``await`` included)."""
    return compile(text, "<cell>", "exec",
                   flags=ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)


def imported_modules(texts: list[str]) -> set[str]:
    """Every module the given cells import (``import a.b`` gives ``a.b``; ``from a.b import
    c`` gives ``a.b`` and, if ``c`` is a module, ``a.b.c``)."""
    found: set[str] = set()
    for text in texts:
        try:
            tree = _parse(_transform(text))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names
                             if alias.name != "*")
    return found


def static_findings(cells: list[tuple[str, str, str | None, int | None, list[str]]],
                    allowed_imports: set[str] | None = None) -> list[Finding]:
    """Findings for the answer cells among ``cells``.

    ``cells`` are ``(kind, source, grade_id, group, may_not_use)`` in notebook order: set-up
    cells only define names (their imports are the instructor's), answer cells are checked
    against their own ``may_not_use`` list and the evasion rules.  ``allowed_imports``: the
    modules an answer may import (see :data:`SAFE_IMPORTS`); None allows any.
    """
    aliases: dict[str, str] = {}
    modules: set[str] = set()
    findings: list[Finding] = []
    for kind, text, grade_id, group, forbid in cells:
        try:
            tree = _parse(_transform(text))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            if kind == "answer":
                findings.append(Finding(grade_id or "", group, "evasion",
                                        "could not be parsed, so it could not be checked"))
            continue
        scan = _Scan(aliases, forbid, report=(kind == "answer"), modules=modules,
                     allowed=allowed_imports if kind == "answer" else None)
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
