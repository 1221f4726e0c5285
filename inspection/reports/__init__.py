"""Task and annual summary reports (抽查总结报告, seed 001 第十五、十六条), and closing a task.
(docs/reports.md)"""
from flask import Flask


def init_app(app: Flask) -> None:
    """Register this package's blueprints, job kinds, deadline lines and template helper."""
    from flask_babel import lazy_gettext as _l

    from ..jobs.registry import Kind, register
    from ..review.todo import Source, register_source
    from . import models  # noqa: F401
    from . import operations as ops
    from .panel import task_panel
    from .views import bp

    app.register_blueprint(bp)  # /reports/, /reports/tasks/<id>/close|report
    readers = ("admin", "office", "approver", "supervisor")
    register(Kind("task_report", lambda: str(_l("Task summary report")), ops.run_task_report,
                  readers))
    register(Kind("year_report", lambda: str(_l("The year's summary")), ops.run_year_report,
                  readers))
    register_source(Source(ops.YEAR_REPORT, lambda: str(_l("The year's summary")),
                           ops.year_item_title, ops.year_items))
    # The task page (planning/task.html) shows closing and the reports through this helper.
    app.add_template_global(task_panel, "reports_task_panel")
