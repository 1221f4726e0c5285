"""My visits and the visit pack for offline use."""
from field_support import new_key, record, setup


def test_my_field_visits_are_those_of_my_teams(app, department, login_as):
    client, field = setup(app, department, login_as)
    visits = client.get("/api/v1/field/visits").get_json()
    mine = client.get("/api/v1/my/visits").get_json()
    assert {v["number"] for v in visits} == {v["number"] for v in mine}
    assert field.mine in {v["number"] for v in visits}
    assert not set(field.others) & {v["number"] for v in visits}
    first = next(v for v in visits if v["number"] == field.mine)
    assert first["employer"]["credit_code"] and first["window"] == ["2026-04-01", "2026-06-30"]
    assert first["items"] == [{"code": field.item, "name": first["items"][0]["name"]}]
    assert sum(m["is_me"] for m in first["team"]) == 1
    assert first["announced"] is True and first["tasks"][0]["name"]
    assert len(first["pack_etag"]) == 64


def test_the_pack_has_everything_for_offline_and_an_etag(app, department, login_as):
    client, field = setup(app, department, login_as)
    response = client.get(f"/api/v1/field/visits/{field.mine}/pack")
    assert response.status_code == 200
    pack = response.get_json()
    etag = response.headers["ETag"].strip('"')
    listed = next(v for v in client.get("/api/v1/field/visits").get_json()
                  if v["number"] == field.mine)
    assert listed["pack_etag"] == etag
    assert pack["visit"]["number"] == field.mine
    assert pack["employer"]["name"] == listed["employer"]["name"]
    [item] = pack["items"]
    assert item["code"] == field.item and item["legal_basis"]
    assert [q["code"] for q in item["questions"]] == field.questions
    assert {"text", "legal_basis", "evidence_hint"} <= set(item["questions"][0])
    categories = {c["code"]: c["label"] for c in pack["result_categories"]}
    assert len(categories) == 10 and categories["no_problem"] == "未发现问题"
    assert categories["pending_follow_up"] == "发现问题待后续处理"
    assert pack["category_rules"]["no_problem"]["forbid"] == ["non_compliant"]
    assert pack["settings"] == {"keep_originals": False, "max_photo_bytes": 15 * 1024 * 1024}
    assert pack["notice_text"] and pack["team"] and pack["previous"] == []
    assert pack["generated_at"].endswith("Z")
    # unchanged: 304 with the same ETag; the pack changes when the visit does
    again = client.get(f"/api/v1/field/visits/{field.mine}/pack",
                       headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    assert client.api("PUT", f"/api/v1/field/records/{new_key()}",
                      json=record(field)).status_code == 201
    changed = client.get(f"/api/v1/field/visits/{field.mine}/pack",
                         headers={"If-None-Match": response.headers["ETag"]})
    assert changed.status_code == 200
    assert changed.get_json()["visit"]["status"] == "in_progress"


def test_the_field_api_is_in_the_openapi_description(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path, method in (("/api/v1/field/visits", "get"),
                         ("/api/v1/field/visits/{number}/pack", "get"),
                         ("/api/v1/field/visits/{number}/record", "get"),
                         ("/api/v1/field/records/{key}", "put"),
                         ("/api/v1/field/photos/{key}", "put")):
        assert method in paths[path], path
    body = paths["/api/v1/field/photos/{key}"]["put"]["requestBody"]["content"]
    assert "image/jpeg" in body
