"""The Flask extensions, created unbound and wired in :func:`inspection.create_app`. The JSON
API's flask-smorest objects are in :mod:`inspection.core.openapi`."""

from flask import request
from flask_babel import Babel, gettext
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase
from werkzeug.exceptions import UnprocessableEntity

#: The last page a list may be asked for: far beyond any list, well within what the
#: database's OFFSET takes.
MAX_PAGE = 1_000_000


class Base(DeclarativeBase):
    # Named constraints so that Alembic migrations can alter them on every database.
    metadata = MetaData(naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    })


class Database(SQLAlchemy):
    """Flask-SQLAlchemy whose ``paginate`` reads ``?page=`` strictly: a page that is not a
    whole number from 1 to :data:`MAX_PAGE` is a 422 naming the parameter, not a silent
    first page or an overflow in the driver."""

    def paginate(self, select, *, page=None, **kwargs):
        if page is None:
            raw = request.args.get("page", "").strip()
            if raw and not (raw.isdigit() and 1 <= int(raw) <= MAX_PAGE):
                raise UnprocessableEntity(gettext(
                    "The page number must be a whole number from 1 to %(n)d.", n=MAX_PAGE))
            page = int(raw) if raw else None
        return super().paginate(select, page=page, **kwargs)


db = Database(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
