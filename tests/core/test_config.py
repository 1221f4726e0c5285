import os
import stat

import pytest

from inspection import create_app
from inspection.config import ConfigError, load


def test_defaults_need_no_configuration(tmp_path):
    settings = load(tmp_path, environ={})
    assert settings.DATABASE_URL == f"sqlite:///{tmp_path / 'inspection.sqlite3'}"
    key_file = tmp_path / "secret_key"
    assert settings.SECRET_KEY == key_file.read_text().strip()
    assert len(settings.SECRET_KEY) >= 32
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    # The same key on the next start: sessions survive a restart.
    assert load(tmp_path, environ={}).SECRET_KEY == settings.SECRET_KEY


def test_environment_switches_database_and_types(tmp_path):
    settings = load(tmp_path, environ={"DATABASE_URL": "postgresql://u@h:5432/db",
                                       "INSPECTION_SESSION_IDLE_MINUTES": "45",
                                       "INSPECTION_DEMO_MODE": "yes"})
    assert settings.DATABASE_URL == "postgresql+psycopg://u@h:5432/db"
    assert settings.SESSION_IDLE_MINUTES == 45
    assert settings.DEMO_MODE is True


@pytest.mark.parametrize("environ, overrides, fragment", [
    ({"INSPECTION_SESION_IDLE_MINUTES": "5"}, {}, "unknown setting INSPECTION_SESION_IDLE_MINUTES"),
    ({}, {"NO_SUCH_KEY": 1}, "unknown setting 'NO_SUCH_KEY'"),
    ({"INSPECTION_SESSION_IDLE_MINUTES": "soon"}, {}, "must be an integer"),
    ({"INSPECTION_DEMO_MODE": "perhaps"}, {}, "must be true or false"),
    ({}, {"SECRET_KEY": "short"}, "at least 16"),
    ({}, {"SESSION_IDLE_MINUTES": 0}, "at least 1"),
    ({}, {"DEFAULT_LOCALE": "fr"}, "DEFAULT_LOCALE"),
])
def test_bad_configuration_fails_loudly(tmp_path, environ, overrides, fragment):
    with pytest.raises(ConfigError, match=fragment):
        load(tmp_path, overrides, environ=environ)


def test_create_app_refuses_unknown_key():
    with pytest.raises(ConfigError):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
