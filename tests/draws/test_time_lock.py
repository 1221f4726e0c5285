"""A public source must exist before it is used: each declared source carries the time its
value becomes known; the server refuses to execute before the latest of them and says when
and by which clock; the record keeps when each value was entered and by whom; the verifier
fails a record executed, or a value entered, before its time; the public page says what the
result rests on."""
import copy
import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from inspection.core.errors import Conflict, ValidationFailed
from inspection.core.models import AuditEntry
from inspection.core.timeutil import to_local
from inspection.demo import demo_source, demo_value
from inspection.draws import commitments, entropy
from inspection.draws.engine import verify
from inspection.draws.models import Draw, EntropyMode
from inspection.extensions import db

from helpers import CLOCK
from target_support import (SECRETS, execute, make_task, prepare, secret_specs,  # noqa: F401
                            world)

ENGINE = verify.__file__.rsplit("/", 1)[0]


def _at(moment: datetime) -> str:
    return to_local(moment).isoformat(timespec="seconds")


def _source(moment: datetime) -> list[dict]:
    return [{"name": "中国福利彩票3D 第2026321期开奖号码", "available_at": _at(moment)}]


def _now() -> datetime:
    """The server's clock now (the tests' draws clock, helpers.DrawClock)."""
    return CLOCK.local().astimezone(timezone.utc).replace(microsecond=0)


def _later(monkeypatch, moment: datetime) -> None:
    """The server's clock reads ``moment`` (naive UTC, as the columns hold it)."""
    naive = moment.astimezone(timezone.utc).replace(tzinfo=None)
    monkeypatch.setattr(commitments, "utcnow", lambda: naive)


def test_refused_before_the_sources_time_accepted_after(app, world, monkeypatch):
    """The requirement's case: declared for 21:15, tried at once with any three digits."""
    known = _now() + timedelta(hours=6)
    with app.app_context():
        task_id = make_task(world)
        draw_id = prepare(world, task_id, sources=_source(known)).draw.id
        with pytest.raises(Conflict) as refused:
            execute(world, draw_id, values=("1 2 3",))
        db.session.rollback()
        message = refused.value.message
        # the refusal names the time awaited and what the server's clock says, Beijing time
        assert to_local(known).strftime("%Y-%m-%d %H:%M:%S") in message
        assert to_local(_now()).strftime("%Y-%m-%d") in message
        assert refused.value.status == 409 and "sources" in refused.value.fields
        assert db.session.get(Draw, draw_id).status == "prepared"

        _later(monkeypatch, known + timedelta(minutes=20))
        execute(world, draw_id, values=("5 0 8",))
        draw = db.session.get(Draw, draw_id)
        assert draw.status == "executed"
        entered = draw.record["execution"]["sources_entered"]
        assert entered == [{"entered_at": draw.record["execution"]["executed_at"],
                            "entered_by": "office"}]
        assert datetime.fromisoformat(entered[0]["entered_at"]) >= known
        assert commitments.verify_draw(draw) == []
        # who entered them, by account, is in the audit trail (not on the public record)
        audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "draw.execute",
                                                           AuditEntry.object_id == str(draw_id)))
        assert audit is not None and audit.actor_id == world.office_id


def test_at_the_very_time_is_accepted(app, world, monkeypatch):
    known = _now() + timedelta(days=1)
    with app.app_context():
        draw_id = prepare(world, make_task(world), sources=_source(known)).draw.id
        _later(monkeypatch, known)
        assert execute(world, draw_id).status == "executed"


def test_the_latest_of_several_sources_decides(app, world, monkeypatch):
    first, last = _now() + timedelta(hours=1), _now() + timedelta(hours=2)
    sources = [{"name": "上证综合指数收盘点位", "available_at": _at(first)},
               {"name": "中国福利彩票3D 开奖号码", "available_at": _at(last)}]
    with app.app_context():
        draw_id = prepare(world, make_task(world), sources=sources).draw.id
        _later(monkeypatch, first + timedelta(minutes=5))      # the first is known, not both
        with pytest.raises(Conflict) as refused:
            execute(world, draw_id, values=("3345.67", "5 0 8"))
        assert to_local(last).strftime("%Y-%m-%d %H:%M:%S") in refused.value.message
        db.session.rollback()
        _later(monkeypatch, last + timedelta(seconds=1))
        assert execute(world, draw_id, values=("3345.67", "5 0 8")).status == "executed"


@pytest.mark.parametrize("given", [
    "2099-12-03 21:15", "2099-12-03T21:15", "２０９９-12-03 21:15", "2099-12-03T13:15:00Z",
    "2099-12-03T21:15:00+08:00", datetime(2099, 12, 3, 13, 15, tzinfo=timezone.utc)])
def test_each_source_says_when_in_beijing_time(app, given):
    """Typed without a zone it is Beijing time; kept with its offset."""
    with app.app_context():
        cleaned = entropy.clean_sources(EntropyMode.PUBLIC, [{"name": "3D", "available_at": given}])
    assert cleaned == [{"name": "3D", "available_at": "2099-12-03T21:15:00+08:00"}]


def test_a_source_known_already_is_refused_at_the_commitment(app, world):
    """A value known when the draw is committed lets whoever commits choose the secrets that
    give the list they want: the source must become known after the commitment."""
    yesterday = _now() - timedelta(days=1)
    with app.app_context():
        task_id = make_task(world)
        with pytest.raises(ValidationFailed) as refused:
            prepare(world, task_id, sources=_source(yesterday))
        assert "known already" in refused.value.message or "已" in refused.value.message
        assert to_local(yesterday).strftime("%Y-%m-%d %H:%M:%S") in refused.value.message


@pytest.mark.parametrize("given", ["", "tomorrow evening", "2026-13-03 21:15"])
def test_a_source_without_a_readable_time_is_refused(app, given):
    with app.app_context(), pytest.raises(ValidationFailed) as refused:
        entropy.clean_sources(EntropyMode.PUBLIC, [{"name": "3D", "available_at": given}])
    assert "sources" in refused.value.fields


def test_the_api_requires_the_time_and_answers_409_before_it(app, world, login_as):
    with app.app_context():
        task_id = make_task(world)
    c = login_as("office")
    body = {"task_id": task_id, "mode": "public", "sources": [{"name": "3D 第2026321期"}],
            "secrets": secret_specs()}
    missing = c.api("POST", "/api/v1/draws", json=body)
    assert missing.status_code == 422
    assert "available_at" in json.dumps(missing.get_json()["error"]["fields"])
    body["sources"][0]["available_at"] = "2026-12-03T21:15:00"          # no offset
    assert c.api("POST", "/api/v1/draws", json=body).status_code == 422
    known = _now() + timedelta(hours=3)
    body["sources"][0]["available_at"] = _at(known)
    prepared = c.api("POST", "/api/v1/draws", json=body)
    assert prepared.status_code == 201, prepared.get_json()
    draw = prepared.get_json()["draw"]
    assert draw["commitment"]["sources_declared"] == [
        {"name": "3D 第2026321期", "available_at": _at(known)}]
    early = c.api("POST", f"/api/v1/draws/{draw['id']}/execute",
                  json={"sources": ["1 2 3"], "secrets": SECRETS})
    assert early.status_code == 409
    assert to_local(known).strftime("%Y-%m-%d %H:%M:%S") in early.get_json()["error"]["message"]
    page = c.get(f"/draws/{draw['id']}/execute").get_data(as_text=True)
    assert 'id="time-lock"' in page and to_local(known).strftime("%Y-%m-%d %H:%M:%S") in page


# --- the verifier --------------------------------------------------------------------------------

@pytest.fixture
def executed(app, world):
    """A draw executed after its source's time: (record, pool files by name)."""
    with app.app_context():
        draw = prepare(world, make_task(world)).draw
        draw = execute(world, draw.id)
        pools = {p.name: commitments.pool_bytes(draw, p) for p in draw.pools}
        return json.loads(json.dumps(draw.record)), pools


def _problems(record, pools):
    return verify.verify(record, pools)


def test_the_verifier_fails_a_record_executed_before_a_declared_time(executed, tmp_path):
    record, pools = executed
    assert _problems(record, pools) == []
    executed_at = datetime.fromisoformat(record["execution"]["executed_at"])
    late = (executed_at + timedelta(hours=2)).isoformat(timespec="seconds")
    record["commitment"]["sources_declared"][0]["available_at"] = late
    problems = _problems(record, pools)
    assert any("execution.executed_at" in p and "before" in p and late in p for p in problems)
    assert any("sources_entered[1].entered_at" in p for p in problems)
    # the standalone verifier says so too (and exits 1)
    (tmp_path / "record.json").write_text(json.dumps(record), encoding="utf-8")
    args = [str(tmp_path / "record.json")]
    for name, data in pools.items():
        (tmp_path / f"{name}.txt").write_bytes(data)
        args.append(f"{name}={tmp_path / f'{name}.txt'}")
    result = subprocess.run([sys.executable, "-I", "-S", f"{ENGINE}/verify.py", *args],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "FAILED" in result.stdout, result.stdout + result.stderr
    assert "before it was known" in result.stdout


def test_the_verifier_fails_a_value_entered_before_its_time(executed):
    record, pools = executed
    known = record["commitment"]["sources_declared"][0]["available_at"]
    early = (datetime.fromisoformat(known) - timedelta(minutes=1)).isoformat(timespec="seconds")
    record["execution"]["sources_entered"][0]["entered_at"] = early
    problems = _problems(record, pools)
    assert problems and all("sources_entered[1].entered_at" in p for p in problems)
    assert "before" in problems[0]


def test_the_verifier_fails_a_source_known_when_the_draw_was_committed(executed):
    record, pools = executed
    committed = datetime.fromisoformat(record["commitment"]["committed_at"])
    early = (committed - timedelta(minutes=1)).isoformat(timespec="seconds")
    record["commitment"]["sources_declared"][0]["available_at"] = early
    assert any("known when the draw was committed" in p for p in _problems(record, pools))


def test_the_verifier_fails_a_public_record_without_times(executed):
    original, pools = executed
    record = copy.deepcopy(original)
    del record["commitment"]["sources_declared"][0]["available_at"]
    assert any("no available_at" in p for p in _problems(record, pools))
    record = copy.deepcopy(original)
    del record["execution"]["sources_entered"]
    assert any("sources_entered" in p for p in _problems(record, pools))


# --- what the public reads -----------------------------------------------------------------------

def test_the_public_page_says_what_the_result_rests_on(app, world, client):
    with app.app_context():
        draw = execute(world, prepare(world, make_task(world)).draw.id)
        public, known = draw.public_id, draw.commitment["sources_declared"][0]["available_at"]
        secrets_only = execute(world, prepare(world, make_task(world, name="第二项"),
                                              mode="secrets").draw.id, values=()).public_id
    page = client.get(f"/public/draws/{public}").get_data(as_text=True)
    assert 'id="trust-public"' in page and 'id="trust-secrets"' not in page
    assert known[:19].replace("T", " ") in page            # when the source was known
    page = client.get(f"/public/draws/{secrets_only}").get_data(as_text=True)
    assert 'id="trust-secrets"' in page and 'id="trust-public"' not in page


def test_the_demo_source_is_published_after_the_commitment_then_used(monkeypatch):
    CLOCK.real_time(monkeypatch)              # the demo really waits, outside the tests
    before = datetime.now(timezone.utc)
    source = demo_source()
    known = datetime.fromisoformat(source["available_at"])
    assert before < known <= before + timedelta(seconds=3) and "演示" in source["name"]
    value = demo_value(source)                 # given once its time has passed
    assert datetime.now(timezone.utc) >= known and len(value.split()) == 3
