"""Sealing (issue 6): the canonical JSON and the two hashes, the documented test vector in
Python and in the phone's static/field/seal.js (run by Node), and the server's checks of
sealed revisions and corrections over HTTP."""
import json
import random
import re
import struct

import pytest
from sqlalchemy import func, select

from inspection.extensions import db
from inspection.fieldwork import seal
from inspection.fieldwork.models import RecordRevision, Visit

from field_support import jpeg, new_key, photo_ref, put_photo, record, setup
from seal_support import node as _node
from seal_support import (inspector, put_record, put_signature, ref, representative, sign,
                          signature_body, strokes, team_users)


def _vector(project_root):
    text = (project_root / "docs" / "field-sync.md").read_text(encoding="utf-8")
    body = re.search(r"```json seal-vector\n(.*?)```", text, re.S).group(1)
    canonical = re.search(r"```text seal-vector-canonical\n(.*?)```", text, re.S).group(1)
    lines = canonical.strip().split("\n")
    return (body, lines[0], lines[1].split(": ")[1], lines[2].split(": ")[1])


# --- canonical JSON ---------------------------------------------------------------------------

@pytest.mark.parametrize("value, text", [
    (1, "1"), (12.0, "12"), (-0.0, "0"), (1.5, "1.5"), (0.1, "0.1"), (1e21, "1e+21"),
    (1e20, "100000000000000000000"), (1e-7, "1e-7"), (0.000001, "0.000001"),
    (123.456e-10, "1.23456e-8"), (-2.5e30, "-2.5e+30"), (5e-324, "5e-324"),
    (2 ** 53 - 1, "9007199254740991"), (True, "true"), (None, "null"),
    ("a\"b\\c\n\t\u0001\u007f中", '"a\\"b\\\\c\\n\\t\\u0001\u007f中"'),
    ({"b": 1, "a": [2, {"d": None, "c": "x"}]}, '{"a":[2,{"c":"x","d":null}],"b":1}'),
    ({"ﬀ": 3, "😀": 2, "é": 1}, '{"é":1,"😀":2,"ﬀ":3}'),   # UTF-16 order, not code points
])
def test_canonical_json_is_rfc_8785(value, text):
    assert seal.canonical(value) == text.encode("utf-8")


#: RFC 8785 appendix B: IEEE 754 doubles (bit patterns) and how JCS writes them.
RFC_8785_NUMBERS = [
    (0x0000000000000000, "0"), (0x8000000000000000, "0"), (0x0000000000000001, "5e-324"),
    (0x8000000000000001, "-5e-324"), (0x7fefffffffffffff, "1.7976931348623157e+308"),
    (0xffefffffffffffff, "-1.7976931348623157e+308"), (0x4340000000000000, "9007199254740992"),
    (0xc340000000000000, "-9007199254740992"), (0x4430000000000000, "295147905179352830000"),
    (0x44b52d02c7e14af5, "9.999999999999997e+22"), (0x44b52d02c7e14af6, "1e+23"),
    (0x44b52d02c7e14af7, "1.0000000000000001e+23"), (0x444b1ae4d6e2ef4e, "999999999999999700000"),
    (0x444b1ae4d6e2ef4f, "999999999999999900000"), (0x444b1ae4d6e2ef50, "1e+21"),
    (0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"), (0x3eb0c6f7a0b5ed8d, "0.000001"),
    (0x41b3de4355555553, "333333333.3333332"), (0x41b3de4355555554, "333333333.33333325"),
    (0x41b3de4355555555, "333333333.3333333"), (0x41b3de4355555556, "333333333.3333334"),
    (0x41b3de4355555557, "333333333.33333343"),
    (0xbecbf647612f3696, "-0.0000033333333333333333"), (0x43143ff3c1cb0959, "1424953923781206.2"),
]


def _double(bits: int) -> float:
    return struct.unpack(">d", bits.to_bytes(8, "big"))[0]


@pytest.mark.parametrize("bits, text", RFC_8785_NUMBERS)
def test_numbers_as_rfc_8785_writes_them(bits, text):
    assert seal.canonical(_double(bits)) == text.encode("ascii")


@pytest.mark.parametrize("value", [2 ** 53, -2 ** 53, float("nan"), float("inf"), "\ud800",
                                   ["ok", "\udfff"], {"\udc00": 1}, {"a": 1, "\ud800x": 2},
                                   {1: "x"}, {"a": 1, 2: "b"}, b"bytes", {"a": {1, 2}},
                                   _double(0x7fffffffffffffff), _double(0x7ff0000000000000)])
def test_values_that_cannot_be_sealed_are_refused(value):
    with pytest.raises(seal.NotCanonical):
        seal.canonical(value)


def test_what_the_hashes_cover():
    body = {"record_id": "r", "revision": 3, "saved_at": "t1", "answers": [], "seal": "s",
            "signatures": [{"uuid": "u", "signs": "c"}]}
    content, sealed = seal.content_hash(body), seal.seal_of(body)
    # bookkeeping and the seal itself are outside both
    same = dict(body, revision=9, saved_at="t2", seal="other")
    assert (seal.content_hash(same), seal.seal_of(same)) == (content, sealed)
    # the signatures' entries are in the seal, not in the content
    resigned = dict(body, signatures=[{"uuid": "u", "signs": "c", "png_sha256": "p"}])
    assert seal.content_hash(resigned) == content and seal.seal_of(resigned) != sealed
    # any content is in both, unknown keys included
    for changed in (dict(body, answers=[{"note": "x"}]), dict(body, extra=None)):
        assert seal.content_hash(changed) != content and seal.seal_of(changed) != sealed
    assert seal.canonical_record(body) == seal.canonical(
        {"record_id": "r", "answers": [], "signatures": body["signatures"]})


def test_the_documented_vector(project_root):
    text, canonical, content, sealed = _vector(project_root)
    body = json.loads(text)
    assert seal.canonical_content(body).decode() == canonical
    assert seal.content_hash(body) == content == body["signatures"][0]["signs"]
    assert seal.seal_of(body) == sealed == body["seal"]
    assert seal.seal_problems(body) == {}


def test_the_phone_computes_the_same_hashes(project_root, tmp_path):
    text, canonical, content, sealed = _vector(project_root)
    vector = tmp_path / "vector.json"
    vector.write_text(text, encoding="utf-8")
    extra = [{"ﬀ": 3, "😀": 2, "é": 1, "z": [1e21, 1e-7, 0.5, -0.0, 3.0, 1e300, 2.5e-9]},
             {"s": "a\"b\\c\n\t\u0001\u007f\u2028中", "n": None, "t": True, "e": [], "o": {}}]
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps(extra, ensure_ascii=False), encoding="utf-8")
    script = """
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
const seal = await import(pathToFileURL(process.argv[1]).href);
const body = JSON.parse(readFileSync(process.argv[2], "utf8"));
const cases = JSON.parse(readFileSync(process.argv[3], "utf8"));
const sealed = await seal.seal({ ...body, seal: null });
const voided = { ...body, answers: [{ ...body.answers[0], note: "changed" }] };
console.log(JSON.stringify({
  canonical: seal.canonicalContent(body),
  content: await seal.contentHash(body),
  seal: await seal.sealOf(body),
  resealed: sealed.seal,
  valid: (await seal.validSignatures(body)).length,
  voided: (await seal.validSignatures(voided)).length,
  cases: cases.map((c) => seal.canonicalize(c)),
}));
"""
    out = json.loads(_node(project_root, script, str(project_root / "static/field/seal.js"),
                           str(vector), str(cases)))
    assert out["canonical"] == canonical
    assert out["content"] == content and out["seal"] == sealed == out["resealed"]
    assert out["valid"] == 1 and out["voided"] == 0
    assert out["cases"] == [seal.canonical(c).decode() for c in extra]


def test_the_phone_writes_numbers_and_text_as_the_server(project_root, tmp_path):
    """The phone's canonical JSON (the vendored ``canonicalize``, also with the fallback for
    browsers without ``String.prototype.isWellFormed``) against the server's, on RFC 8785's
    numbers, random doubles of every magnitude and every BMP character; text with a lone
    surrogate is refused on both sides."""
    rng = random.Random(8785)
    bits = [b for b, _text in RFC_8785_NUMBERS]
    bits += [rng.getrandbits(64) for _ in range(20000)]
    bits = [b for b in bits if (b >> 52) & 0x7ff != 0x7ff]       # no NaN, no infinity
    texts = ["".join(chr(c) for c in range(start, start + 256) if not 0xd800 <= c <= 0xdfff)
             for start in range(0, 0x10000, 256)] + ["😀ﬀ\u2028\u2029\U0001f600\x7f"]
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps({"bits": [f"{b:016x}" for b in bits], "texts": texts}),
                     encoding="utf-8")
    script = """
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
const native = String.prototype.isWellFormed;
delete String.prototype.isWellFormed;          // seal.js installs its fallback ...
const seal = await import(pathToFileURL(process.argv[1]).href);
const fallback = String.prototype.isWellFormed;
const { bits, texts } = JSON.parse(readFileSync(process.argv[2], "utf8"));
const view = new DataView(new ArrayBuffer(8));
const numbers = bits.map((hex) => { view.setBigUint64(0, BigInt("0x" + hex)); return view.getFloat64(0); });
const refuses = (v) => { try { seal.canonicalize(v); return false; } catch { return true; } };
const run = () => ({
  numbers: seal.canonicalize(numbers),
  texts: seal.canonicalize(Object.fromEntries(texts.map((t, i) => [t, [i, t]]))),
  refused: [refuses("a\\ud800"), refuses(["\\udc00b"]), refuses({ "\\ud800": 1 }), refuses("\\ud83d\\ude00")],
});
const withFallback = run();
String.prototype.isWellFormed = native;        // ... and the native method gives the same
const withNative = run();
console.log(JSON.stringify({ fallback: fallback !== native, same: JSON.stringify(withFallback) === JSON.stringify(withNative), ...withNative }));
"""
    out = json.loads(_node(project_root, script, str(project_root / "static/field/seal.js"),
                           str(cases)))
    assert out["fallback"] and out["same"]
    assert out["numbers"] == seal.canonical([_double(b) for b in bits]).decode()
    assert out["texts"] == seal.canonical({t: [i, t] for i, t in enumerate(texts)}).decode()
    assert out["refused"] == [True, True, True, False]


# --- the server's checks ----------------------------------------------------------------------

def _sealed_setup(app, department, login_as):
    client, field = setup(app, department, login_as)
    team = team_users(app, field, login_as)
    return client, field, team


def _signers(team):
    return [inspector(team[0]), inspector(team[1]), representative()]


def _count(app, **where):
    with app.app_context():
        query = select(func.count()).select_from(RecordRevision)
        for key, value in where.items():
            query = query.where(getattr(RecordRevision, key) == value)
        return db.session.scalar(query)


def test_a_signed_and_sealed_record_is_stored(app, department, login_as):
    client, field, team = _sealed_setup(app, department, login_as)
    body = sign(client, record(field, category="no_problem"), _signers(team))
    response = put_record(client, body)
    assert response.status_code == 201, response.get_json()
    receipt = response.get_json()
    assert receipt["seal"] == seal.seal_of(body) and receipt["missing_signatures"] == []
    state = client.get(f"/api/v1/field/visits/{field.mine}/record").get_json()
    assert state["seal"] == body["seal"] and state["complete"] is True
    assert state["sealed_revision_uuid"] == receipt["key"]
    with app.app_context():
        visit = db.session.scalar(select(Visit).where(Visit.number == field.mine))
        assert visit.status == "recorded"
        row = db.session.scalar(select(RecordRevision))
        assert row.seal == body["seal"] and seal.seal_of(row.body) == row.seal


def test_signatures_may_arrive_after_the_record(app, department, login_as):
    client, field, team = _sealed_setup(app, department, login_as)
    body = record(field, category="no_problem")
    content = seal.content_hash(body)
    uploads = {new_key(): signature_body(field.mine, s, content, strokes(start=40 + n))
               for n, s in enumerate(_signers(team))}
    signed = dict(body, signatures=[ref(k, u) for k, u in uploads.items()])
    signed["seal"] = seal.seal_of(signed)
    receipt = put_record(client, signed).get_json()
    assert sorted(receipt["missing_signatures"]) == sorted(uploads)
    assert client.get(f"/api/v1/field/visits/{field.mine}/record").get_json()[
        "complete"] is False
    for key, upload in uploads.items():
        assert put_signature(client, key, upload).status_code == 201
    state = client.get(f"/api/v1/field/visits/{field.mine}/record").get_json()
    assert state["missing_signatures"] == [] and state["complete"] is True
    # a listed key cannot be filled with another signature later
    key = next(iter(uploads))
    other = signature_body(field.mine, representative("冒名"), content)
    assert put_signature(client, key, other).status_code == 409


def test_a_tampered_sealed_record_is_refused(app, department, login_as):
    client, field, team = _sealed_setup(app, department, login_as)
    body = sign(client, record(field, category="no_problem"), _signers(team))
    tampered = json.loads(json.dumps(body))
    tampered["answers"][0]["note"] = "added after signing"
    response = put_record(client, tampered)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert "seal" in error["fields"] and "signatures.0.signs" in error["fields"]
    assert "seal" in error["message"].lower() or "封" in error["message"]
    # a forged seal over the changed content still leaves the signatures on the old content
    tampered["seal"] = seal.seal_of(tampered)
    error = put_record(client, tampered).get_json()["error"]
    assert "seal" not in error["fields"]
    assert {f"signatures.{n}.signs" for n in range(3)} <= set(error["fields"])
    # a seal that is not the seal of this body at all
    assert "seal" in put_record(client, dict(body, seal="0" * 64)).get_json()["error"]["fields"]
    assert _count(app) == 0


def test_a_change_after_signing_voids_the_signatures_until_signed_again(app, department,
                                                                       login_as):
    client, field, team = _sealed_setup(app, department, login_as)
    record_id = new_key()
    first = sign(client, record(field, record_id=record_id, category="no_problem"),
                 _signers(team))
    changed = dict(first, answers=[dict(first["answers"][0], answer="not_applicable")])
    changed.pop("seal")
    changed["seal"] = seal.seal_of(changed)          # sealed again, signatures kept
    error = put_record(client, changed).get_json()["error"]
    assert "signatures.0.signs" in error["fields"]
    # the phone sends the change unsealed, then everybody signs again
    unsealed = dict(changed, revision=2, signatures=[], seal=None)
    assert put_record(client, unsealed).status_code == 201
    resigned = sign(client, dict(unsealed, revision=3), _signers(team))
    assert put_record(client, resigned).status_code == 201
    assert _count(app, record_id=record_id) == 2


def test_a_sealed_record_is_append_only(app, department, login_as):
    client, field, team = _sealed_setup(app, department, login_as)
    record_id, key = new_key(), new_key()
    sealed = sign(client, record(field, record_id=record_id, category="no_problem"),
                  _signers(team))
    assert put_record(client, sealed, key).status_code == 201
    # an unsealed overwrite is refused
    overwrite = record(field, record_id=record_id, revision=2, category="no_problem")
    error = put_record(client, overwrite).get_json()["error"]
    assert "corrects" in error["fields"]
    # so is a sealed one that does not say what it corrects
    resealed = sign(client, record(field, record_id=record_id, revision=2), _signers(team))
    assert "corrects" in put_record(client, resealed).get_json()["error"]["fields"]
    # a correction names the sealed revision and says why
    wrong = dict(overwrite, corrects=new_key(), correction_reason="typo")
    assert "corrects" in put_record(client, wrong).get_json()["error"]["fields"]
    no_reason = dict(overwrite, corrects=key)
    assert "correction_reason" in put_record(client, no_reason).get_json()["error"]["fields"]
    draft = dict(overwrite, corrects=key, correction_reason="笔误：题目答错")
    assert put_record(client, draft).status_code == 201
    correction = sign(client, dict(draft, revision=3), _signers(team))
    assert put_record(client, correction).status_code == 201
    # the original stays as it was; replaying it answers its stored receipt
    assert put_record(client, sealed, key).status_code == 200
    with app.app_context():
        rows = db.session.scalars(select(RecordRevision).where(
            RecordRevision.record_id == record_id).order_by(RecordRevision.revision)).all()
        assert [r.revision for r in rows] == [1, 2, 3]
        assert rows[0].seal == sealed["seal"] and rows[0].body["answers"] == sealed["answers"]
        assert rows[2].corrects == key and rows[2].seal == correction["seal"]
    # the next correction corrects the sealed correction, not the original
    later = dict(draft, revision=4, corrects=key)
    assert "corrects" in put_record(client, later).get_json()["error"]["fields"]
    # an older save arriving late is kept (it does not become the record)
    assert _count(app, record_id=record_id) == 3
    state = client.get(f"/api/v1/field/visits/{field.mine}/record").get_json()
    assert state["sealed_revision_uuid"] != key and state["seal"] == correction["seal"]


def test_who_signs_a_sealed_record(app, department, login_as):
    client, field, team = _sealed_setup(app, department, login_as)
    base = record(field, category="no_problem")

    def fields_of(signers, body=base):
        response = put_record(client, sign(client, body, signers))
        assert response.status_code == 422, response.get_json()
        return response.get_json()["error"]["fields"]

    assert "signatures" in fields_of([inspector(team[0]), representative()])      # one
    assert "signatures.1.signer.user_id" in fields_of(
        [inspector(team[0]), inspector(team[0]), inspector(team[1]), representative()])
    assert "signatures" in fields_of([inspector(team[0]), inspector(team[1])])    # no rep
    assert "signatures.3.signer" in fields_of(_signers(team) + [representative("另一人")])
    assert "signatures.2.signer" in fields_of(_signers(team)[:2] + [
        {"kind": "witness", "name": "路人"}])
    delegate = representative("张助理", "delegate")
    assert "signatures.2.signer.role" in fields_of(_signers(team)[:2] + [delegate])
    assert "result_category" in fields_of(_signers(team), record(field))
    # a delegate with the authorisation photographed signs
    data = jpeg(seed=7)
    key = new_key()
    assert put_photo(client, key, data, field.mine).status_code == 201
    authorised = record(field, category="no_problem",
                        photos=[dict(photo_ref(key, data), authorisation=True)])
    response = put_record(client, sign(client, authorised, _signers(team)[:2] + [delegate]))
    assert response.status_code == 201, response.get_json()


def test_a_listed_signature_must_be_the_uploaded_one(app, department, login_as):
    client, field, team = _sealed_setup(app, department, login_as)
    body = sign(client, record(field, category="no_problem"), _signers(team))
    forged = json.loads(json.dumps(body))
    forged["signatures"][2]["png_sha256"] = "e" * 64        # another image than uploaded
    forged["seal"] = seal.seal_of(forged)
    error = put_record(client, forged).get_json()["error"]
    assert "signatures.2" in error["fields"]
