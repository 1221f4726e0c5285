"""The two directories: employers (检查对象名录库) and inspectors (执法检查人员名录库)."""
from flask import Flask


def init_app(app: Flask) -> None:
    from . import models  # noqa: F401  (tables known to Alembic and the app)
    from . import employers, inspectors

    employers.init_app(app)
    inspectors.init_app(app)
