"""The feedback letter (检查结果告知书): a PDF with Chinese text (fonts embedded) and a QR code
to the public result page, decoded here with poppler (pdftotext, pdftoppm) and zbarimg."""
from __future__ import annotations

import subprocess

import pytest

from inspection.review import operations as ops

from test_review_support import DUE, sealed_problem, settings, user

# poppler-utils and zbar-tools are installed by `make browsers` (part of `make test`); a
# missing tool fails the test, it is never skipped.


def _text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "letter.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], check=True,
                          capture_output=True).stdout.decode()
    return "".join(text.split())  # lines wrap anywhere in Chinese text


def _qr(pdf: bytes, tmp_path) -> list[str]:
    path = tmp_path / "letter.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(path), str(tmp_path / "page")],
                   check=True)
    found = []
    for page in sorted(tmp_path.glob("page*.png")):
        result = subprocess.run(["zbarimg", "--raw", "-q", str(page)], capture_output=True)
        found += [line for line in result.stdout.decode().splitlines() if line]
    return found


def test_the_letter_names_the_result_and_its_qr_code_the_public_page(app, department,
                                                                     login_as, tmp_path):
    s = sealed_problem(app, department, login_as)
    office = login_as("office", username="office1")
    login_as("approver", username="approver1")
    with app.test_request_context():
        user("approver1").position = "head"
        det = ops.propose_determination(s.visit, "rectification_ordered", [
            {"item": s.field.item, "question": s.field.questions[0],
             "finding": "未与3名员工签订书面劳动合同", "handling": "rectification_order",
             "due": DUE}], actor=user("office1"))
        number = s.visit
        employer = det.visit.employer
        name, code = employer.name, employer.credit_code
    path = f"/review/visits/{number}/feedback-letter.pdf"
    assert office.get(path).status_code == 409  # not before the result is approved
    with app.test_request_context():
        ops.decide_determination(det.id, True, actor=user("approver1"))

    response = office.get(path)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = _text(response.data, tmp_path)
    for words in ("检查结果告知书", name, code, number, "2026-04-02", "发现问题已责令改正",
                  "未与3名员工签订书面劳动合同", DUE, "异议"):
        assert words in text, words
    assert _qr(response.data, tmp_path) == [f"http://localhost/public/results/{number}"]

    # the API serves the same letter; PUBLIC_URL, when set, is the QR code's address
    with settings(app, PUBLIC_URL="https://rsj.example.gov.cn/jc/"):
        api = office.get(f"/api/v1/review/visits/{number}/feedback-letter")
    assert api.status_code == 200 and api.mimetype == "application/pdf"
    (tmp_path / "public").mkdir()
    assert _qr(api.data, tmp_path / "public") == [
        f"https://rsj.example.gov.cn/jc/public/results/{number}"]
