"""The grading secret: where hidden cases come from.

A test cell's ``check_x(f, hidden=True, seed=N)`` is in every copy of ``solutions/`` and
could leak, so ``N`` alone must not decide the hidden inputs.  The grader mixes it with a
secret the instructor keeps out of every notebook and every feedback page, and with the test
cell's ``grade_id`` and the check's name (so that two calls never draw the same cases)::

    seed = first 8 bytes of SHA-256(secret \\0 grade_id \\0 check \\0 N), big-endian

The same secret gives the same hidden cases, hence the same scores, on every re-run.  By
default the secret is ``<out>/.grading-secret``, created on first use (32 random bytes, hex,
mode 0600) and reused when the same output folder is graded again; ``--secret-file`` points
elsewhere (e.g. one secret for a whole course, kept outside the output folder).
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

SECRET_NAME = ".grading-secret"


class SecretError(ValueError):
    """A secret file that cannot be used."""


def load_secret(out: Path, secret_file: Path | None) -> tuple[bytes, str]:
    """``(secret, a sentence for the terminal)``; creates ``out/.grading-secret`` if needed."""
    if secret_file is not None:
        path = Path(secret_file)
        try:
            secret = path.read_bytes().strip()
        except OSError as exc:
            raise SecretError(f"cannot read the secret file {path} ({exc.strerror})") from None
        if len(secret) < 16:
            raise SecretError(f"the secret file {path} holds fewer than 16 bytes")
        return secret, f"hidden cases drawn with the secret in {path}"
    path = Path(out) / SECRET_NAME
    if path.exists():
        secret = path.read_bytes().strip()
        if len(secret) < 16:
            raise SecretError(f"{path} holds fewer than 16 bytes; delete it to make a new one")
        return secret, f"hidden cases drawn with the secret in {path} (kept from a previous run)"
    Path(out).mkdir(parents=True, exist_ok=True)
    secret = secrets.token_hex(32).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(secret + b"\n")
    return secret, (f"hidden cases drawn with a new secret, saved in {path}: keep it (the same "
                    "secret gives the same hidden cases when you re-grade) and never publish it")


def hidden_seed(secret: bytes, grade_id: str, check: str, seed: int) -> int:
    """The seed of one hidden call's cases (see the module doc)."""
    digest = hashlib.sha256(b"\0".join([secret, grade_id.encode(), check.encode(),
                                        str(int(seed)).encode()])).digest()
    return int.from_bytes(digest[:8], "big")
