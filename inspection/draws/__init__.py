"""Draws (随机抽取): the verifiable selection engine, target draws and team draws.

* ``engine/``: the pure engine and the public verifier (standard library only);
* ``target/``: the target draw of employers (随机抽取检查对象);
* ``team/``: the team draw of inspectors (随机选派检查人员), substitutions, assignments;
* here: what both draws share (models, the commit-then-execute steps, the sources and
  secrets they take, the public record pages, the CLI).

Importing this package must not import Flask: ``python -m inspection.draws.engine.verify``
runs on the standard library alone. Keep app wiring inside :func:`init_app`.
"""


def init_app(app) -> None:
    """Register the draws' blueprints and CLI commands."""
    from . import models, public_log  # noqa: F401
    from . import target, team, witnesses
    from .cli import draws_cli, log_cli
    from .log_views import bp as log_bp
    from .public_views import bp as public_bp

    target.init_app(app)
    app.register_blueprint(public_bp)
    app.register_blueprint(log_bp)
    app.cli.add_command(draws_cli)
    app.cli.add_command(log_cli)
    team.init_app(app)
    witnesses.init_app(app)           # the log_witnesses job
