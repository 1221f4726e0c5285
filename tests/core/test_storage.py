import io

import pytest

from inspection.core import storage


def test_put_read_and_dedupe(ctx):
    sha = storage.put("photos", b"evidence")
    assert storage.read("photos", sha) == b"evidence"
    assert storage.put_stream("photos", io.BytesIO(b"evidence")) == sha
    assert storage.exists("photos", sha) and not storage.exists("pools", sha)
    with storage.open_checked("photos", sha) as fh:
        assert fh.read() == b"evidence"


@pytest.mark.parametrize("area, sha", [
    ("photos", "../../etc/passwd"),
    ("photos", "a" * 63),
    ("../x", "a" * 64),
    ("Photos", "a" * 64),
])
def test_paths_are_checked(ctx, area, sha):
    with pytest.raises(storage.StoreError):
        storage.path(area, sha)


def test_tampered_file_is_refused(ctx):
    sha = storage.put("photos", b"original")
    storage.path("photos", sha).write_bytes(b"changed")
    with pytest.raises(storage.StoreError, match="does not match"):
        storage.read("photos", sha)
    with pytest.raises(storage.StoreError):
        storage.read("photos", "b" * 64)
