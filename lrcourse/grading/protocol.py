"""The grader <-> sandbox protocol: length-prefixed JSON frames, each reply echoing a nonce.

A frame is a 4-byte big-endian length followed by that many bytes of UTF-8 JSON (no NaN or
infinities).  The grader sends ``{"op": ..., "nonce": ..., ...}``; the runner in the sandbox
answers each request with one frame that *begins* with the same nonce,
``{"nonce":"<hex>",...}`` (see :func:`reply_prefix`).  The grader drops, without parsing them,
frames that do not begin with the nonce of the request it is waiting for (so a flood of large
forged frames costs it a comparison each, not a JSON parse), refuses frames larger than its
limit, and treats every reply as data to validate, never as code or as a verdict: learner code
shares the runner's process and can write anything to these pipes.

This module is imported inside the sandbox: it needs nothing beyond the standard library.
"""

from __future__ import annotations

import json
import struct

HEADER = struct.Struct(">I")
MAX_REPLY = 2 * 2**20
"""Largest reply frame the grader reads (a probe of 12 cases of 100 rates is ~30 kB)."""
MAX_REQUEST = 64 * 2**20
"""Largest request frame the runner reads (requests carry cell sources, capped far lower)."""


class ProtocolError(Exception):
    """A frame that breaks the protocol: too large, not JSON, not an object."""


def _reject_constant(name: str):
    raise ValueError(f"{name} is not allowed")


def encode(message: dict) -> bytes:
    """One frame holding ``message``."""
    data = json.dumps(message, allow_nan=False, separators=(",", ":")).encode("utf-8")
    return HEADER.pack(len(data)) + data


def reply_prefix(nonce: str) -> bytes:
    """The bytes every reply to the request with ``nonce`` begins with."""
    return b'{"nonce":' + json.dumps(nonce).encode("ascii")


def decode(data: bytes) -> dict:
    """The object in a frame's payload; :class:`ProtocolError` if it is not a JSON object."""
    try:
        message = json.loads(data.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"not a JSON frame ({type(exc).__name__})") from None
    if not isinstance(message, dict):
        raise ProtocolError("a frame must hold a JSON object")
    return message


class FrameBuffer:
    """Bytes read so far from a stream, cut into frames as they complete."""

    def __init__(self, limit: int):
        self.limit = limit
        self.data = bytearray()

    def feed(self, chunk: bytes) -> None:
        self.data += chunk

    def next_payload(self) -> bytes | None:
        """The payload of the next complete frame, ``None`` if more bytes are needed;
        ProtocolError if the frame announces more than ``limit`` bytes."""
        if len(self.data) < HEADER.size:
            return None
        (size,) = HEADER.unpack_from(self.data)
        if size > self.limit:
            raise ProtocolError(f"a frame of {size} bytes is larger than {self.limit}")
        if len(self.data) < HEADER.size + size:
            return None
        payload = bytes(self.data[HEADER.size:HEADER.size + size])
        del self.data[:HEADER.size + size]
        return payload

    def next_frame(self) -> dict | None:
        """The next complete frame, decoded (see :meth:`next_payload`); ProtocolError if it
        is not JSON."""
        payload = self.next_payload()
        return None if payload is None else decode(payload)
