"""The limits of a photo upload: the scans of a JPEG, the one pixel limit (the setting
PHOTO_MAX_PIXELS, not Pillow's own), and a refused upload leaving nothing in the store."""
import io
import struct
import threading
import zlib

import pytest
from PIL import Image
from sqlalchemy import select

from inspection.config import PILLOW_MAX_PIXELS, ConfigError, Settings, load
from inspection.core import storage
from inspection.extensions import db
from inspection.fieldwork import photos
from inspection.fieldwork.models import EvidencePhoto

from helpers import Client

from field_support import jpeg, new_key, put_photo, settings, setup, sha

PIXEL_LIMIT_ZH = "图片超过 {} 百万像素（照片允许的上限），已作为可能的解压炸弹拒收。"


def _rows(app, **where):
    with app.app_context():
        query = select(EvidencePhoto)
        for key, value in where.items():
            query = query.where(getattr(EvidencePhoto, key) == value)
        rows = db.session.scalars(query).all()
        db.session.expunge_all()
        return rows


def _store(app) -> set[str]:
    """Every file of the content-addressed store (temporary files included)."""
    with app.app_context():
        root = storage.root()
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def _error(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()["error"]


def _progressive(width: int = 320, height: int = 240) -> bytes:
    img = Image.open(io.BytesIO(jpeg(width, height, seed=7)))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85, progressive=True)
    return buf.getvalue()


def _with_repeated_last_scan(data: bytes, repeats: int, before: bytes = b"") -> bytes:
    """The attack: the last scan (its SOS up to the EOI) sent ``repeats`` more times, each
    one more pass of the decoder over every block; ``before`` goes in front of the copies.
    (Entropy-coded data never holds FF DA or FF D9, so rfind finds the real markers.)"""
    eoi = data.rindex(b"\xff\xd9")
    last = data[data.rindex(b"\xff\xda"):eoi]
    return data[:eoi] + before + last * repeats + data[eoi:]


def _comment(text: bytes) -> bytes:
    return b"\xff\xfe" + struct.pack(">H", len(text) + 2) + text


def _png(width: int, height: int, *, header_only: bool = False) -> bytes:
    """A grey RGB PNG made a row at a time (a 7000x7000 one is about 150 KB); with
    ``header_only``, a decompression bomb's header and nothing to decode."""
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (struct.pack(">I", len(payload)) + kind + payload
                + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF))
    packer = zlib.compressobj(9)
    row = b"\x00" + b"\x80" * (3 * width)
    body = b"".join(packer.compress(row) for _ in range(1 if header_only else height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", body + packer.flush()) + chunk(b"IEND", b""))


# --- the scans of a JPEG ---------------------------------------------------------------------

def test_a_jpeg_whose_last_scan_is_repeated_hundreds_of_times_is_refused(app, department,
                                                                         login_as):
    client, field = setup(app, department, login_as)
    normal = _progressive()
    assert put_photo(client, new_key(), normal, field.mine).status_code == 201
    before = _store(app)
    attack = _with_repeated_last_scan(normal, 300)
    error = _error(put_photo(client, key := new_key(), attack, field.mine), 422)
    assert error["code"] == "validation_failed"
    assert error["message"] == ("该 JPEG 含有超过 32 个扫描（照片通常约 10 个），"
                                "解码耗时过长，已拒收。")
    assert _rows(app, uuid=key) == [] and _store(app) == before


def test_scans_behind_a_false_end_marker_in_a_comment_are_counted(app, department, login_as):
    client, field = setup(app, department, login_as)
    before = _store(app)
    # A decoder skips a comment by its length: the FF D9 inside it ends nothing.
    attack = _with_repeated_last_scan(_progressive(), 40, before=_comment(b"\xff\xd9"))
    error = _error(put_photo(client, new_key(), attack, field.mine), 422)
    assert "超过 32 个扫描" in error["message"]
    # Nor do stray bytes between segments hide the scans after them.
    attack = _with_repeated_last_scan(_progressive(), 40,
                                      before=_comment(b"x") + b"\x00\xff\x00" * 50)
    error = _error(put_photo(client, new_key(), attack, field.mine), 422)
    assert "超过 32 个扫描" in error["message"]
    assert _rows(app) == [] and _store(app) == before


def test_a_jpeg_of_thousands_of_segments_is_refused(app, department, login_as):
    client, field = setup(app, department, login_as)
    data = jpeg(64, 48)
    flood = data[:2] + _comment(b"") * 5000 + data[2:]
    error = _error(put_photo(client, new_key(), flood, field.mine), 422)
    assert error["message"] == "该 JPEG 含有超过 1024 个标记段，远多于照片应有的数量，已拒收。"
    assert _rows(app) == []


def test_a_png_of_tens_of_thousands_of_chunks_is_refused(app, department, login_as):
    client, field = setup(app, department, login_as)
    png = _png(64, 48)
    text = (struct.pack(">I", 2) + b"tEXta\x00"
            + struct.pack(">I", zlib.crc32(b"tEXta\x00") & 0xFFFFFFFF))
    flood = png[:33] + text * 20_000 + png[33:]    # after the signature and IHDR
    error = _error(put_photo(client, new_key(), flood, field.mine, content_type="image/png"),
                   422)
    assert error["message"] == "该 PNG 含有超过 16384 个数据块，远多于照片应有的数量，已拒收。"
    assert _rows(app) == []


# --- one pixel limit -------------------------------------------------------------------------

def test_the_default_pixel_limit_refuses_a_7000_pixel_square_png(app, department, login_as):
    assert Settings().PHOTO_MAX_PIXELS == 25_000_000
    client, field = setup(app, department, login_as)
    before = _store(app)
    png = _png(7000, 7000)
    assert len(png) < 250_000
    error = _error(put_photo(client, new_key(), png, field.mine, content_type="image/png"), 422)
    assert error["code"] == "validation_failed"
    assert error["message"] == PIXEL_LIMIT_ZH.format(25)
    assert _rows(app) == [] and _store(app) == before


def test_the_setting_is_the_limit_for_every_format(app, department, login_as):
    client, field = setup(app, department, login_as)
    with settings(app, PHOTO_MAX_PIXELS=1_000_000):
        for name, make in (("png", lambda size: _png(*size)),
                           ("webp", lambda size: _encoded(size, "WEBP")),
                           ("jpeg", lambda size: _encoded(size, "JPEG"))):
            under = put_photo(client, new_key(), make((1000, 1000)), field.mine,
                              content_type=f"image/{name}")
            assert under.status_code == 201, (name, under.get_data(as_text=True))
            error = _error(put_photo(client, new_key(), make((1000, 1001)), field.mine,
                                     content_type=f"image/{name}"), 422)
            assert error["message"] == PIXEL_LIMIT_ZH.format(1), name
    assert len(_rows(app)) == 3


def _encoded(size, fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (90, 120, 150)).save(buf, fmt)
    return buf.getvalue()


def test_pillows_own_limit_does_not_decide(app, department, login_as, monkeypatch):
    """Pillow warns beyond Image.MAX_IMAGE_PIXELS and refuses beyond twice that: neither may
    refuse what the setting accepts, nor answer otherwise than the setting's refusal."""
    client, field = setup(app, department, login_as)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 500_000)
    with settings(app, PHOTO_MAX_PIXELS=1_000_000):
        response = put_photo(client, new_key(), _png(1000, 900), field.mine,
                             content_type="image/png")
        assert response.status_code == 201, response.get_data(as_text=True)
    monkeypatch.undo()
    for width, height in ((9_500, 9_500),       # beyond Pillow's warning (89.5 MP)
                          (20_000, 20_000)):    # beyond Pillow's refusal (179 MP)
        error = _error(put_photo(client, new_key(), _png(width, height, header_only=True),
                                 field.mine, content_type="image/png"), 422)
        assert error["message"] == PIXEL_LIMIT_ZH.format(25)


@pytest.mark.parametrize("value", [0, 178_956_971])
def test_the_pixel_limit_stays_within_what_pillow_decodes(tmp_path, value):
    assert PILLOW_MAX_PIXELS == 2 * Image.MAX_IMAGE_PIXELS
    with pytest.raises(ConfigError, match="PHOTO_MAX_PIXELS"):
        load(tmp_path, {"PHOTO_MAX_PIXELS": value, "SECRET_KEY": "x" * 32})
    assert load(tmp_path, {"PHOTO_MAX_PIXELS": "48000000", "SECRET_KEY": "x" * 32}) \
        .PHOTO_MAX_PIXELS == 48_000_000


# --- a refusal stores nothing ----------------------------------------------------------------

def test_a_409_leaves_no_files_in_the_store(app, department, login_as):
    client, field = setup(app, department, login_as)
    key = new_key()
    assert put_photo(client, key, jpeg(2000, 1500, seed=31), field.mine).status_code == 201
    before = _store(app)
    other = jpeg(2000, 1500, seed=32)
    error = _error(put_photo(client, key, other, field.mine), 409)
    assert error["code"] == "conflict"
    assert _store(app) == before
    with app.app_context():
        assert not storage.exists(photos.AREA_PHOTOS, sha(other))


def test_racing_uploads_of_different_bytes_under_one_key_store_only_the_winner(
        app, department, login_as):
    first, field = setup(app, department, login_as)
    second = Client(app)
    assert second.login("insp_a").status_code == 302
    key = new_key()
    bodies = [jpeg(2000, 1500, seed=41), jpeg(2000, 1500, seed=42)]
    tokens = [first.api_token(), second.api_token()]
    before = _store(app)
    barrier = threading.Barrier(2)
    results = [None, None]

    def send(n, c):
        barrier.wait()
        results[n] = c.http.put(f"/api/v1/field/photos/{key}", data=bodies[n], headers={
            "X-Visit": field.mine, "X-Content-SHA256": sha(bodies[n]),
            "Content-Type": "image/jpeg", "X-CSRFToken": tokens[n]})

    threads = [threading.Thread(target=send, args=(n, c)) for n, c in enumerate((first, second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status_code for r in results) == [201, 409]
    [row] = _rows(app, uuid=key)
    loser = bodies[1] if row.sha256 == sha(bodies[0]) else bodies[0]
    added = _store(app) - before
    assert added == {f"{area}/{digest[:2]}/{digest}" for area, digest in (
        (photos.AREA_PHOTOS, row.sha256), (photos.AREA_DISPLAY, row.display_sha256),
        (photos.AREA_THUMBS, row.thumb_sha256))}
    with app.app_context():
        assert not storage.exists(photos.AREA_PHOTOS, sha(loser))
