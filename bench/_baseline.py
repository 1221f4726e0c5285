"""The baseline of ``bench.api``: a bare Flask + Flask-SQLAlchemy app serving one primary-key
lookup of an employer as JSON, from the benchmark's database (``BENCH_DATABASE_URL``).

    BENCH_DATABASE_URL=sqlite:///... gunicorn -w 2 'bench._baseline:create_app()'

No sign-in, no CSRF, no templates, no audit: what any Flask app on this database costs per
request. It gets the platform's engine options and, on SQLite, the same connection pragmas
(:func:`inspection.factory._init_sqlite`), so that the database is set up alike on both
sides and the comparison is about what the platform does per request.
"""
from __future__ import annotations

import os

from flask import Flask, jsonify
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import String, event
from sqlalchemy.orm import Mapped, mapped_column

from inspection.config import engine_options


def create_app(url: str | None = None) -> Flask:
    """The app on ``url`` (default: ``BENCH_DATABASE_URL``)."""
    url = url or os.environ["BENCH_DATABASE_URL"]
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(url)
    db = SQLAlchemy(app)

    class Employer(db.Model):
        """The columns of the platform's employer table that a detail answer shows."""

        __tablename__ = "employer"
        id: Mapped[int] = mapped_column(primary_key=True)
        credit_code: Mapped[str] = mapped_column(String(18))
        name: Mapped[str] = mapped_column(String(200))
        employer_type: Mapped[str] = mapped_column(String(30))
        address: Mapped[str] = mapped_column(String(300))
        region_code: Mapped[str | None] = mapped_column(String(12))
        industry: Mapped[str] = mapped_column(String(1))
        risk_grade: Mapped[str] = mapped_column(String(1))
        status: Mapped[str] = mapped_column(String(20))

    if url.startswith("sqlite"):
        with app.app_context():
            @event.listens_for(db.engine, "connect")
            def _on_connect(dbapi_connection, _record):
                cursor = dbapi_connection.cursor()
                for pragma in ("foreign_keys=ON", "journal_mode=WAL", "synchronous=NORMAL",
                               "cache_size=-65536"):
                    cursor.execute(f"PRAGMA {pragma}")
                cursor.close()

    @app.get("/employers/<int:employer_id>")
    def employer(employer_id: int):
        e = db.get_or_404(Employer, employer_id)
        return jsonify({"id": e.id, "credit_code": e.credit_code, "name": e.name,
                        "employer_type": e.employer_type, "address": e.address,
                        "region_code": e.region_code, "industry": e.industry,
                        "risk_grade": e.risk_grade, "status": e.status})

    return app
