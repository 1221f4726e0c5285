"""The catalogue's JSON API. Reading is open to every signed-in user (inspectors need the
checklists in the field); the office edits; approvers publish. Thin: see :mod:`.operations`."""
from __future__ import annotations

from flask.views import MethodView
from flask_login import current_user

from ..core.access import login_only, roles
from ..core.models import Role
from ..core.openapi import Blueprint
from ..extensions import db
from . import operations as ops
from .models import CheckItem, CheckItemVersion
from .schemas import (ItemCreateSchema, ItemDumpSchema, ItemQuerySchema, ItemReviseSchema,
                      ItemWithVersionsDumpSchema, PublicationDumpSchema, PublishedQuerySchema,
                      PublishSchema, ReinstateSchema, RetireSchema, VersionDumpSchema)

blp = Blueprint("catalogue_api", __name__, url_prefix="/api/v1/catalogue",
                description="The catalogue of check items (随机抽查事项清单), its versions and "
                            "publications")

EDITORS = (Role.ADMIN, Role.OFFICE)
PUBLISHERS = (Role.ADMIN, Role.APPROVER)


def _item_row(item: CheckItem, current: CheckItemVersion) -> dict:
    return {"id": item.id, "code": item.code, "status": item.status,
            "retired_at": item.retired_at, "retire_reason": item.retire_reason,
            "current": current}


def _actor():
    return current_user._get_current_object()


@blp.route("/items")
class Items(MethodView):
    @login_only
    @blp.arguments(ItemQuerySchema, location="query")
    @blp.response(200, ItemDumpSchema(many=True))
    def get(self, args):
        """Items with their current version and its checklist questions, by code."""
        status = None if args["status"] == "all" else args["status"]
        versions = db.session.scalars(ops.list_current(status=status)).all()
        return [_item_row(v.item, v) for v in versions]

    @roles(*EDITORS)
    @blp.arguments(ItemCreateSchema)
    @blp.response(201, ItemWithVersionsDumpSchema)
    def post(self, args):
        """Create an item (its version 1)."""
        note = args.pop("change_note", "")
        return ops.create_item(args, actor=_actor(), change_note=note)


@blp.route("/items/<int:item_id>")
class Item(MethodView):
    @login_only
    @blp.response(200, ItemWithVersionsDumpSchema)
    def get(self, item_id: int):
        """An item with all its versions, oldest first."""
        return ops.get_item(item_id)

    @roles(*EDITORS)
    @blp.arguments(ItemReviseSchema)
    @blp.response(200, ItemWithVersionsDumpSchema)
    @blp.alt_response(409, description="The item is retired; reinstate it first.")
    def put(self, args, item_id: int):
        """Make a new version (fields left out keep their value; a no-op makes none)."""
        item = ops.get_item(item_id)
        note = args.pop("change_note", "")
        ops.revise_item(item, args, note, actor=_actor())
        return item


@blp.route("/items/<int:item_id>/retire")
class RetireItem(MethodView):
    @roles(*EDITORS)
    @blp.arguments(RetireSchema)
    @blp.response(200, ItemDumpSchema)
    @blp.alt_response(409, description="The item is retired already.")
    def post(self, args, item_id: int):
        """Retire an item: not offered for new tasks; its history stays."""
        return ops.retire_item(ops.get_item(item_id), args["reason"], actor=_actor())


@blp.route("/items/<int:item_id>/reinstate")
class ReinstateItem(MethodView):
    @roles(*EDITORS)
    @blp.arguments(ReinstateSchema)
    @blp.response(200, ItemDumpSchema)
    @blp.alt_response(409, description="The item is active already.")
    def post(self, args, item_id: int):
        """Put a retired item back on the list."""
        return ops.reinstate_item(ops.get_item(item_id), args["reason"], actor=_actor())


@blp.route("/versions/<int:version_id>")
class Version(MethodView):
    @login_only
    @blp.response(200, VersionDumpSchema)
    def get(self, version_id: int):
        """One version with its questions, exactly as it was made (versions never change)."""
        return ops.get_version(version_id)


@blp.route("/publications")
class Publications(MethodView):
    @login_only
    @blp.response(200, PublicationDumpSchema(many=True))
    def get(self):
        """Publications of the list, newest first."""
        return ops.publications()

    @roles(*PUBLISHERS)
    @blp.arguments(PublishSchema)
    @blp.response(201, PublicationDumpSchema)
    @blp.alt_response(409, description="The list has not changed since its last "
                                       "publication.")
    def post(self, args):
        """Publish the current versions of all active items, public from ``published_on``."""
        return ops.publish(args["published_on"], actor=_actor(), note=args["note"])


@blp.route("/published")
class Published(MethodView):
    @login_only
    @blp.arguments(PublishedQuerySchema, location="query")
    @blp.response(200, VersionDumpSchema(many=True))
    def get(self, args):
        """The versions public on a day (default today): the latest publication up to it."""
        return ops.published_catalogue(on=args["on"])
