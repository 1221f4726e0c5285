"""Where a draw's randomness comes from, as the office enters it: the entropy mode, the public
sources declared at commitment, the parties' secret commitments, and the sources' published
values at execution.

Target and team draws take the same entries and must refuse them with the same messages, so
both check them here before :func:`.commitments.prepare` and :func:`.commitments.execute`.
"""
from __future__ import annotations

import re
import secrets as _secrets
import unicodedata
from datetime import datetime
from typing import Any, Iterable, Mapping

from flask_babel import gettext as _

from ..core.errors import ValidationFailed
from ..core.timeutil import LOCAL, to_local
from . import commitments
from .engine import verify
from .models import Draw, DrawStatus, EntropyMode

MAX_SOURCES = 6
MAX_PARTIES = 8
PARTY_MAX = 40
SOURCE_NAME_MAX = 300
VALUE_MAX = 200
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
_SEPARATORS = re.compile(r"[\s,，、;；]+")
_STAMP = "%Y-%m-%d %H:%M:%S"


def entropy_mode(mode: str) -> EntropyMode:
    """The chosen mode, or the form's error."""
    try:
        return EntropyMode(mode)
    except ValueError:
        raise ValidationFailed(_("Choose where the randomness comes from."),
                               {"mode": [_("Not a valid choice.")]}) from None


def split_values(text: str) -> list[str]:
    """A source's published value(s) as typed: separated by spaces, commas or 、."""
    return [v for v in _SEPARATORS.split((text or "").strip()) if v]


def parse_available_at(value: Any) -> datetime | None:
    """When a source's value becomes known, as typed or loaded: an aware ``datetime``, an ISO
    8601 text with its offset, or a time without one, read as Beijing time (the form's
    ``2026-12-03 21:15`` or ``2026-12-03T21:15``). None when it is not a date and time."""
    if isinstance(value, datetime):
        moment = value
    else:
        text = unicodedata.normalize("NFKC", str(value or "")).strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            moment = datetime.fromisoformat(text.replace(" ", "T", 1))
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL)
    return moment


def clean_sources(mode: EntropyMode, declared: Iterable[Mapping[str, Any]]) -> list[dict]:
    """The declared public sources, each with the moment its value becomes known
    (``available_at``, kept in Beijing time with its offset). It must be later than now,
    the moment of the commitment: a value known already lets whoever commits choose the
    secrets that give the list they want. The draw then cannot be executed before the latest
    of them (:func:`.commitments.check_time_lock`): a value used before it exists is a value
    someone chose."""
    out, errors = [], []
    now = datetime.now(LOCAL)
    for raw in declared or []:
        name = str(raw.get("name") or "").strip()
        given = raw.get("available_at")
        text = "" if given is None else str(given).strip()
        if not name and not text:
            continue
        if not name:
            errors.append(_("Describe each source (which draw, which index, when)."))
            continue
        if len(name) > SOURCE_NAME_MAX or len(text) > 100:
            errors.append(_("A source description is too long."))
            continue
        if not text:
            errors.append(_("Give the time from which the value of “%(name)s” is known "
                            "(Beijing time, e.g. 2026-12-03 21:15).", name=name))
            continue
        moment = parse_available_at(given)
        if moment is None:
            errors.append(_("“%(value)s” is not a date and time: write e.g. 2026-12-03 21:15 "
                            "(Beijing time).", value=text))
            continue
        if moment <= now:
            errors.append(_("The value of “%(name)s” is known already (from %(at)s): declare a "
                            "value published after this commitment. The server's clock says "
                            "%(now)s.", name=name, at=to_local(moment).strftime(_STAMP),
                            now=now.strftime(_STAMP)))
            continue
        spec = "seconds" if moment.microsecond == 0 else "microseconds"
        out.append({"name": name, "available_at": to_local(moment).isoformat(timespec=spec)})
    if len(out) > MAX_SOURCES:
        errors.append(_("At most %(n)d sources.", n=MAX_SOURCES))
    if errors:
        raise ValidationFailed(errors[0], {"sources": errors})
    if mode is not EntropyMode.PUBLIC and out:
        raise ValidationFailed(_("Public sources are declared in the public mode only."),
                               {"sources": [_("Choose the public mode or remove the sources.")]})
    return out


def clean_secrets(specs: Iterable[Mapping[str, Any]]) -> tuple[list[commitments.SecretSpec],
                                                               dict[str, str]]:
    """Parties' commitments. A spec with ``generate`` gets a fresh secret made here; only its
    hash is kept, the secret is returned once to be written down."""
    out, generated, errors = [], {}, {}
    for raw in specs or []:
        party = str(raw.get("party") or "").strip()
        sha = str(raw.get("sha256") or "").strip().lower()
        generate = bool(raw.get("generate"))
        if not party and not sha and not generate:
            continue
        if not party:
            errors.setdefault("secrets", []).append(_("Name each party."))
            continue
        if len(party) > PARTY_MAX:
            errors[party] = [_("At most %(n)d characters.", n=PARTY_MAX)]
            continue
        if generate and sha:
            errors[party] = [_("Either enter a hash or generate a secret, not both.")]
            continue
        if generate:
            secret = _secrets.token_hex(16)
            generated[party] = secret
            sha = verify.secret_commitment(secret)
        elif not _HEX64.match(sha):
            errors[party] = [_("Enter the SHA-256 of the party's secret (64 hex digits), or "
                               "generate one.")]
            continue
        holder = raw.get("holder_id")
        out.append(commitments.SecretSpec(party, sha, int(holder) if holder else None))
    parties = [s.party for s in out]
    if len(set(parties)) != len(parties):
        errors.setdefault("secrets", []).append(_("Each party commits one secret."))
    if len(out) > MAX_PARTIES:
        errors.setdefault("secrets", []).append(_("At most %(n)d parties.", n=MAX_PARTIES))
    if errors:
        raise ValidationFailed(_("Some secret commitments are not valid."), errors)
    return out, generated


def parse_source_values(draw: Draw, values: Iterable[Any]) -> list[list[Any]]:
    """The values typed for each declared source: a string (split on spaces, commas, 、) or a
    list of values. Lengths are checked by the engine's caller."""
    out = []
    for value in values or []:
        if isinstance(value, (list, tuple)):
            items = [v.strip() if isinstance(v, str) else v for v in value]
            items = [v for v in items if v != ""]
        else:
            items = split_values(str(value))
        if any(isinstance(v, str) and len(v) > VALUE_MAX for v in items):
            raise ValidationFailed(_("A source value is too long."),
                                   {"sources": [_("A source value is too long.")]})
        out.append(items)
    declared = len(draw.commitment.get("sources_declared", []))
    if draw.entropy_mode != EntropyMode.SYSTEM.value and (
            len(out) != declared or any(not v for v in out)):
        raise ValidationFailed(_("Enter the published value of every declared source."),
                               {"sources": [_("Enter the published value of every declared "
                                              "source.")]})
    return out


def values_to_draw(draw: Draw, values: Iterable[Any]) -> list[list[Any]]:
    """The source values an execution passes on: none for the system mode (the server draws
    its own) or for a draw no longer prepared (the execution then refuses it by its state,
    not by its values); otherwise :func:`parse_source_values`."""
    if draw.entropy_mode == EntropyMode.SYSTEM.value or draw.status != DrawStatus.PREPARED.value:
        return []
    return parse_source_values(draw, values)


def check_secrecy(task, mode: EntropyMode, specs: list[commitments.SecretSpec]) -> None:
    """An unannounced task's draw needs a secret besides the public values: the pool files are
    public from the preparation and the lottery's numbers from its draw, so without a secret
    anyone could work out the list before the visits (seed 004 第十九条(二))."""
    if getattr(task, "announced", True) or mode is not EntropyMode.PUBLIC or specs:
        return
    message = _("The visits of this task are unannounced: add at least one party's secret, "
                "or anyone could work out the list from the public values before the visits.")
    raise ValidationFailed(message, {"secrets": [message]})
