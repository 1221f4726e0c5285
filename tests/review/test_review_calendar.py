"""A deadline that falls in a year with no working-day calendar (2027: chinesecalendar ends
with 2026 and the bureau has not entered it) is shown as "calendar for 2027 missing", never
counted on weekends alone. No clock is frozen: the check's date is in the record."""
from __future__ import annotations

from datetime import date

from inspection.core.workdays import deadline_info
from inspection.review import operations as ops

from test_review_support import DUE, bureau, settings, user

MISSING = "缺少 2027 年工作日历"


def test_deadline_info_names_the_missing_year(app):
    with app.app_context():
        assert deadline_info(date(2026, 12, 28), 5) == {"deadline": None, "missing_year": 2027}
        assert deadline_info(date(2026, 12, 1), 5)["deadline"] == date(2026, 12, 8)


def test_deadlines_in_2027_read_calendar_missing(app, department, login_as):
    arrival = {"at": "2026-12-28T09:30:00+08:00",
               "location": {"lat": 36.81, "lon": 118.05, "accuracy": 12.5}}
    with settings(app, PUBLICATION_CLOCK="check_end", PUBLICATION_WORKDAYS=20):
        s, office, approver, _principal = bureau(app, department, login_as, arrival=arrival)
        # the review is due 5 working days after the check (28 Dec 2026): in 2027
        item = office.get("/api/v1/review/queue").get_json()["items"][0]
        assert item["check_date"] == "2026-12-28"
        assert item["review_due"] == {"deadline": None, "missing_year": 2027}
        assert MISSING in office.get("/review/").get_data(as_text=True)
        office.http.set_cookie("lang", "en")
        assert "Calendar for 2027 missing" in office.get("/review/").get_data(as_text=True)
        office.http.delete_cookie("lang")

        with app.test_request_context():
            det = ops.propose_determination(s.visit, "rectification_ordered", [
                {"item": s.field.item, "question": s.field.questions[0], "finding": "x",
                 "handling": "rectification_order", "due": DUE}], actor=user("office1"))
            ops.decide_determination(det.id, True, actor=user("approver1"))
        state = office.get(f"/api/v1/review/visits/{s.visit}").get_json()
        publication = state["publication"]
        assert publication["clock"] == "check_end" and publication["clock_start"] == "2026-12-28"
        assert publication["deadline"] is None and publication["deadline_year"] == 2027
        html = office.get(f"/review/visits/{s.visit}").get_data(as_text=True)
        assert MISSING in html
        # published: whether the deadline was met is unknown, not guessed
        assert office.api("POST", f"/api/v1/review/visits/{s.visit}/publish").get_json()[
            "on_time"] is None
