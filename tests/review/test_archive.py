"""The case file of a closed task (seed 000 五): every file in the ZIP matches its manifest;
``flask --app app archive verify`` passes the file and fails an altered one (a byte of an
entry changed, an entry dropped, an entry added, the manifest edited); retention: the dry
run lists and changes nothing, the purge removes only what is due and leaves a tombstone;
the archive deadline on the deadlines page; who may archive and download."""
from __future__ import annotations

import hashlib
import io
import json
import sys
import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from inspection.core import storage
from inspection.core.errors import Conflict
from inspection.core.models import AuditEntry
from inspection.extensions import db
from inspection.planning.models import Task
from inspection.review import todo
from inspection.review.archive import operations as archive_ops
from inspection.review.archive.models import Archive

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "reports"))
from helpers import Client  # noqa: E402
from reports_support import APPROVER, OFFICE, case, run_job, user  # noqa: E402


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _archived(app, department) -> tuple[object, bytes]:
    """The hand-built task, closed and archived through the job's handler: (case, ZIP)."""
    with app.app_context():
        c = case(department)
        made = run_job("task_archive", {"task_id": c.task_id, "user_id": c.office_id})
        assert made.area == "archives" and made.content_type == "application/zip"
        return c, storage.read(made.area, made.sha256)


def _rewrite(data: bytes, change) -> bytes:
    """The ZIP again, entry by entry, through ``change(name, bytes) -> bytes | None``
    (None drops the entry)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = change(info.filename, src.read(info.filename))
            if body is not None:
                dst.writestr(info, body)
    return out.getvalue()


def _verify(app, tmp_path, data: bytes, name: str = "case.zip"):
    path = tmp_path / name
    path.write_bytes(data)
    return app.test_cli_runner().invoke(args=["archive", "verify", str(path)])


def test_every_file_matches_the_manifest(app, department):
    c, data = _archived(app, department)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = z.namelist()
        manifest = json.loads(z.read("manifest.json"))
        files = {f["path"]: f for f in manifest["files"]}
        assert sorted(files) == sorted(n for n in names if n != "manifest.json")
        for name, entry in files.items():
            body = z.read(name)
            assert (_sha(body), len(body)) == (entry["sha256"], entry["size"]), name
            assert entry["part"] and entry["about"]
        photo = z.read(f"visits/{c.numbers[0]}/photos/00000000-0000-4000-8000-0000000000a1.jpg")
        snapshot = z.read(f"visits/{c.numbers[1]}/public-result.html").decode()
        audit = json.loads(z.read("audit/entries.json"))
        report = z.read("report/summary.pdf")
        record = z.read(f"visits/{c.numbers[3]}/record.pdf")
    assert manifest["task"]["id"] == c.task_id
    parts = {f["part"] for f in files.values()}
    assert {"task", "plan", "report", "draw", "pool", "record", "photo", "signature",
            "review", "feedback", "publication", "audit"} <= parts
    assert _sha(photo) == c.photo_sha
    assert f"visits/{c.numbers[0]}/feedback/1-proof.pdf" in files
    assert files[f"visits/{c.numbers[1]}/handling/1-letter.pdf"]["part"] == "handling"
    assert f"visits/{c.numbers[0]}/signatures/00000000-0000-4000-8000-0000000000b1.png" in files
    # published results have their public page; the withheld one has none
    assert f"visits/{c.numbers[3]}/public-result.html" not in files
    assert c.numbers[1] in snapshot and "发现问题已责令改正" in snapshot
    assert report.startswith(b"%PDF") and record.startswith(b"%PDF")
    assert {"task.close", "review.publish"} <= {e["action"] for e in audit}
    with app.app_context():
        row = db.session.scalar(select(Archive))
        assert (row.sha256, row.size, row.entries) == (_sha(data), len(data), len(files))
        assert row.manifest_sha256 == _sha(z_manifest(data))
        # the end of the check 2026-04-02 + 2 months; archived today (late for that date)
        assert row.check_end == date(2026, 4, 2) and row.deadline == date(2026, 6, 2)
        assert row.on_time is (archive_ops.today() <= date(2026, 6, 2))
        assert row.retention_until == archive_ops.add_years(archive_ops.today(), 2)
        entry = db.session.scalar(select(AuditEntry).where(
            AuditEntry.action == "archive.create"))
        assert entry.summary["sha256"] == row.sha256
        # a second run answers the archive made
        again = run_job("task_archive", {"task_id": c.task_id})
        assert again.sha256 == row.sha256
        assert db.session.query(Archive).count() == 1


def z_manifest(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return z.read("manifest.json")


def test_verify_passes_the_file_and_fails_altered_ones(app, department, tmp_path):
    c, data = _archived(app, department)
    good = _verify(app, tmp_path, data)
    assert good.exit_code == 0 and "archive OK" in good.output and "recorded" in good.output
    target = f"visits/{c.numbers[1]}/review.json"

    def flip(name, body):
        return body[:10] + bytes([body[10] ^ 1]) + body[11:] if name == target else body

    altered = _verify(app, tmp_path, _rewrite(data, flip), "altered.zip")
    assert altered.exit_code == 1 and f"entry altered: {target}" in altered.output

    # one byte of the stored (compressed) data of an entry changed in place
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = z.getinfo(target)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    raw = bytearray(data)
    raw[start + 5] ^= 0xFF
    in_place = _verify(app, tmp_path, bytes(raw), "in-place.zip")
    assert in_place.exit_code == 1 and target in in_place.output

    dropped = _verify(app, tmp_path, _rewrite(data, lambda n, b: None if n == target else b),
                      "dropped.zip")
    assert dropped.exit_code == 1 and f"entry missing: {target}" in dropped.output

    def extra(name, body):
        return body

    with_extra = io.BytesIO(_rewrite(data, extra))
    with zipfile.ZipFile(with_extra, "a") as z:
        z.writestr("visits/extra.txt", b"not in the manifest")
    added = _verify(app, tmp_path, with_extra.getvalue(), "extra.zip")
    assert added.exit_code == 1 and "not in the manifest: visits/extra.txt" in added.output

    # the manifest edited to match an altered entry: the files agree with it, but it is
    # not the manifest recorded for the task's archive
    changed = b'{"edited": true}\n'

    def forge(name, body):
        if name == target:
            return changed
        if name == "manifest.json":
            manifest = json.loads(body)
            for f in manifest["files"]:
                if f["path"] == target:
                    f["sha256"], f["size"] = _sha(changed), len(changed)
            return json.dumps(manifest).encode()
        return body

    forged = _verify(app, tmp_path, _rewrite(data, forge), "forged.zip")
    assert forged.exit_code == 1 and "manifest" in forged.output
    assert "not the one recorded" in forged.output

    garbage = _verify(app, tmp_path, b"PK\x03\x04 not a zip", "garbage.zip")
    assert garbage.exit_code == 1


def test_verify_outside_the_app(app, department, tmp_path):
    """The standard-library checker needs no database: ``python -m ...verify FILE``."""
    import subprocess

    _c, data = _archived(app, department)
    path = tmp_path / "copy.zip"
    path.write_bytes(data)
    root = Path(__file__).resolve().parents[2]
    ok = subprocess.run([sys.executable, "-m", "inspection.review.archive.verify", str(path)],
                        capture_output=True, text=True, cwd=root)
    assert ok.returncode == 0 and "archive OK" in ok.stdout, ok.stderr
    path.write_bytes(_rewrite(data, lambda n, b: None if n == "audit/entries.json" else b))
    bad = subprocess.run([sys.executable, "-m", "inspection.review.archive.verify", str(path)],
                         capture_output=True, text=True, cwd=root)
    assert bad.returncode == 1 and "entry missing: audit/entries.json" in bad.stderr


def _other_archive(c, days_left: int) -> int:
    """A second closed task with an archive kept ``days_left`` days more (its own file)."""
    first = db.session.get(Task, c.task_id)
    other = Task(plan_id=first.plan_id, name="另一任务", lead_department_id=first.lead_department_id,
                 window_start=first.window_start, window_end=first.window_end, status="closed",
                 grade_ratios={})
    db.session.add(other)
    db.session.flush()
    sha = storage.put("archives", b"another case file")
    today = archive_ops.today()
    db.session.add(Archive(task_id=other.id, sha256=sha, size=17, manifest_sha256="0" * 64,
                           entries=0, file_name="x.zip", check_end=date(2026, 4, 2),
                           deadline=date(2026, 6, 2), on_time=True, retention_years=2,
                           retention_until=today + timedelta(days=days_left)))
    db.session.commit()
    return other.id


def test_retention_dry_run_and_purge(app, department):
    c, data = _archived(app, department)
    with app.app_context():
        keep_id = _other_archive(c, days_left=30)
        row = db.session.scalar(select(Archive).where(Archive.task_id == c.task_id))
        sha = row.sha256
        row.retention_until = archive_ops.today() - timedelta(days=1)  # past retention
        db.session.commit()
        keep_sha = db.session.scalar(select(Archive.sha256).where(Archive.task_id == keep_id))
        entries_before = db.session.query(AuditEntry).count()
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["retention", "purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"due: task {c.task_id} archive {sha}" in dry.output and "1 archive(s) due" in dry.output
    assert f"task {keep_id} " not in dry.output and keep_sha not in dry.output
    with app.app_context():
        assert storage.exists("archives", sha) and storage.exists("archives", keep_sha)
        assert db.session.query(AuditEntry).count() == entries_before
        assert db.session.scalar(select(Archive.purged_at).where(
            Archive.task_id == c.task_id)) is None

    done = runner.invoke(args=["retention", "purge"])
    assert done.exit_code == 0 and "1 archive(s) removed" in done.output, done.output
    with app.app_context():
        assert not storage.exists("archives", sha)
        assert storage.exists("archives", keep_sha)  # not yet due: untouched
        purged = db.session.scalar(select(Archive).where(Archive.task_id == c.task_id))
        kept = db.session.scalar(select(Archive).where(Archive.task_id == keep_id))
        assert purged.purged_at is not None and kept.purged_at is None
        tomb = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "archive.purge"))
        assert tomb.object_id == str(c.task_id)
        assert tomb.summary["removed"] == [{"area": "archives", "sha256": sha,
                                            "size": len(data)}]
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            manifest = json.loads(z.read("manifest.json"))
        assert {(e["path"], e["sha256"]) for e in tomb.summary["entries"]} == \
            {(f["path"], f["sha256"]) for f in manifest["files"]}
        # the photos and records of the visits stay in the store
        assert storage.exists("photos", c.photo_sha)
        assert db.session.query(AuditEntry).count() == entries_before + 1
    again = runner.invoke(args=["retention", "purge"])
    assert "0 archive(s) removed" in again.output
    assert app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0
    office = Client(app)
    office.login(OFFICE)
    assert office.get(f"/archive/tasks/{c.task_id}/case-file.zip").status_code == 404


def test_keeping_longer(app, department):
    c, _data = _archived(app, department)
    runner = app.test_cli_runner()
    short = runner.invoke(args=["archive", "retain", str(c.task_id), "--years", "1",
                                "--reason", "x"])
    assert short.exit_code != 0
    longer = runner.invoke(args=["archive", "retain", str(c.task_id), "--years", "10",
                                 "--reason", "劳动保障监察案卷管理规定"])
    assert longer.exit_code == 0, longer.output
    with app.app_context():
        row = db.session.scalar(select(Archive))
        assert row.retention_years == 10
        assert row.retention_until == archive_ops.add_years(archive_ops.today(), 10)
        assert archive_ops.purge(dry_run=True, day=archive_ops.add_years(
            archive_ops.today(), 3)) == []


def test_archiving_needs_a_closed_task(app, department):
    with app.app_context():
        c = case(department, close=False)
        with pytest.raises(Conflict):
            archive_ops.make_archive(c.task_id, actor=user(OFFICE))
        assert db.session.scalar(select(Archive)) is None


def test_archive_pages_and_deadline(app, department, login_as):
    jobs = pytest.importorskip("inspection.jobs.operations")
    with app.app_context():
        c = case(department)
        items = [i for i in todo._collect(todo.deadline_kinds(), date(2026, 5, 1))
                 if i.kind == archive_ops.ARCHIVE_KIND]
        assert [(i.task_id, i.due) for i in items] == [(c.task_id, date(2026, 6, 2))]
    office = Client(app)
    office.login(OFFICE)
    page = office.get(f"/tasks/{c.task_id}").get_data(as_text=True)
    assert "案卷归档" in page and "2026-06-02" in page
    assert "待归档案卷" in office.get("/deadlines").get_data(as_text=True)
    approver = Client(app)
    approver.login(APPROVER)
    token = approver.token(f"/tasks/{c.task_id}")
    assert approver.http.post(f"/archive/tasks/{c.task_id}",
                              data={"csrf_token": token}).status_code == 403
    response = office.http.post(f"/archive/tasks/{c.task_id}",
                                data={"csrf_token": office.token(f"/tasks/{c.task_id}")})
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"]
    with app.app_context():
        assert jobs.run_pending() == 1
        row = db.session.scalar(select(Archive))
        assert row is not None and row.created_by_id == c.office_id
        assert not [i for i in todo._collect(todo.deadline_kinds(), date(2026, 5, 1))
                    if i.kind == archive_ops.ARCHIVE_KIND]
    for client in (office, approver):
        download = client.get(f"/archive/tasks/{c.task_id}/case-file.zip")
        assert download.status_code == 200 and _sha(download.data) == row.sha256
    assert login_as("supervisor").get(
        f"/archive/tasks/{c.task_id}/case-file.zip").status_code == 403
    page = office.get(f"/tasks/{c.task_id}").get_data(as_text=True)
    assert row.sha256 in page and "下载案卷（ZIP）" in page
