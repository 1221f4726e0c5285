"""The team leader's API for joint visits (``/api/v1/field``): the arrangement of a
visit (day, meeting time and place, split of the items among the members) and the members'
parts as they arrive. Scoped like the rest of the field API: only the visit's team sees the
arrangement; only its leader changes it or reads the members' parts (403 for the others)."""
from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_login import current_user
from marshmallow import fields, validate

from ..core.access import roles
from ..core.fields import WholeNumber
from ..core.models import Role
from ..core.openapi import Blueprint
from . import joint

blp = Blueprint("field_joint_api", __name__, url_prefix="/api/v1/field",
                description="Joint visits: the team leader's arrangement and the members' parts")


class ArrangementInputSchema(ma.Schema):
    revision = WholeNumber(required=True, strict=True, validate=validate.Range(min=0),
                              metadata={"description": "The revision you edited (0: none)."})
    scheduled_on = fields.Date(allow_none=True, load_default=None)
    meeting_time = fields.String(load_default="", validate=validate.Length(max=5),
                                 metadata={"description": "HH:MM"})
    meeting_point = fields.String(load_default="", validate=validate.Length(max=200))
    notes = fields.String(load_default="", validate=validate.Length(max=1000))
    split = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=20)),
                        values=fields.List(WholeNumber(strict=True),
                                           validate=validate.Length(max=20)),
                        load_default=dict,
                        metadata={"description": "Item code -> inspector ids; {}: no split."})


class ArrangementMemberSchema(ma.Schema):
    inspector_id = fields.Integer()
    name = fields.String()
    department_id = fields.Integer()
    is_leader = fields.Boolean()
    is_me = fields.Boolean()


class ArrangementSchema(ma.Schema):
    revision = fields.Integer()
    scheduled_on = fields.String(allow_none=True)
    meeting_time = fields.String()
    meeting_point = fields.String()
    notes = fields.String()
    members = fields.List(fields.Nested(ArrangementMemberSchema))
    split = fields.Dict(keys=fields.String(), values=fields.List(fields.Integer()))
    my_items = fields.List(fields.String(), allow_none=True)


class MemberPartSchema(ma.Schema):
    inspector_id = fields.Integer()
    name = fields.String()
    department_id = fields.Integer()
    items = fields.List(fields.String())
    state = fields.String(metadata={"description": "nothing, working or finished"})
    revision = fields.Integer(allow_none=True)
    received_at = fields.String(allow_none=True)
    finished = fields.Boolean()
    waiting_photos = fields.Boolean(
        metadata={"description": "A newer revision arrived but not all its photos yet."})
    answered = fields.Integer()
    questions = fields.Integer()
    answers = fields.List(fields.Dict())
    photos = fields.List(fields.Dict())
    notice = fields.Dict(allow_none=True)
    arrival = fields.Dict(allow_none=True)


class PartsSchema(ma.Schema):
    visit = fields.String()
    split = fields.Boolean()
    members = fields.List(fields.Nested(MemberPartSchema))
    ready = fields.Boolean()


def _user():
    return current_user._get_current_object()


@blp.route("/visits/<number>/arrangement")
class Arrangement(MethodView):
    @roles(Role.INSPECTOR)
    @blp.response(200, ArrangementSchema)
    def get(self, number):
        """The visit's arrangement: day, meeting time and place, the team, the split of the
        items, and the items given to me (null: the visit is not split)."""
        return joint.arrangement_for(_user(), number)

    @roles(Role.INSPECTOR)
    @blp.arguments(ArrangementInputSchema)
    @blp.response(200, ArrangementSchema)
    @blp.alt_response(403, description="You do not lead this visit's team.")
    @blp.alt_response(409, description="Someone saved a newer arrangement; reload.")
    def put(self, data, number):
        """The team leader sets the arrangement. Every item must go to at least one member
        when the visit is split; the day must fall within the visit's window."""
        return joint.set_arrangement(_user(), number, data)


@blp.route("/visits/<number>/parts")
class Parts(MethodView):
    @roles(Role.INSPECTOR)
    @blp.response(200, PartsSchema)
    @blp.alt_response(403, description="You do not lead this visit's team.")
    def get(self, number):
        """For the team leader: each member's part as it has arrived, whole or not at all
        (a revision still waiting for its photos is never given), and their progress."""
        return joint.parts(_user(), number)
