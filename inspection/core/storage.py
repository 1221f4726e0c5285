"""The one content-addressed file store (photos, signatures, PDFs, uploads, pool files).

A file is named by the SHA-256 of its bytes and kept under ``FILE_STORE/<area>/<aa>/<hash>``.
Every path is built here from a checked hash and area, and must resolve inside the store, so
no caller can be tricked into reading or writing elsewhere. Writing is atomic (a temporary
file renamed into place), and reading checks that the bytes still have their hash.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import IO

from flask import current_app

_SHA256 = re.compile(r"[0-9a-f]{64}\Z")
_AREA = re.compile(r"[a-z][a-z0-9_-]{0,30}\Z")
CHUNK = 1 << 20


class StoreError(LookupError):
    """The file is not in the store, or its bytes no longer match its name."""


def root() -> Path:
    return Path(current_app.config["SETTINGS"].FILE_STORE).resolve()


def path(area: str, sha256: str) -> Path:
    """Where the file ``sha256`` of ``area`` lives (whether or not it exists)."""
    if not _AREA.match(area or ""):
        raise StoreError(f"bad area {area!r}")
    sha256 = (sha256 or "").strip().lower()
    if not _SHA256.match(sha256):
        raise StoreError("not a SHA-256")
    base = root()
    target = (base / area / sha256[:2] / sha256).resolve()
    if base not in target.parents:
        raise StoreError("path outside the store")
    return target


def put_stream(area: str, stream: IO[bytes]) -> str:
    """Store what ``stream`` yields; return its SHA-256. Storing the same bytes twice is a no-op."""
    if not _AREA.match(area or ""):
        raise StoreError(f"bad area {area!r}")
    staging = root() / area
    staging.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(dir=staging, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as tmp:
            for chunk in iter(lambda: stream.read(CHUNK), b""):
                digest.update(chunk)
                tmp.write(chunk)
        sha = digest.hexdigest()
        target = path(area, sha)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            os.unlink(tmp_name)
        else:
            os.replace(tmp_name, target)
    except BaseException:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise
    return sha


def put(area: str, data: bytes) -> str:
    import io

    return put_stream(area, io.BytesIO(data))


def exists(area: str, sha256: str) -> bool:
    try:
        return path(area, sha256).is_file()
    except StoreError:
        return False


def read(area: str, sha256: str) -> bytes:
    """The stored bytes, after checking they still hash to their name."""
    target = path(area, sha256)
    if not target.is_file():
        raise StoreError("not in the store")
    data = target.read_bytes()
    if hashlib.sha256(data).hexdigest() != target.name:
        raise StoreError("stored file does not match its hash")
    return data


def open_checked(area: str, sha256: str) -> IO[bytes]:
    """An open file after a streaming hash check (for large files)."""
    target = path(area, sha256)
    if not target.is_file():
        raise StoreError("not in the store")
    digest = hashlib.sha256()
    with target.open("rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            digest.update(chunk)
    if digest.hexdigest() != target.name:
        raise StoreError("stored file does not match its hash")
    return target.open("rb")
