"""The lrcourse command: release exercises and grade submissions.

Each subcommand lives in the module that does the work; this file only wires them up.
A subcommand module provides ``configure_parser(parser)`` and ``run(args) -> int``.

    lrcourse release [--check]        generate exercises/ from solutions/
    lrcourse grade SUBMISSIONS... --out DIR [--timeout S] [--jobs N]
    lrcourse check NOTEBOOK...        run an exercise notebook's checks (./course check)
"""

from __future__ import annotations

import argparse
import importlib
import sys

SUBCOMMANDS = {
    "release": ("lrcourse.release", "generate exercises/ from solutions/"),
    "grade": ("lrcourse.grading.cli", "grade a folder of submitted notebooks"),
    "check": ("lrcourse.check_notebook", "run exercise notebooks' checks and say which pass"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lrcourse", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in SUBCOMMANDS.items():
        sp = sub.add_parser(name, help=help_text, description=help_text)
        sp.set_defaults(_module=module)
        importlib.import_module(module).configure_parser(sp)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return int(importlib.import_module(args._module).run(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
