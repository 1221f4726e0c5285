from datetime import datetime

from sqlalchemy import select

from inspection.core.bulk import _sqlite_literal, bulk_insert, text_column
from inspection.core.models import Department
from inspection.extensions import db


def _departments():
    return db.session.execute(select(Department.name, Department.code, Department.active,
                                     Department.created_at)
                              .order_by(Department.code)).all()


def test_rows_and_constants_are_written_as_given(ctx):
    at = datetime(2026, 4, 1, 8, 30, 15, 123456)
    rows = [("O'Brien 科", "B1"), ("劳动保障监察 'x' \"y\"", "B2"), ("--; DROP TABLE user", "B3")]
    bulk_insert(Department.__table__, ("name", "code"), rows,
                {"active": False, "created_at": at})
    bulk_insert(Department.__table__, ("name", "code", "created_at"), [("Varying", "B4", at)],
                {"active": True})
    assert _departments() == [("O'Brien 科", "B1", False, at),
                              ("劳动保障监察 'x' \"y\"", "B2", False, at),
                              ("--; DROP TABLE user", "B3", False, at),
                              ("Varying", "B4", True, at)]


def test_rows_may_be_any_iterable(ctx):
    bulk_insert(Department.__table__, ("name", "code"), zip(["A", "B"], ["C1", "C2"]),
                {"active": True, "created_at": datetime(2026, 1, 1)})
    bulk_insert(Department.__table__, ("name", "code"), [],
                {"active": True, "created_at": datetime(2026, 1, 1)})
    assert [r.code for r in _departments()] == ["C1", "C2"]


def test_sqlite_literals():
    assert _sqlite_literal(None) == "NULL"
    assert _sqlite_literal(True) == "1" and _sqlite_literal(0) == "0"
    assert _sqlite_literal(-12) == "-12"
    assert _sqlite_literal("it's") == "'it''s'"
    assert _sqlite_literal("a\x00b") is None          # bound as a parameter instead
    assert _sqlite_literal(1.5) is None and _sqlite_literal(b"x") is None


def test_codes_come_as_one_text_or_row_by_row(app, department):
    with app.app_context():
        query = select(Department.code).order_by(Department.code)
        before = text_column(query)
        db.session.add(Department(name="换行", code="ZZ\nA"))
        db.session.flush()
        codes = text_column(query)
        # a code holding a line feed would split in two: the rows are read one by one
        assert codes == [*before, "ZZ\nA"] and codes == list(db.session.scalars(query))
        assert text_column(query.where(Department.code == "none")) == []
        db.session.rollback()
