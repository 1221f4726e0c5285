"""The public results search's index (inspection/review/search_index.py): the bigrams of the
employer's name of every published result, kept by the database's triggers when a result is
published and when an employer is renamed; a search of two characters or more reads it; the
count of a search stops some pages ahead ("more than N")."""
from __future__ import annotations

from sqlalchemy import select

from inspection.directory.employers import operations as employers
from inspection.directory.models import Employer
from inspection.extensions import db
from inspection.fieldwork.models import Visit
from inspection.review import public as public_reader
from inspection.review import search_index
from inspection.review.models import PublicNameGram

from test_public_results import (PUBLISHED, _clean, _json, _numbers, _text,  # noqa: F401
                                 _user, world)


def _grams_of(number: str) -> set[str]:
    return set(db.session.scalars(select(PublicNameGram.gram).join(
        Visit, Visit.id == PublicNameGram.visit_id).where(Visit.number == number)))


def _unique_gram(w, key: str) -> str:
    """A bigram of ``key``'s employer name that no other published result's name has."""
    others = {g for k in PUBLISHED if k != key for g in search_index.grams(w.employers[k])}
    return next(g for g in search_index.grams(w.employers[key]) if g not in others)


def test_the_index_holds_the_names_of_the_published_results_only(world, app):
    w = world
    with app.app_context():
        for key in ("V0", "V1", "V2", "V3", "V4", "V5", "V6", "V7"):
            expected = set(search_index.grams(w.employers[key])) if key in PUBLISHED else set()
            assert _grams_of(w.numbers[key]) == expected, key
        published_at = dict(db.session.execute(
            select(PublicNameGram.visit_id, PublicNameGram.published_at).distinct()).all())
        assert len(published_at) == len(PUBLISHED)


def test_grams_fold_ascii_letters_and_put_common_words_last():
    assert search_index.grams("ABc") == ["ab", "bc"]
    assert search_index.grams("鑫") == [] and search_index.grams("") == []
    assert search_index.grams("有限公司鑫盛") == ["司鑫", "鑫盛", "有限", "限公", "公司"]


def test_a_two_character_search_and_a_renamed_employer(world, app, client):
    w = world
    gram = _unique_gram(w, "V2")
    assert _numbers(_json(client, "?q=" + gram)) == [w.numbers["V2"]]
    with app.app_context():
        employer = db.session.scalar(select(Employer).where(
            Employer.credit_code == w.codes["V2"]))
        employers.update_employer(employer, {"name": "临淄区鑫盛测试商行"},
                                  version=employer.version, actor=_user("office1"))
        db.session.commit()
        assert _grams_of(w.numbers["V2"]) == set(search_index.grams("临淄区鑫盛测试商行"))
    try:
        assert _numbers(_json(client, "?q=鑫盛")) == [w.numbers["V2"]]
        assert _numbers(_json(client, "?q=鑫盛测试商")) == [w.numbers["V2"]]
        assert _json(client, "?q=" + gram)["total"] == 0
        assert _json(client, "?q=盛鑫")["total"] == 0        # both bigrams' letters, not the words
        html = _text(client.get("/public/results?q=鑫盛"))
        assert "临淄区鑫盛测试商行" in html and w.employers["V3"] not in html
    finally:
        with app.app_context():
            employer = db.session.scalar(select(Employer).where(
                Employer.credit_code == w.codes["V2"]))
            employers.update_employer(employer, {"name": w.employers["V2"]},
                                      version=employer.version, actor=_user("office1"))
            db.session.commit()
    assert _numbers(_json(client, "?q=" + gram)) == [w.numbers["V2"]]
    assert _json(client, "?q=鑫盛")["total"] == 0


def test_the_count_stops_some_pages_ahead(world, client, monkeypatch):
    w = world
    monkeypatch.setattr(public_reader, "PER_PAGE", 1)
    monkeypatch.setattr(public_reader, "COUNT_PAGES", 2)
    first = _json(client)
    assert (first["total"], first["total_exact"], first["pages"]) == (2, False, 2)
    assert _numbers(first) == [w.numbers["V3"]]
    third = _json(client, "?page=3")                # counts two pages beyond the third
    assert (third["total"], third["total_exact"], third["pages"]) == (4, True, 4)
    assert _numbers(third) == [w.numbers["V1"]]
    html = _text(client.get("/public/results"))
    assert "超过 2 条" in html and 'rel="next"' in html
    monkeypatch.setattr(public_reader, "COUNT_PAGES", 4)
    exact = _json(client)
    assert (exact["total"], exact["total_exact"], exact["pages"]) == (4, True, 4)
    assert "共 4 条结果" in _text(client.get("/public/results"))
