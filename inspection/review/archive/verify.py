"""Checking a case-file ZIP against its manifest, with the standard library only (so that the
check runs on any copy of the file, inside the app or not).

``manifest.json`` lists every other entry of the ZIP with its SHA-256 and size
(``{"files": [{"path", "sha256", "size", "part", "about"}], ...}``). :func:`verify` reads every
entry, hashes it and compares: the first problem found is returned (an entry altered, an
entry missing, an entry the manifest does not list, a manifest that cannot be read), else
None. Whether the manifest itself is the one made when the task was archived is checked by
the app against the SHA-256 kept on the :class:`.models.Archive` row
(``flask --app app archive verify FILE``).
"""
from __future__ import annotations

import hashlib
import json
import zipfile
import zlib
from dataclasses import dataclass
from typing import IO, Any

MANIFEST = "manifest.json"
CHUNK = 1 << 20


@dataclass(frozen=True)
class Problem:
    #: altered | missing | extra | manifest | unreadable
    kind: str
    path: str
    detail: str = ""

    def __str__(self) -> str:
        text = {"altered": "entry altered", "missing": "entry missing",
                "extra": "entry not in the manifest", "manifest": "manifest unreadable",
                "unreadable": "not a readable ZIP", "size": "entry size differs",
                "duplicate": "entry stored twice"}[self.kind]
        return f"{text}: {self.path}" + (f" ({self.detail})" if self.detail else "")


def sha256_of(stream: IO[bytes]) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    for chunk in iter(lambda: stream.read(CHUNK), b""):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def read_manifest(archive: zipfile.ZipFile) -> tuple[dict[str, Any], str]:
    """The manifest and the SHA-256 of its bytes."""
    data = archive.read(MANIFEST)
    manifest = json.loads(data.decode("utf-8"))
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list):
        raise ValueError("no list of files")
    return manifest, hashlib.sha256(data).hexdigest()


def verify(path_or_file) -> tuple[dict[str, Any] | None, str | None, Problem | None]:
    """(manifest, manifest's SHA-256, first problem or None)."""
    try:
        archive = zipfile.ZipFile(path_or_file)
    except (zipfile.BadZipFile, OSError) as error:
        return None, None, Problem("unreadable", str(path_or_file), str(error))
    with archive:
        names = archive.namelist()
        if len(names) != len(set(names)):
            dup = next(n for n in names if names.count(n) > 1)
            return None, None, Problem("duplicate", dup)
        try:
            manifest, manifest_sha = read_manifest(archive)
        except KeyError:
            return None, None, Problem("missing", MANIFEST)
        except (ValueError, UnicodeDecodeError, zipfile.BadZipFile, zlib.error,
                EOFError, OSError) as error:
            return None, None, Problem("manifest", MANIFEST, str(error))
        listed: dict[str, dict] = {}
        for entry in manifest["files"]:
            if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
                return manifest, manifest_sha, Problem("manifest", MANIFEST, "bad entry")
            listed[entry["path"]] = entry
        present = set(names)
        for path, entry in listed.items():
            if path not in present:
                return manifest, manifest_sha, Problem("missing", path)
            try:
                with archive.open(path) as stream:
                    sha, size = sha256_of(stream)
            except (zipfile.BadZipFile, OSError, zlib.error, EOFError) as error:
                # a CRC that no longer matches, or compressed data that no longer inflates
                return manifest, manifest_sha, Problem("altered", path, str(error))
            if sha != entry.get("sha256"):
                return manifest, manifest_sha, Problem("altered", path, "SHA-256 differs")
            if size != entry.get("size"):
                return manifest, manifest_sha, Problem("size", path)
        for name in names:
            if name != MANIFEST and name not in listed:
                return manifest, manifest_sha, Problem("extra", name)
    return manifest, manifest_sha, None


if __name__ == "__main__":  # python -m inspection.review.archive.verify FILE
    import sys

    if len(sys.argv) != 2:
        print("usage: python -m inspection.review.archive.verify FILE.zip", file=sys.stderr)
        sys.exit(2)
    _manifest, _sha, problem = verify(sys.argv[1])
    if problem is not None:
        print(f"archive BROKEN: {problem}", file=sys.stderr)
        sys.exit(1)
    print(f"archive OK: {len(_manifest['files'])} files match the manifest "
          f"(manifest SHA-256 {_sha})")
