"""The field app's API (``/api/v1/field``): visit packs, record revisions, evidence photos.

The contract with the PWA is ``docs/field-sync.md``. Every endpoint is for inspectors, scoped
to the visits of their own teams (others answer 404). An upload answers ``201`` with its
receipt when it is new and ``200`` with the stored receipt when it was already there.
"""
from __future__ import annotations

from flask import jsonify, request
from flask.views import MethodView
from flask_babel import gettext as _
from flask_login import current_user

from ..core.access import roles
from ..core.errors import ValidationFailed
from ..core.models import Role
from ..core.openapi import Blueprint
from . import operations as ops
from . import photos, record_pdfs, signing
from .schemas import SignatureReceiptSchema, SignatureUploadSchema  # noqa: F401
from .schemas import (FieldVisitSchema, PhotoReceiptSchema, RecordBodySchema,
                      RecordReceiptSchema, RecordStateSchema)

blp = Blueprint("field_api", __name__, url_prefix="/api/v1/field",
                description="The field app: my visits, visit packs for offline use, record "
                            "revisions and evidence photos (idempotent uploads)")

KEY_PARAM = {"in": "path", "name": "key", "required": True,
             "schema": {"type": "string", "format": "uuid"},
             "description": "The client-made UUID (lower case): the idempotency key."}


def _user():
    return current_user._get_current_object()


def _flag(name: str) -> bool:
    return (request.headers.get(name) or "").strip().lower() in ("1", "true", "yes")


@blp.route("/visits")
class FieldVisits(MethodView):
    @roles(Role.INSPECTOR)
    @blp.response(200, FieldVisitSchema(many=True))
    def get(self):
        """My visits: those of my teams, each with the ETag of its pack (download the pack
        again when it changes)."""
        return ops.my_visits(_user())


@blp.route("/visits/<number>/pack")
class VisitPack(MethodView):
    @roles(Role.INSPECTOR)
    @blp.response(200, description="The visit pack (see docs/field-sync.md); ETag header.")
    @blp.alt_response(304, description="Not modified (If-None-Match matched).")
    def get(self, number):
        """Everything the phone needs offline for one visit: employer, items with their
        checklist questions, earlier results (预查比对), team, notice text, result
        categories and their rules, settings."""
        pack, etag = ops.visit_pack(_user(), number)
        if request.if_none_match.contains(etag):
            response = jsonify()
            response.status_code = 304
            response.set_etag(etag)
            return response
        response = jsonify(pack)
        response.set_etag(etag)
        response.headers["Cache-Control"] = "no-store"
        return response


@blp.route("/visits/<number>/record")
class VisitRecord(MethodView):
    @roles(Role.INSPECTOR)
    @blp.response(200, RecordStateSchema)
    def get(self, number):
        """The visit's current record as the server has it: latest revision and its body,
        the photos it lists, which arrived, and whether it is complete."""
        return ops.visit_record(_user(), number)


@blp.route("/records/<key>")
class RecordRevisionUpload(MethodView):
    @roles(Role.INSPECTOR)
    @blp.doc(parameters=[KEY_PARAM],
             requestBody={"required": True,
                          "content": {"application/json": {"schema": RecordBodySchema}}})
    @blp.response(200, RecordReceiptSchema, description="Already stored: the stored receipt.")
    @blp.alt_response(201, schema=RecordReceiptSchema, description="Stored: the receipt.")
    @blp.alt_response(409, description="The key was used for a different body.")
    @blp.alt_response(422, description="Not valid or not consistent; see fields.")
    def put(self, key):
        """Upload one save (revision) of a visit record under its UUID. Idempotent: the same
        UUID and body again answer the stored receipt; another body answers 409."""
        body = request.get_json(silent=True)
        if body is None:
            raise ValidationFailed(_("The record must be a JSON object."))
        result, created = ops.put_record_revision(_user(), key, body)
        if created:
            record_pdfs.after_upload(body.get("visit"), _user())
        return result, 201 if created else 200


PHOTO_HEADERS = [
    {"in": "header", "name": "X-Visit", "required": True, "schema": {"type": "string"},
     "description": "The visit number."},
    {"in": "header", "name": "X-Content-SHA256", "required": True,
     "schema": {"type": "string"}, "description": "SHA-256 (hex) of the body."},
    {"in": "header", "name": "X-Original-SHA256", "schema": {"type": "string"},
     "description": "SHA-256 of the camera's original, computed at capture."},
    {"in": "header", "name": "X-Question", "schema": {"type": "string"},
     "description": "The checklist question the photo is evidence for."},
    {"in": "header", "name": "X-Document-Copy", "schema": {"type": "string", "enum": ["0", "1"]},
     "description": "1: a photo of a document copy."},
    {"in": "header", "name": "X-Taken-At", "schema": {"type": "string", "format": "date-time"}},
    {"in": "header", "name": "X-Original", "schema": {"type": "string", "enum": ["0", "1"]},
     "description": "1: the camera's original (when the bureau keeps originals)."},
]


@blp.route("/photos/<key>")
class PhotoUpload(MethodView):
    @roles(Role.INSPECTOR)
    @blp.doc(parameters=[KEY_PARAM, *PHOTO_HEADERS],
             requestBody={"required": True, "content": {
                 kind: {"schema": {"type": "string", "format": "binary"}}
                 for kind in ("image/jpeg", "image/png", "image/webp")}})
    @blp.response(200, PhotoReceiptSchema, description="Already stored: the stored receipt.")
    @blp.alt_response(201, schema=PhotoReceiptSchema, description="Stored: the receipt.")
    @blp.alt_response(409, description="The key was used for different bytes.")
    @blp.alt_response(413, description="Larger than the bureau's photo size limit.")
    @blp.alt_response(422, description="Not a valid image, or the SHA-256 does not match.")
    def put(self, key):
        """Upload one evidence photo (the image bytes are the body) under its UUID.
        Checked, oriented, its EXIF kept; a display copy and a thumbnail are made."""
        limit = ops.photos_limit()
        photos.check_size(request.content_length, limit)
        data = request.get_data(cache=False)
        result, created = ops.put_photo(
            _user(), key, data, visit_number=request.headers.get("X-Visit"),
            content_sha256=request.headers.get("X-Content-SHA256"),
            original_sha256=request.headers.get("X-Original-SHA256"),
            question=request.headers.get("X-Question"),
            document_copy=_flag("X-Document-Copy"),
            taken_at=request.headers.get("X-Taken-At"), is_original=_flag("X-Original"))
        if created:
            record_pdfs.after_upload(request.headers.get("X-Visit"), _user())
        return result, 201 if created else 200


@blp.route("/signatures/<key>")
class SignatureUpload(MethodView):
    @roles(Role.INSPECTOR)
    @blp.doc(parameters=[KEY_PARAM],
             requestBody={"required": True, "content": {"application/json": {
                 "schema": SignatureUploadSchema}}})
    @blp.response(200, SignatureReceiptSchema, description="Already stored: the stored receipt.")
    @blp.alt_response(201, schema=SignatureReceiptSchema, description="Stored: the receipt.")
    @blp.alt_response(409, description="The key was used for a different signature.")
    @blp.alt_response(413, description="Larger than the signature size limit.")
    @blp.alt_response(422, description="Empty or near-empty, a SHA-256 that does not match, "
                                       "a signer not on the team; see fields.")
    def put(self, key):
        """Upload one signature (inspector, employer's representative or witness) under its
        UUID: the stroke points with their timing, an SVG and a PNG (base64), the SHA-256 of
        each, and the content hash of the record it signs. Idempotent like a photo."""
        signing.check_size(request.content_length)
        body = request.get_json(silent=True)
        if body is None:
            raise ValidationFailed(_("The signature must be a JSON object."))
        result, created = signing.put_signature(_user(), key, body)
        if created:
            record_pdfs.after_upload(body.get("visit"), _user())
        return result, 201 if created else 200
