"""Reading a submitted file as a notebook, without trusting it.

A submission is read only if it is a regular file with a single name: a symbolic link (to
the solution, to a classmate's file), a hard link (an extracted archive can make one to any
file of the same file system), a FIFO (which would block the grader), a device or a socket
is refused with a reason and never followed or opened for reading (``lstat``, then ``open``
with ``O_NOFOLLOW | O_NONBLOCK`` and ``fstat`` on the open file, so a file swapped for a link
in between is refused too).  Before any JSON is parsed, its size and the number of JSON
containers and items are counted in the raw bytes, so a small file cannot expand into
gigabytes of Python objects; and parsing happens in a grading worker, a process with its
own memory limit, so even what passes the counts cannot exhaust the grader.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import warnings
from pathlib import Path

MAX_NOTEBOOK_BYTES = 20 * 2**20
"""Submitted files larger than this are not read (a notebook with outputs is a few MB)."""
MAX_CONTAINERS = 200_000
"""JSON objects + arrays a notebook may hold (each cell is a few)."""
MAX_ITEMS = 2_000_000
"""Commas a notebook may hold (one per list item or key: lines of text, numbers)."""


class NotebookError(Exception):
    """A file that cannot be used as a notebook; the message is the learner-facing reason."""


def _kind(mode: int) -> str | None:
    """What a non-regular file is, in words (None for a regular file)."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device file"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def refused(name: str, mode: int) -> str | None:
    """Why an entry of this ``lstat`` mode is not read, or None if it may be."""
    kind = _kind(mode)
    if kind is None:
        return None
    if kind == "a symbolic link":
        return (f"{name} is a symbolic link; links are not graded (hand in the notebook file "
                "itself)")
    return f"{name} is {kind}, not a notebook file; it was not read"


def read_submission(path: Path) -> dict:
    """Read ``path`` as a version-4 notebook dictionary, or raise :class:`NotebookError`."""
    path = Path(path)
    if path.suffix.lower() != ".ipynb":
        kind = f"a {path.suffix} file" if path.suffix else "a file without extension"
        raise NotebookError(f"{path.name} is not a Jupyter notebook ({kind}, expected .ipynb)")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotebookError(refused(path.name, stat.S_IFLNK)) from None
        raise NotebookError(f"{path.name} could not be read ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        why = refused(path.name, info.st_mode)
        if why:
            raise NotebookError(why)
        if info.st_nlink > 1:
            # another name of the same file: an archive extracted with hard links can make a
            # "submission" that is the solution notebook itself
            raise NotebookError(f"{path.name} is a hard link ({info.st_nlink} names for one "
                                "file); links are not graded (hand in a copy of the notebook)")
        if info.st_size > MAX_NOTEBOOK_BYTES:
            raise NotebookError(f"{path.name} is {info.st_size / 2**20:.0f} MB, more than the "
                                f"{MAX_NOTEBOOK_BYTES // 2**20} MB a notebook may have; it was "
                                "not read")
        chunks, total = [], 0
        while total <= MAX_NOTEBOOK_BYTES:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        raw = b"".join(chunks)
    except OSError as exc:
        raise NotebookError(f"{path.name} could not be read ({exc.strerror})") from None
    finally:
        os.close(fd)
    if len(raw) > MAX_NOTEBOOK_BYTES:
        raise NotebookError(f"{path.name} grew beyond {MAX_NOTEBOOK_BYTES // 2**20} MB while "
                            "it was read; it was not used")
    return parse_notebook(raw, path.name)


def parse_notebook(raw: bytes, name: str) -> dict:
    """Parse the bytes of a notebook file, after counting what they would expand to."""
    containers = raw.count(b"{") + raw.count(b"[")
    if containers > MAX_CONTAINERS:
        raise NotebookError(f"{name} holds {containers:,} JSON objects and arrays, far more than "
                            f"a notebook (at most {MAX_CONTAINERS:,}); it was not read")
    items = raw.count(b",")
    if items > MAX_ITEMS:
        raise NotebookError(f"{name} holds {items:,} JSON items, far more than a notebook (at "
                            f"most {MAX_ITEMS:,}); it was not read")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise NotebookError(f"{name} is not a text file, so not a notebook") from None
    if not text.strip():
        raise NotebookError(f"{name} is empty")
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        where = (f" (line {exc.lineno}, column {exc.colno}: {exc.msg})"
                 if isinstance(exc, json.JSONDecodeError) else " (nested too deeply)")
        raise NotebookError(f"{name} is damaged: not valid notebook JSON{where}") from None
    except MemoryError:
        raise NotebookError(f"{name} expands to more memory than a notebook may take; it was "
                            "not read") from None
    if not isinstance(data, dict):
        raise NotebookError(f"{name} is JSON but not a notebook (no 'cells')")
    if data.get("nbformat") == 3 and "worksheets" in data:
        data = _upgrade_v3(data, name)
    if not isinstance(data.get("cells"), list):
        raise NotebookError(f"{name} is JSON but not a notebook (no 'cells' list)")
    return data


def _upgrade_v3(data: dict, name: str) -> dict:
    """Convert an old version-3 notebook with nbformat; :class:`NotebookError` if it fails."""
    import nbformat

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            upgraded = nbformat.convert(nbformat.from_dict(data), 4)
            return json.loads(nbformat.writes(upgraded))
    except Exception as exc:  # noqa: BLE001 - any failure means "cannot be used"
        raise NotebookError(f"{name} is an old notebook that could not be converted "
                            f"({type(exc).__name__})") from None
