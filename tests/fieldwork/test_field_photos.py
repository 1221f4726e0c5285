"""Evidence photo uploads over HTTP: idempotency, conflicts, bad images, orientation, the
display copy and thumbnail, originals, and the record's completeness."""
import io
import struct
import threading
import zlib

from PIL import Image
from sqlalchemy import func, select

from inspection.core import storage
from inspection.core.models import AuditEntry
from inspection.extensions import db
from inspection.fieldwork import photos
from inspection.fieldwork.models import EvidencePhoto

from helpers import Client

from field_support import (jpeg, new_key, photo_ref, put_photo, record, settings, setup,
                           sha)


def _rows(app, **where):
    with app.app_context():
        query = select(EvidencePhoto)
        for key, value in where.items():
            query = query.where(getattr(EvidencePhoto, key) == value)
        rows = db.session.scalars(query).all()
        db.session.expunge_all()
        return rows


def _stored_image(app, area, digest):
    with app.app_context():
        return Image.open(io.BytesIO(storage.read(area, digest)))


def _error(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()["error"]


def test_photo_upload_is_idempotent(app, department, login_as):
    client, field = setup(app, department, login_as)
    key, data = new_key(), jpeg(seed=3)
    first = put_photo(client, key, data, field.mine, X_Question=field.questions[0],
                      X_Taken_At="2026-04-02T09:45:00+08:00",
                      X_Original_SHA256=sha(b"original"))
    assert first.status_code == 201, first.get_data(as_text=True)
    receipt = first.get_json()
    assert receipt == {"key": key, "kind": "photo", "sha256": sha(data),
                       "received_at": receipt["received_at"], "width": 1600, "height": 1200}
    again = put_photo(client, key, data, field.mine)
    assert again.status_code == 200 and again.get_json() == receipt
    [row] = _rows(app, uuid=key)
    assert row.question == field.questions[0] and row.original_sha256 == sha(b"original")
    assert row.taken_at.isoformat() == "2026-04-02T01:45:00"      # stored in UTC
    assert row.content_type == "image/jpeg" and row.bytes == len(data)
    with app.app_context():
        assert storage.read(photos.AREA_PHOTOS, row.sha256) == data
        assert db.session.scalar(select(func.count(AuditEntry.seq)).where(
            AuditEntry.action == "field.photo")) == 1


def test_different_bytes_under_the_same_key_are_refused(app, department, login_as):
    client, field = setup(app, department, login_as)
    key = new_key()
    assert put_photo(client, key, jpeg(seed=1), field.mine).status_code == 201
    error = _error(put_photo(client, key, jpeg(seed=2), field.mine), 409)
    assert error["code"] == "conflict"
    assert len(_rows(app)) == 1


def test_the_sha256_must_match_the_body(app, department, login_as):
    client, field = setup(app, department, login_as)
    data = jpeg()
    error = _error(put_photo(client, new_key(), data, field.mine, digest=sha(b"other")), 422)
    assert "X-Content-SHA256" in error["fields"]
    error = _error(put_photo(client, new_key(), data, field.mine, digest="nothex"), 422)
    assert "X-Content-SHA256" in error["fields"]
    assert _rows(app) == []


def test_files_that_are_not_images_are_refused_with_a_clear_message(app, department,
                                                                    login_as):
    client, field = setup(app, department, login_as)
    error = _error(put_photo(client, new_key(), b"%PDF-1.4 not a photo", field.mine), 422)
    assert error["message"] == "该文件不是有效的图片。"  # the bureau's language
    whole = jpeg(seed=5)
    truncated = whole[:len(whole) // 2]
    error = _error(put_photo(client, new_key(), truncated, field.mine), 422)
    assert "不是有效的图片" in error["message"]
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, "GIF")
    error = _error(put_photo(client, new_key(), gif.getvalue(), field.mine), 422)
    assert "JPEG、PNG 和 WebP" in error["message"]
    assert _rows(app) == []


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG declaring a huge size (a decompression bomb's header)."""
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (struct.pack(">I", len(payload)) + kind + payload
                + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def test_decompression_bombs_are_refused(app, department, login_as):
    client, field = setup(app, department, login_as)
    for width, height in ((100_000, 100_000),   # beyond Pillow's own limit
                          (8_000, 8_000)):      # 64 MP: beyond ours for a PNG
        bomb = _png_header_only(width, height)
        assert len(bomb) < 200
        error = _error(put_photo(client, new_key(), bomb, field.mine,
                                 content_type="image/png"), 422)
        assert "解压炸弹" in error["message"]
    assert _rows(app) == []


def test_photos_beyond_the_size_limit_answer_413(app, department, login_as):
    client, field = setup(app, department, login_as)
    data = jpeg()
    with settings(app, MAX_PHOTO_BYTES=len(data) - 1):
        error = _error(put_photo(client, new_key(), data, field.mine), 413)
        assert error["code"] == "too_large"
    assert put_photo(client, new_key(), data, field.mine).status_code == 201


def test_exif_orientation_is_applied_and_exif_kept(app, department, login_as):
    client, field = setup(app, department, login_as)
    exif = Image.Exif()
    exif[0x0112] = 6                       # rotate 90° clockwise to display
    exif[0x010F] = "TestPhone"             # Make
    exif[0x0132] = "2026:04:02 09:45:00"   # DateTime
    data = jpeg(2400, 1800, exif=exif)
    response = put_photo(client, new_key(), data, field.mine)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert (response.get_json()["width"], response.get_json()["height"]) == (1800, 2400)
    [row] = _rows(app)
    assert row.exif["Orientation"] == 6 and row.exif["Make"] == "TestPhone"
    display = _stored_image(app, photos.AREA_DISPLAY, row.display_sha256)
    thumb = _stored_image(app, photos.AREA_THUMBS, row.thumb_sha256)
    assert display.size == (1200, 1600)     # swapped: portrait, long side 1600
    assert thumb.size == (240, 320)
    assert display.getexif().get(0x0112) in (None, 1)   # no second rotation by a viewer


def test_display_copy_and_thumbnail_sizes(app, department, login_as):
    client, field = setup(app, department, login_as)
    small = jpeg(800, 600, seed=9)
    assert put_photo(client, new_key(), small, field.mine).status_code == 201
    png = io.BytesIO()
    Image.new("RGBA", (500, 1000), (10, 200, 30, 128)).save(png, "PNG")
    assert put_photo(client, new_key(), png.getvalue(), field.mine,
                     content_type="image/png").status_code == 201
    sizes = {(r.width, r.height): r for r in _rows(app)}
    small_row, png_row = sizes[(800, 600)], sizes[(500, 1000)]
    assert _stored_image(app, photos.AREA_DISPLAY, small_row.display_sha256).size == (800, 600)
    assert _stored_image(app, photos.AREA_THUMBS, small_row.thumb_sha256).size == (320, 240)
    # An upright JPEG within the display size is its own display copy: not re-encoded.
    assert small_row.display_sha256 == small_row.sha256 == sha(small)
    assert png_row.content_type == "image/png"
    assert png_row.display_sha256 != png_row.sha256
    display = _stored_image(app, photos.AREA_DISPLAY, png_row.display_sha256)
    assert display.format == "JPEG" and display.size == (500, 1000)
    assert _stored_image(app, photos.AREA_THUMBS, png_row.thumb_sha256).size == (160, 320)


def test_originals_only_when_the_bureau_keeps_them(app, department, login_as):
    client, field = setup(app, department, login_as)
    original = jpeg(4000, 3000, seed=4, quality=90)
    error = _error(put_photo(client, new_key(), original, field.mine, X_Original="1"), 422)
    assert "X-Original" in error["fields"]
    with settings(app, KEEP_PHOTO_ORIGINALS=True):
        response = put_photo(client, new_key(), original, field.mine, X_Original="1")
        assert response.status_code == 201, response.get_data(as_text=True)
        pack = client.get(f"/api/v1/field/visits/{field.mine}/pack").get_json()
        assert pack["settings"]["keep_originals"] is True
    [row] = _rows(app)
    assert row.is_original and (row.width, row.height) == (4000, 3000)
    assert row.original_sha256 == sha(original)
    assert _stored_image(app, photos.AREA_DISPLAY, row.display_sha256).size == (1600, 1200)


def test_photo_scope_and_headers(app, department, login_as):
    client, field = setup(app, department, login_as)
    data = jpeg()
    _error(put_photo(client, new_key(), data, field.others[0]), 404)
    _error(put_photo(client, new_key(), data, ""), 404)
    error = _error(put_photo(client, new_key(), data, field.mine, X_Question="LR-01-01"), 422)
    assert "X-Question" in error["fields"]
    error = _error(put_photo(client, new_key(), data, field.mine, X_Taken_At="yesterday"), 422)
    assert "X-Taken-At" in error["fields"]
    office = login_as("office")
    assert put_photo(office, new_key(), data, field.mine).status_code == 403
    assert _rows(app) == []


def test_a_record_is_complete_once_every_listed_photo_arrived(app, department, login_as):
    client, field = setup(app, department, login_as)
    one, two = jpeg(seed=11), jpeg(seed=12)
    keys = [new_key(), new_key()]
    bad = {"item": field.item, "question": field.questions[0], "answer": "non_compliant",
           "note": "未签订劳动合同", "order": {"kind": "rectify", "due": "2026-05-01",
                                             "text": "限期改正"}}
    body = record(field, answers=[bad], category="rectification_ordered",
                  photos=[photo_ref(keys[0], one, field.questions[0]),
                          photo_ref(keys[1], two)])
    response = client.api("PUT", f"/api/v1/field/records/{new_key()}", json=body)
    assert response.status_code == 201, response.get_json()
    assert sorted(response.get_json()["missing_photos"]) == sorted(keys)
    path = f"/api/v1/field/visits/{field.mine}/record"
    assert client.get(path).get_json()["complete"] is False
    assert put_photo(client, keys[0], one, field.mine).status_code == 201
    state = client.get(path).get_json()
    assert state["missing_photos"] == [keys[1]] and state["complete"] is False
    assert put_photo(client, keys[1], two, field.mine).status_code == 201
    state = client.get(path).get_json()
    assert state["complete"] is True and state["missing_photos"] == []
    assert state["photos_received"] == keys


def test_the_same_photo_sent_at_once_by_two_connections(app, department, login_as):
    first, field = setup(app, department, login_as)
    second = Client(app)
    assert second.login("insp_a").status_code == 302
    key, data = new_key(), jpeg(seed=21)
    barrier = threading.Barrier(2)
    results = [None, None]
    tokens = [first.api_token(), second.api_token()]

    def send(n, c):
        barrier.wait()
        results[n] = c.http.put(f"/api/v1/field/photos/{key}", data=data, headers={
            "X-Visit": field.mine, "X-Content-SHA256": sha(data),
            "Content-Type": "image/jpeg", "X-CSRFToken": tokens[n]})

    threads = [threading.Thread(target=send, args=(n, c)) for n, c in enumerate((first, second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status_code for r in results) == [200, 201]
    assert results[0].get_json() == results[1].get_json()
    assert len(_rows(app, uuid=key)) == 1
