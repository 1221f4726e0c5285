"""Pages of the core: sign-in, account, language, administration of users and departments,
the audit trail and the health check. Thin: the work is done in :mod:`.operations`."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import (Blueprint, current_app, flash, jsonify, make_response, redirect,
                   render_template, request, session, url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, select, text

from ..extensions import csrf, db
from . import audit, operations as ops
from .access import login_only, public, roles
from .limits import int_arg
from .errors import DomainError, TooManyAttempts
from .forms import (ActiveForm, AuditFilterForm, ChangePasswordForm, DepartmentForm,
                    LanguageForm, LoginForm, ResetPasswordForm, UserEditForm, UserForm,
                    show_errors)
from .i18n import COOKIE, LANGUAGES
from .models import Department, Role, User

bp = Blueprint("core", __name__)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect a user to another site after sign-in."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") \
                and not target.startswith("//"):
            return target
    return url_for("core.home")


@bp.get("/healthz")
@public
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        return jsonify(status="ok", database="ok")
    except Exception as exc:  # any failure of the database makes us unhealthy
        db.session.rollback()
        current_app.logger.error("health check: database unreachable: %s", exc)
        return jsonify(status="error", database="unreachable"), 503


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm(next=request.args.get("next", ""))
    status, headers = 200, {}
    if session.pop("expired", False):
        flash(_("Your session ended after a period of inactivity. Please sign in again."), "info")
    if form.validate_on_submit():
        try:
            user = ops.authenticate(form.username.data, form.password.data, request.remote_addr)
        except DomainError as error:
            flash(error.message, "error")
            status = error.status
            if isinstance(error, TooManyAttempts):
                headers["Retry-After"] = str(error.retry_after)
        else:
            session.clear()
            session.permanent = True
            ops.start_session(user)
            login_user(user)
            if user.locale is None and request.cookies.get(COOKIE) in LANGUAGES:
                ops.set_locale(user, request.cookies[COOKIE])
            return redirect(_safe_next(form.next.data))
    elif request.method == "POST":
        status = 400
    return render_template("core/login.html", form=form), status, headers


@bp.post("/logout")
@login_only
def logout():
    ops.record_logout(current_user._get_current_object())
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("core.login"))


@bp.post("/language")
@csrf.exempt
@public
def set_language():
    # A visitor who is not signed in chooses a language for their own cookie only, from pages
    # that caches keep for everyone and that therefore carry no token (core/caching.py): no
    # token is asked of them. A signed-in user's choice is saved on the account: checked.
    signed_in = current_user.is_authenticated
    if signed_in:
        csrf.protect()
    form = LanguageForm(meta={"csrf": signed_in})
    target = _safe_next(form.next.data or request.referrer and urlsplit(request.referrer).path)
    if not form.validate_on_submit() or form.lang.data not in LANGUAGES:
        flash(_("Unknown language."), "error")
        return redirect(target)
    if current_user.is_authenticated:
        ops.set_locale(current_user._get_current_object(), form.lang.data)
    response = make_response(redirect(target))
    response.set_cookie(COOKIE, form.lang.data, max_age=365 * 24 * 3600, samesite="Lax",
                        httponly=True, secure=request.is_secure)
    return response


@bp.get("/")
@login_only
def home():
    """The user's to-do list first (inspection/review/todo.py), then their work areas; a
    supervisor sees the bureau's deadlines at a glance."""
    from ..review import todo  # the review area sits above core: imported where used

    user = current_user._get_current_object()
    items = todo.todo(user)
    counts = {s: 0 for s in todo.STATES}
    for item in items:
        counts[item.state] += 1
    show_todo = user.has_role(Role.OFFICE, Role.APPROVER, Role.INSPECTOR, Role.ADMIN) \
        or bool(items)
    overview = todo.overview() if user.has_role(Role.SUPERVISOR) else None
    return render_template("core/home.html", todo=items, todo_counts=counts,
                           show_todo=show_todo, overview=overview,
                           states=todo.state_labels(), badges=todo.state_badges(),
                           kinds=todo.kind_labels())


@bp.route("/account/password", methods=["GET", "POST"])
@login_only
def change_password():
    form = ChangePasswordForm()
    status = 200
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            ops.change_password(user, form.current_password.data, form.new_password.data,
                                form.repeat_password.data)
        except DomainError as error:
            show_errors(form, error)
            status = error.status
        else:
            ops.start_session(user)  # every session ended: this browser gets a new one
            login_user(user)
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("core.home"))
    elif request.method == "POST":
        status = 400
    return render_template("core/change_password.html", form=form), status


def _department_choices():
    return [(d.id, d.name) for d in db.session.scalars(
        select(Department).where(Department.active).order_by(Department.code))]


@bp.get("/admin/users")
@roles(Role.ADMIN)
def users():
    query = select(User).order_by(User.username)
    q = request.args.get("q", "").strip()
    if q:
        query = query.where(User.username.contains(q) | User.display_name.contains(q))
    page = db.paginate(query, per_page=50, error_out=False)
    return render_template("core/users.html", page=page, q=q)


@bp.route("/admin/users/new", methods=["GET", "POST"])
@roles(Role.ADMIN)
def user_new():
    form = UserForm()
    form.department.choices = _department_choices()
    status = 200
    if form.validate_on_submit():
        password = form.password.data or ops.temporary_password()
        try:
            user = ops.create_user(form.username.data, form.display_name.data,
                                   ops.get_department(form.department.data), form.roles.data,
                                   password, actor=current_user, must_change_password=True)
        except DomainError as error:
            show_errors(form, error)
            status = error.status
        else:
            if not form.password.data:
                flash(_("Initial password of %(user)s: %(password)s (shown once; hand it over "
                        "in person).", user=user.username, password=password), "secret")
            flash(_("User %(user)s created.", user=user.username), "success")
            return redirect(url_for("core.user_edit", user_id=user.id))
    elif request.method == "POST":
        status = 400
    return render_template("core/user_form.html", form=form, user=None), status


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@roles(Role.ADMIN)
def user_edit(user_id: int):
    user = ops.get_user(user_id)
    form = UserEditForm(data={"display_name": user.display_name,
                              "department": user.department_id, "roles": sorted(user.roles),
                              "position": user.position or "", "email": user.email or ""})
    form.department.choices = _department_choices()
    status = 200
    if form.validate_on_submit():
        try:
            ops.update_user(user, display_name=form.display_name.data,
                            department=ops.get_department(form.department.data),
                            roles=form.roles.data, actor=current_user,
                            position=form.position.data or "", email=form.email.data or "")
        except DomainError as error:
            show_errors(form, error)
            status = error.status
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("core.user_edit", user_id=user.id))
    elif request.method == "POST":
        status = 400
    history = audit.search(object_type="user", object_id=str(user.id), limit=20)
    return render_template("core/user_form.html", form=form, user=user,
                           reset_form=ResetPasswordForm(), active_form=ActiveForm(),
                           history=history), status


@bp.post("/admin/users/<int:user_id>/active")
@roles(Role.ADMIN)
def user_active(user_id: int):
    user = ops.get_user(user_id)
    form = ActiveForm()
    if form.validate_on_submit():
        try:
            ops.set_active(user, form.active.data, actor=current_user)
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash(_("Account enabled.") if user.active else _("Account disabled."), "success")
    else:
        flash(_("The form has expired. Please try again."), "error")
    return redirect(url_for("core.user_edit", user_id=user.id))


@bp.post("/admin/users/<int:user_id>/password")
@roles(Role.ADMIN)
def user_reset_password(user_id: int):
    user = ops.get_user(user_id)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            password = ops.reset_password(user, current_user, form.password.data or None)
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash(_("New password of %(user)s: %(password)s (shown once; the user must change "
                    "it at next sign-in).", user=user.username, password=password), "secret")
    else:
        flash(_("The form has expired. Please try again."), "error")
    return redirect(url_for("core.user_edit", user_id=user.id))


@bp.route("/admin/departments", methods=["GET", "POST"])
@roles(Role.ADMIN)
def departments():
    form = DepartmentForm()
    status = 200
    if form.validate_on_submit():
        try:
            ops.create_department(form.name.data, form.code.data, actor=current_user)
        except DomainError as error:
            show_errors(form, error)
            status = error.status
        else:
            flash(_("Department created."), "success")
            return redirect(url_for("core.departments"))
    elif request.method == "POST":
        status = 400
    rows = db.session.scalars(select(Department).order_by(Department.code)).all()
    # One count per department in one statement, not each department's users loaded.
    users = dict(db.session.execute(select(User.department_id, func.count(User.id))
                                    .group_by(User.department_id)).tuples().all())
    return render_template("core/departments.html", form=form, departments=rows,
                           users=users), status


@bp.get("/audit")
@roles(Role.ADMIN, Role.SUPERVISOR)
def audit_log():
    form = AuditFilterForm(request.args)
    entries = []
    if form.validate():
        before = int_arg("before")
        entries = audit.search(actor=form.actor.data, action=form.action.data,
                               object_type=form.object_type.data,
                               object_id=form.object_id.data, date_from=form.date_from.data,
                               date_to=form.date_to.data, before=before, limit=50)
    args = {k: v for k, v in request.args.items() if k != "before" and v}
    return render_template("core/audit.html", form=form, entries=entries, args=args)
