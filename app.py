"""Entry point: ``gunicorn app:app`` and ``flask --app app ...``."""
from inspection import create_app

app = create_app()
