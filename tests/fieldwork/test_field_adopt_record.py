"""A record adopted from the server (docs/field-sync.md "A record made on another device"), in
the phone's own code (static/field/record.js, run by Node): the phone's copy of a sealed body
gives back the same content and seal as the server computes, and its correction goes on from
the server's revision, names the sealed revision and lists the photos that only the server
holds exactly as the server listed them."""
from __future__ import annotations

import json
import re
import subprocess

from inspection.fieldwork import seal

NODE = "/usr/bin/node"
KEY = "5d3c1e2a-7b6f-4a1d-9e8c-0f1a2b3c4d5e"

SCRIPT = """
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
const record = await import(pathToFileURL(process.argv[1]).href);
const sealjs = await import(pathToFileURL(process.argv[2]).href);
const state = JSON.parse(readFileSync(process.argv[3], "utf8"));
const adopted = record.recordFromServer(state);
const photos = record.remotePhotos(state.body);
const again = record.revisionBody(adopted, photos);
const sealedCopy = { ...adopted };
// the start of a correction (sign.js startCorrection), then its first save (saveRecord)
Object.assign(adopted, { signatures: [], seal: null, corrects: adopted.sealed_key, correction_reason: "按审核意见更正。" });
adopted.revision += 1;
const correction = record.revisionBody(adopted, photos);
console.log(JSON.stringify({
  content: sealjs.canonicalContent(again),
  seal: await sealjs.sealOf(again),
  sealed: { key: sealedCopy.sealed_key, revision: sealedCopy.revision, record_id: sealedCopy.record_id,
            representative: sealedCopy.representative, adopted: sealedCopy.adopted },
  photos: photos.map((p) => ({ uuid: p.uuid, remote: p.remote, receipt: !!p.receipt, data: p.data })),
  correction,
}));
"""


def _vector_body(project_root) -> dict:
    text = (project_root / "docs" / "field-sync.md").read_text(encoding="utf-8")
    body = json.loads(re.search(r"```json seal-vector\n(.*?)```", text, re.S).group(1))
    del body["extra"]  # keys the phone does not know are not kept by its copy
    body["photos"].append({"uuid": "7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d", "sha256": "ab" * 32,
                           "original_sha256": None, "question": None, "document_copy": True,
                           "taken_at": "2026-04-02T10:05:00+08:00", "bytes": 1200,
                           "authorisation": True})
    content = seal.content_hash(body)
    for entry in body["signatures"]:
        entry["signs"] = content
    body["seal"] = seal.seal_of(body)
    return body


def test_the_phone_adopts_a_sealed_record_and_corrects_it(project_root, tmp_path):
    body = _vector_body(project_root)
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"revision_uuid": KEY, "sealed_revision_uuid": KEY,
                                 "received_at": "2026-04-02T03:20:00.000Z", "body": body},
                                ensure_ascii=False), encoding="utf-8")
    result = subprocess.run(
        [NODE, "--input-type=module", "-e", SCRIPT, str(project_root / "static/field/record.js"),
         str(project_root / "static/field/seal.js"), str(state)],
        capture_output=True, text=True, timeout=60, cwd=project_root)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    # the phone's copy is the server's record: the same content, signatures and seal
    assert out["content"] == seal.canonical_content(body).decode()
    assert out["seal"] == body["seal"]
    assert out["sealed"]["key"] == KEY and out["sealed"]["revision"] == body["revision"]
    assert out["sealed"]["record_id"] == body["record_id"]
    assert out["sealed"]["representative"] == {"name": "王经理", "role": "legal_representative"}
    assert out["sealed"]["adopted"]["key"] == KEY and out["sealed"]["adopted"]["sealed"] is True
    # its photos are on the server only: listed, never to be uploaded or deleted
    assert [p["uuid"] for p in out["photos"]] == [p["uuid"] for p in body["photos"]]
    assert all(p["remote"] and p["receipt"] and p["data"] is None for p in out["photos"])
    # the correction: the next revision of the same record, naming the sealed one, same photos
    correction = out["correction"]
    assert correction["record_id"] == body["record_id"]
    assert correction["revision"] == body["revision"] + 1
    assert correction["corrects"] == KEY and correction["correction_reason"]
    assert correction["photos"] == body["photos"]
    assert correction["answers"] == body["answers"] and correction["arrival"] == body["arrival"]
    assert "seal" not in correction and "signatures" not in correction
