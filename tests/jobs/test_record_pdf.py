"""A sealed record's PDF is rendered once, by a job, when the sealed record is complete (its
photos and signatures arrived), kept in the store and served from there: downloading it does
not render it again. Where a worker runs, a record whose PDF is not kept yet sends the
reader to the job's progress page; with no worker (held) it is rendered as before."""
from __future__ import annotations

from sqlalchemy import select

from field_support import jpeg, new_key, photo_ref, put_photo, record, setup
from field_support import pdf_text
from seal_support import inspector, put_record, representative, sign, team_users

from inspection import create_app
from inspection.core import storage
from inspection.extensions import db
from inspection.fieldwork import documents, record_pdfs
from inspection.fieldwork.models import RecordRevision
from inspection.jobs import operations as ops
from inspection.jobs.models import Job
from helpers import Client


def _jobs(app) -> list[Job]:
    with app.app_context():
        rows = list(db.session.scalars(select(Job).where(Job.kind == "record_pdf")))
        for row in rows:
            db.session.expunge(row)
        return rows


def test_the_sealed_record_pdf_is_made_once_and_kept(app, app_config, department, login_as,
                                                     tmp_path, monkeypatch):
    client, field = setup(app, department, login_as)
    team = team_users(app, field, login_as)
    data, key = jpeg(seed=21), new_key()
    answer = {"item": field.item, "question": field.questions[0], "answer": "compliant",
              "note": "考勤记录完整。"}
    body = record(field, category="no_problem", answers=[answer],
                  photos=[photo_ref(key, data, field.questions[0])])
    signed = sign(client, body, [inspector(team[0]), inspector(team[1]),
                                 representative("李主任")])
    assert put_record(client, signed).status_code == 201
    assert _jobs(app) == []  # sealed, but its photo has not arrived: not complete yet
    assert put_photo(client, key, data, field.mine,
                     X_Question=field.questions[0]).status_code == 201
    [job] = _jobs(app)
    assert job.status == "queued" and job.created_by_id == team[0]
    with app.app_context():
        revision = db.session.scalar(select(RecordRevision).where(
            RecordRevision.seal == signed["seal"]))
        assert job.key == record_pdfs.key_for(revision)
        assert job.params["revision_id"] == revision.id

    # Where a worker runs, the reader waits on the job's page instead of a long request.
    with_worker = create_app(dict(app_config, JOBS_MODE="embedded",
                                  JOBS_FILE=str(tmp_path / "jobs.sqlite3")))
    member = Client(with_worker)
    assert member.login("insp_a").status_code == 302
    response = member.get(f"/visits/{field.mine}/record.pdf")
    assert response.status_code == 302 and response.headers["Location"] == f"/jobs/{job.id}"

    with app.test_request_context():
        assert ops.run_pending() == 1
    [job] = _jobs(app)
    assert job.status == "done" and job.result_area == record_pdfs.AREA
    assert job.result_filename == f"record-{field.mine}-r1.pdf"

    def no_rendering(*_a, **_kw):
        raise AssertionError("the kept PDF must be served, not rendered again")

    monkeypatch.setattr(documents, "render_pdf", no_rendering)
    office = login_as("office")
    for reader in (client, office, member):
        response = reader.get(f"/visits/{field.mine}/record.pdf")
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        with app.app_context():
            assert response.data == storage.read(record_pdfs.AREA, job.result_sha256)
    _text, flat = pdf_text(tmp_path, response, "kept.pdf")
    assert signed["seal"] in flat and "考勤记录完整。" in flat and "李主任" in flat
    # Uploading again (a replay) submits nothing more: one PDF per sealed revision.
    assert put_photo(client, key, data, field.mine,
                     X_Question=field.questions[0]).status_code == 200
    assert len(_jobs(app)) == 1
