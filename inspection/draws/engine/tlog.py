"""The public log's mathematics and formats, for the verifier, the witness and the application.

A transparency log is an append-only list of entries whose state is published as a signed
*checkpoint*: the number of entries and the Merkle tree hash over them. Everything here
follows the open standards that existing logs and their witnesses speak, so that tools
written for them can read this log:

* Merkle tree hashing, inclusion and consistency proofs: RFC 6962 section 2.1, as kept in
  RFC 9162 section 2.1 (SHA-256; leaf hash ``SHA-256(0x00 || entry)``, interior node
  ``SHA-256(0x01 || left || right)``; the split at the largest power of two smaller than
  the size);
* checkpoints: c2sp.org/tlog-checkpoint (origin line, decimal tree size, base64 root hash);
* signed notes and verifier keys: c2sp.org/signed-note (the note text, a blank line, then
  ``— <key name> base64(key ID || signature)`` lines; Ed25519 key ID =
  ``SHA-256(name || 0x0A || 0x01 || public key)[:4]``), and the ``PRIVATE+KEY+...`` signer
  key strings of ``golang.org/x/mod/sumdb/note``;
* witness cosignatures: c2sp.org/tlog-cosignature (Ed25519, signature type 0x04);
* submitting to witnesses: c2sp.org/tlog-witness (the ``add-checkpoint`` request body, the
  ``text/x.tlog.size`` answer, and the witness list of the ``LOG_WITNESSES`` setting);
* tiles and entry bundles: c2sp.org/tlog-tiles (paths ``tile/<L>/<N>[.p/<W>]``).

Standard library only, like the rest of ``engine/``: a verifier outside the bureau runs
this file next to ``verify.py``. Checking an Ed25519 signature uses the ``cryptography``
package when it is installed and otherwise the pure-Python check below (RFC 8032 section
5.1.7; slow, a few milliseconds, which is nothing for a handful of signatures); *making* a
signature (the bureau's checkpoints, a witness's cosignature) needs ``cryptography``.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

HASH_SIZE = 32
#: The root of the empty tree: SHA-256 of nothing (RFC 6962 section 2.1).
EMPTY_ROOT = hashlib.sha256(b"").digest()
#: Signature type bytes of c2sp.org/signed-note.
ED25519 = 0x01
COSIGNATURE_V1 = 0x04
#: Tiles are 2^8 hashes wide (c2sp.org/tlog-tiles).
TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
EM_DASH = "\u2014"


class LogError(ValueError):
    """A proof, a note or a key that does not check out; the message says why."""


# --- Merkle tree hashing (RFC 6962 / RFC 9162 section 2.1) ------------------------------------

def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) given the leaf hashes."""
    if not hashes:
        return EMPTY_ROOT
    return _mth(hashes, 0, len(hashes))


def _mth(hashes: Sequence[bytes], start: int, end: int) -> bytes:
    if end - start == 1:
        return hashes[start]
    k = _split(end - start)
    return node_hash(_mth(hashes, start, start + k), _mth(hashes, start + k, end))


def perfect_root(hashes: Sequence[bytes]) -> bytes:
    """The root of a perfect subtree (a power of two of hashes), level by level."""
    level = list(hashes)
    if not level or len(level) & (len(level) - 1):
        raise ValueError(f"{len(level)} hashes are not a perfect subtree")
    while len(level) > 1:
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


# The compact range of a tree: the roots of its perfect subtrees, left to right, one per bit
# set in the size (biggest first). Appending a leaf merges equal-sized subtrees at the right
# end; the root folds them right to left. A log keeps only this to append and sign.

def compact_append(compact: list[bytes], size: int, leaf: bytes) -> list[bytes]:
    """The compact range of the tree of ``size + 1`` leaves."""
    out = list(compact)
    node, n = leaf, size
    while n & 1:
        node = node_hash(out.pop(), node)
        n >>= 1
    out.append(node)
    return out


def compact_root(compact: Sequence[bytes]) -> bytes:
    if not compact:
        return EMPTY_ROOT
    node = compact[-1]
    for left in reversed(compact[:-1]):
        node = node_hash(left, node)
    return node


def last_leaf_proof(compact_before: Sequence[bytes]) -> list[bytes]:
    """The inclusion proof of the leaf just appended to a tree whose compact range was
    ``compact_before``: the perfect subtrees to its left, nearest first (RFC 9162 PATH for
    the rightmost leaf)."""
    return list(reversed(compact_before))


# --- proofs from any source of subtree hashes -------------------------------------------------

#: ``subtree(start, end)``: MTH(D[start:end]). Proofs only ask for subtrees the RFC's
#: recursion makes: a perfect, aligned left part, or the right edge of the tree.
Subtree = Callable[[int, int], bytes]


def list_subtree(hashes: Sequence[bytes]) -> Subtree:
    return lambda start, end: _mth(hashes, start, end)


def inclusion_proof(index: int, size: int, subtree: Subtree) -> list[bytes]:
    """PATH(index, D[size]) (RFC 9162 section 2.1.3.1), nearest sibling first."""
    if not 0 <= index < size:
        raise LogError(f"leaf {index} is not in a tree of {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            path.append(subtree(start + k, end))
            end = start + k
        else:
            path.append(subtree(start, start + k))
            start += k
    return list(reversed(path))


def consistency_proof(old: int, new: int, subtree: Subtree) -> list[bytes]:
    """PROOF(old, D[new]) (RFC 9162 section 2.1.4.1)."""
    if not 0 <= old <= new:
        raise LogError(f"no consistency proof from {old} to {new}")
    if old in (0, new):
        return []
    path: list[bytes] = []
    start, end, whole = 0, new, True
    m = old
    while True:
        if m == end - start:
            if not whole:
                path.append(subtree(start, end))
            break
        k = _split(end - start)
        if m <= k:
            path.append(subtree(start + k, end))
            end = start + k
        else:
            path.append(subtree(start, start + k))
            start, m, whole = start + k, m - k, False
    return list(reversed(path))


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes],
                     root_hash: bytes) -> None:
    """RFC 9162 section 2.1.3.2; raises :class:`LogError` unless the proof holds."""
    if not 0 <= index < size:
        raise LogError(f"leaf index {index} is outside a tree of {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        _check_hash(p)
        if sn == 0:
            raise LogError("the inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise LogError("the inclusion proof is too short")
    if r != root_hash:
        raise LogError("the inclusion proof does not lead to the checkpoint's root hash")


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes,
                       proof: Sequence[bytes]) -> None:
    """RFC 9162 section 2.1.4.2; raises :class:`LogError` unless the tree of ``new`` leaves
    with ``new_root`` extends the tree of ``old`` leaves with ``old_root``."""
    if not 0 <= old <= new:
        raise LogError(f"a tree of {new} cannot extend one of {old}")
    if old == new:
        if proof:
            raise LogError("a consistency proof between equal sizes must be empty")
        if old_root != new_root:
            raise LogError(f"two different root hashes for the same tree size {old}")
        return
    if old == 0:
        if proof:
            raise LogError("a consistency proof from the empty tree must be empty")
        return
    if not proof:
        raise LogError("the consistency proof is empty")
    for p in proof:
        _check_hash(p)
    path = list(proof)
    if old & (old - 1) == 0:            # an exact power of 2
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise LogError("the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise LogError("the consistency proof is too short")
    if fr != old_root:
        raise LogError(f"the consistency proof does not lead to the root of size {old}")
    if sr != new_root:
        raise LogError(f"the consistency proof does not lead to the root of size {new}")


def _check_hash(value: bytes) -> None:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise LogError("a proof hash is not 32 bytes")


# --- checkpoints (c2sp.org/tlog-checkpoint) ---------------------------------------------------

@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        """The note text: origin, size, base64 root, extension lines, each ending in LF."""
        lines = [self.origin, str(self.size), b64(self.root), *self.extensions]
        for line in lines:
            if not line or "\n" in line:
                raise LogError(f"checkpoint line {line!r} is empty or holds a newline")
        return "".join(line + "\n" for line in lines)


_DECIMAL = re.compile(r"(0|[1-9][0-9]*)\Z")


def parse_checkpoint(text: str) -> Checkpoint:
    """The checkpoint of a note text (the part above the signatures)."""
    if not text.endswith("\n"):
        raise LogError("a checkpoint ends with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3 or any(not line for line in lines):
        raise LogError("a checkpoint has at least three non-empty lines")
    origin, size, root_b64 = lines[:3]
    if not _DECIMAL.match(size):
        raise LogError(f"tree size {size!r} is not a decimal number without leading zeroes")
    digest = unb64(root_b64)
    if len(digest) != HASH_SIZE or b64(digest) != root_b64:
        raise LogError(f"root hash {root_b64!r} is not the base64 of 32 bytes")
    return Checkpoint(origin, int(size), digest, tuple(lines[3:]))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise LogError(f"{text!r} is not base64") from None


# --- signed notes (c2sp.org/signed-note) ------------------------------------------------------

@dataclass(frozen=True)
class Signature:
    name: str
    key_id: int
    signature: bytes          # what follows the key ID

    def line(self) -> str:
        return f"{EM_DASH} {self.name} {b64(struct.pack('>I', self.key_id) + self.signature)}\n"


@dataclass(frozen=True)
class Note:
    text: str
    signatures: tuple[Signature, ...]

    def encode(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)


_MAX_SIGNATURES = 100


def _valid_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def parse_note(message: str) -> Note:
    """Split a signed note into its text and signature lines (nothing is verified here)."""
    if isinstance(message, bytes):
        try:
            message = message.decode("utf-8")
        except UnicodeDecodeError:
            raise LogError("a signed note is UTF-8") from None
    if any(ord(c) < 0x20 and c != "\n" for c in message):
        raise LogError("a signed note holds no control characters but newlines")
    split = message.rfind("\n\n")
    if split < 0 or not message.endswith("\n"):
        raise LogError("a signed note is its text, a blank line and signature lines")
    text, block = message[:split + 1], message[split + 2:]
    return Note(text, tuple(parse_signature_lines(block)))


def parse_signature_lines(block: str) -> list[Signature]:
    """Signature lines (``— <name> base64(key ID || signature)``, each ending in a newline):
    a note's, or a witness's answer to ``add-checkpoint``. Nothing is verified here."""
    if not block.endswith("\n"):
        raise LogError("signature lines end with a newline")
    signatures = []
    for line in block[:-1].split("\n"):
        prefix = EM_DASH + " "
        parts = line[len(prefix):].split(" ") if line.startswith(prefix) else []
        if len(parts) != 2 or not _valid_name(parts[0]):
            raise LogError(f"malformed signature line {line!r}")
        raw = unb64(parts[1])
        if len(raw) < 5:
            raise LogError(f"signature of {parts[0]} is too short")
        signatures.append(Signature(parts[0], struct.unpack(">I", raw[:4])[0], raw[4:]))
    if not signatures or len(signatures) > _MAX_SIGNATURES:
        raise LogError("a signed note has one signature or more (and not too many)")
    return signatures


def key_id(name: str, key_type: int, public_key: bytes) -> int:
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([key_type]) + public_key)
    return struct.unpack(">I", digest.digest()[:4])[0]


@dataclass(frozen=True)
class VerifierKey:
    """A verifier key: ``<name>+<key ID hex>+<base64(type || public key)>``."""

    name: str
    key_type: int
    public_key: bytes

    @property
    def key_id(self) -> int:
        return key_id(self.name, self.key_type, self.public_key)

    def __str__(self) -> str:
        return f"{self.name}+{self.key_id:08x}+{b64(bytes([self.key_type]) + self.public_key)}"


def parse_verifier_key(text: str) -> VerifierKey:
    parts = text.strip().split("+", 2)
    if len(parts) != 3 or not _valid_name(parts[0]) or not re.fullmatch(r"[0-9a-f]{8}", parts[1]):
        raise LogError(f"{text!r} is not a verifier key (name+hash+key)")
    raw = unb64(parts[2])
    if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE_V1):
        raise LogError(f"{text!r} is not an Ed25519 verifier key")
    key = VerifierKey(parts[0], raw[0], raw[1:])
    if f"{key.key_id:08x}" != parts[1]:
        raise LogError(f"{text!r}: the key hash does not match the key")
    return key


def verify_note(message: str, keys: Iterable[VerifierKey]) -> tuple[Note, list[VerifierKey]]:
    """Open a signed note with the trusted ``keys``: every signature of a known key (same
    name and key ID) must verify, and at least one must. Signatures of unknown keys are
    ignored, as the specification requires. Returns the note and the keys that signed it.
    Cosignature keys (type 0x04) are checked as tlog-cosignature/v1 timestamped signatures."""
    note = parse_note(message)
    known = {(k.name, k.key_id): k for k in keys}
    signed = []
    for sig in note.signatures:
        key = known.get((sig.name, sig.key_id))
        if key is None:
            continue
        if key.key_type == COSIGNATURE_V1 and len(sig.signature) != 72:
            raise LogError(f"the cosignature of {key.name} is not 8 + 64 bytes")
        if not _signature_holds(key, sig, note.text):
            raise LogError(f"the signature of {key.name}+{key.key_id:08x} does not verify")
        signed.append(key)
    if not signed:
        raise LogError("no signature of a trusted key on the note")
    return note, signed


def _signature_holds(key: VerifierKey, sig: Signature, text: str) -> bool:
    if key.key_type == COSIGNATURE_V1:
        if len(sig.signature) != 72:
            return False
        timestamp = struct.unpack(">Q", sig.signature[:8])[0]
        return timestamp < 1 << 63 and ed25519_verify(
            key.public_key, sig.signature[8:], cosignature_message(text, timestamp))
    return ed25519_verify(key.public_key, sig.signature, text.encode("utf-8"))


def cosigned_by(note: Note, keys: Iterable[VerifierKey]) -> tuple[list[VerifierKey],
                                                                   list[VerifierKey]]:
    """Which of ``keys`` (witnesses' cosignature keys) validly cosigned ``note``, and which
    put a signature line on it that does not verify; each key once, in the order given.
    Signatures of other keys are ignored. Unlike :func:`verify_note` nothing is raised: a
    client counts the valid cosignatures against the number it requires."""
    good: list[VerifierKey] = []
    bad: list[VerifierKey] = []
    for key in keys:
        if key in good or key in bad:
            continue
        mine = [s for s in note.signatures if (s.name, s.key_id) == (key.name, key.key_id)]
        if any(_signature_holds(key, s, note.text) for s in mine):
            good.append(key)
        elif mine:
            bad.append(key)
    return good, bad


def cosignature_message(text: str, timestamp: int) -> bytes:
    """What an Ed25519 cosigner signs (c2sp.org/tlog-cosignature, ``cosignature/v1``)."""
    return f"cosignature/v1\ntime {timestamp}\n".encode("utf-8") + text.encode("utf-8")


def cosignature_time(note: Note, key: VerifierKey) -> int | None:
    """The POSIX time of ``key``'s cosignature on ``note`` (verify the note first)."""
    for sig in note.signatures:
        if (sig.name, sig.key_id) == (key.name, key.key_id) and len(sig.signature) == 72:
            return struct.unpack(">Q", sig.signature[:8])[0]
    return None


# --- witnesses (c2sp.org/tlog-witness) ------------------------------------------------------

#: A witness answers a stale ``old`` size with 409 and its own size in this content type.
SIZE_CONTENT_TYPE = "text/x.tlog.size"
#: At most this many consistency proof lines in an ``add-checkpoint`` request.
MAX_PROOF_LINES = 63


def add_checkpoint_body(old: int, proof: Sequence[bytes], note: str) -> bytes:
    """The body of ``POST <prefix>/add-checkpoint``: ``old <size>``, one base64 consistency
    proof hash a line, an empty line, then the signed checkpoint."""
    if old < 0 or len(proof) > MAX_PROOF_LINES:
        raise LogError("an add-checkpoint request has a size >= 0 and at most 63 proof lines")
    for p in proof:
        _check_hash(p)
    return ("".join([f"old {old}\n", *(b64(p) + "\n" for p in proof), "\n", note])
            ).encode("utf-8")


def parse_add_checkpoint(body: bytes) -> tuple[int, list[bytes], str]:
    """``(old size, consistency proof, signed checkpoint note)`` of an ``add-checkpoint``
    request body; :class:`LogError` when it is malformed (the witness answers 400)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise LogError("the request is not UTF-8") from None
    head, blank, note = text.partition("\n\n")
    if not blank:
        raise LogError("the request has no empty line before the checkpoint")
    lines = head.split("\n")
    if not lines[0].startswith("old ") or not _DECIMAL.match(lines[0][4:]):
        raise LogError("the request does not start with an old size line (old <decimal>)")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise LogError(f"more than {MAX_PROOF_LINES} consistency proof lines")
    proof = []
    for line in lines[1:]:
        digest = unb64(line)
        if len(digest) != HASH_SIZE or b64(digest) != line:
            raise LogError(f"proof line {line!r} is not the base64 of 32 bytes")
        proof.append(digest)
    return int(lines[0][4:]), proof, note


def size_body(size: int) -> bytes:
    """The body of a 409 answer: the size the witness holds, in decimal, and a newline."""
    return f"{size}\n".encode("ascii")


def parse_size_body(body: bytes) -> int:
    text = body.decode("ascii", "replace")
    if not text.endswith("\n") or not _DECIMAL.match(text[:-1]):
        raise LogError(f"{text!r} is not a tree size and a newline")
    return int(text[:-1])


@dataclass(frozen=True)
class Witness:
    """A witness a log submits its checkpoints to: its submission prefix and its
    cosignature key (type 0x04)."""

    url: str
    key: VerifierKey

    @property
    def name(self) -> str:
        return self.key.name

    @property
    def add_checkpoint_url(self) -> str:
        return self.url.rstrip("/") + "/add-checkpoint"


def parse_witness_list(text: str) -> list[Witness]:
    """``URL VKEY`` entries, separated by commas or newlines (the ``LOG_WITNESSES`` setting):
    each witness's submission prefix (http or https) and its cosignature verifier key."""
    witnesses: list[Witness] = []
    for entry in re.split(r"[,\n]", text or ""):
        if not entry.strip():
            continue
        parts = entry.split()
        if len(parts) != 2:
            raise LogError(f"{entry.strip()!r} is not 'URL KEY' (a witness's submission "
                           "prefix and its cosignature key)")
        url, key_text = parts
        if not re.match(r"https?://[^/\s]+", url):
            raise LogError(f"{url!r} is not an http or https address")
        key = parse_verifier_key(key_text)
        if key.key_type != COSIGNATURE_V1:
            raise LogError(f"{key_text!r} is not a cosignature key (type 0x04, "
                           "c2sp.org/tlog-cosignature)")
        if any(w.key.name == key.name for w in witnesses):
            raise LogError(f"two witnesses are named {key.name!r}")
        witnesses.append(Witness(url, key))
    return witnesses


# --- signing (needs the cryptography package) -------------------------------------------------

class Signer:
    """An Ed25519 note signer from a ``PRIVATE+KEY+<name>+<hash>+<base64(0x01 || seed)>``
    string (golang.org/x/mod/sumdb/note's format)."""

    def __init__(self, name: str, seed: bytes):
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        if not _valid_name(name) or len(seed) != 32:
            raise LogError("a signer needs a valid name and a 32-byte Ed25519 seed")
        self.name = name
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        self.public_key = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.verifier = VerifierKey(name, ED25519, self.public_key)
        self.cosigner = VerifierKey(name, COSIGNATURE_V1, self.public_key)
        self._seed = seed

    @classmethod
    def parse(cls, text: str) -> "Signer":
        parts = text.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise LogError("a signer key reads PRIVATE+KEY+<name>+<hash>+<key>")
        raw = unb64(parts[4])
        if len(raw) != 33 or raw[0] != ED25519:
            raise LogError("the signer key is not an Ed25519 key")
        signer = cls(parts[2], raw[1:])
        if f"{signer.verifier.key_id:08x}" != parts[3]:
            raise LogError("the signer key's hash does not match the key")
        return signer

    def __str__(self) -> str:
        return (f"PRIVATE+KEY+{self.name}+{self.verifier.key_id:08x}+"
                f"{b64(bytes([ED25519]) + self._seed)}")

    def sign(self, text: str) -> Signature:
        if not text.endswith("\n"):
            raise LogError("a note text ends with a newline")
        return Signature(self.name, self.verifier.key_id, self._key.sign(text.encode("utf-8")))

    def sign_note(self, text: str) -> str:
        return Note(text, (self.sign(text),)).encode()

    def cosign(self, text: str, timestamp: int) -> Signature:
        """A tlog-cosignature/v1 signature line over a checkpoint's note text."""
        signature = self._key.sign(cosignature_message(text, timestamp))
        return Signature(self.name, self.cosigner.key_id,
                         struct.pack(">Q", timestamp) + signature)


# --- Ed25519 verification (RFC 8032) ----------------------------------------------------------

def ed25519_verify(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """Whether ``signature`` is ``public_key``'s Ed25519 signature of ``message``."""
    if len(public_key) != 32 or len(signature) != 64:
        return False
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    except ImportError:
        return ed25519_verify_pure(public_key, signature, message)
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


# The curve edwards25519: -x^2 + y^2 = 1 + d x^2 y^2 over GF(2^255 - 19); points in
# extended homogeneous coordinates (X, Y, Z, T) with x = X/Z, y = Y/Z, x y = T/Z.
_P = 2 ** 255 - 19
_L = 2 ** 252 + 27742317777372353535851937790883648493      # the base point's order
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _add(a, b):
    """RFC 8032 section 5.1.4: complete addition (also doubles)."""
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    pa = (y1 - x1) * (y2 - x2) % _P
    pb = (y1 + x1) * (y2 + x2) % _P
    pc = t1 * 2 * _D * t2 % _P
    pd = z1 * 2 * z2 % _P
    e, f, g, h = pb - pa, pd - pc, pd + pc, pb + pa
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _multiply(scalar: int, point):
    result = (0, 1, 1, 0)            # the neutral element
    while scalar:
        if scalar & 1:
            result = _add(result, point)
        point = _add(point, point)
        scalar >>= 1
    return result


def _decode_point(data: bytes):
    """RFC 8032 section 5.1.3; None when the bytes are not a point."""
    y = int.from_bytes(data, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    if y >= _P:
        return None
    u, v = (y * y - 1) % _P, (_D * y * y + 1) % _P
    x = u * pow(v, 3, _P) * pow(u * pow(v, 7, _P), (_P - 5) // 8, _P) % _P
    if (v * x * x - u) % _P:
        x = x * _SQRT_M1 % _P
        if (v * x * x - u) % _P:
            return None
    if x == 0 and sign:
        return None
    if x & 1 != sign:
        x = _P - x
    return (x, y, 1, x * y % _P)


def _encode_point(point) -> bytes:
    x, y, z, _ = point
    zi = pow(z, _P - 2, _P)
    x, y = x * zi % _P, y * zi % _P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


_BASE = _decode_point((4 * pow(5, _P - 2, _P) % _P).to_bytes(32, "little"))


def ed25519_verify_pure(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """RFC 8032 section 5.1.7 in plain Python, for a verifier without ``cryptography``.
    Only public values are handled here, so its timing leaks nothing."""
    if len(public_key) != 32 or len(signature) != 64:
        return False
    a = _decode_point(public_key)
    r = _decode_point(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if a is None or r is None or s >= _L:
        return False
    k = int.from_bytes(hashlib.sha512(signature[:32] + public_key + message).digest(),
                       "little") % _L
    return _encode_point(_multiply(s, _BASE)) == _encode_point(_add(r, _multiply(k, a)))


def ed25519_public_key_pure(seed: bytes) -> bytes:
    """The public key of a 32-byte seed (RFC 8032 section 5.1.5), for tests and tools."""
    digest = bytearray(hashlib.sha512(seed).digest()[:32])
    digest[0] &= 248
    digest[31] &= 127
    digest[31] |= 64
    return _encode_point(_multiply(int.from_bytes(digest, "little"), _BASE))


# --- tiles (c2sp.org/tlog-tiles) --------------------------------------------------------------

def tile_index_path(n: int) -> str:
    """``1234067`` -> ``x001/x234/067``."""
    if n < 0:
        raise ValueError("a tile index is not negative")
    groups = []
    while True:
        groups.append(f"{n % 1000:03d}")
        n //= 1000
        if n == 0:
            break
    groups.reverse()
    return "/".join(["x" + g for g in groups[:-1]] + [groups[-1]])


def tile_path(level: int | str, n: int, width: int = TILE_WIDTH) -> str:
    """``tile/<L>/<N>[.p/<W>]``; ``level`` is a number or ``"entries"``."""
    path = f"tile/{level}/{tile_index_path(n)}"
    if width != TILE_WIDTH:
        if not 1 <= width < TILE_WIDTH:
            raise ValueError(f"tile width {width}")
        path += f".p/{width}"
    return path


_TILE_PATH = re.compile(r"(?:x[0-9]{3}/)*[0-9]{3}(?:\.p/([1-9][0-9]{0,2}))?\Z")


def parse_tile_index(text: str) -> tuple[int, int]:
    """``x001/x234/067.p/9`` -> ``(1234067, 9)``; full tiles have width 256."""
    match = _TILE_PATH.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a tile index")
    width = int(match.group(1)) if match.group(1) else TILE_WIDTH
    if match.group(1) and width >= TILE_WIDTH:
        raise ValueError(f"partial tile width {width}")
    index_part = text.split(".p/")[0]
    n = int("".join(g.lstrip("x") for g in index_part.split("/")))
    if tile_index_path(n) != index_part:
        raise ValueError(f"{text!r} is not written the canonical way")
    return n, width


def tile_width(level: int, n: int, size: int) -> int:
    """How many hashes tile ``n`` of ``level`` holds in a tree of ``size`` (0: none)."""
    nodes = size >> (TILE_HEIGHT * level)       # complete subtrees of 256^level leaves
    return max(0, min(TILE_WIDTH, nodes - n * TILE_WIDTH))


def bundle(entries: Iterable[bytes]) -> bytes:
    """An entry bundle: each entry prefixed by its length as a big-endian uint16."""
    out = bytearray()
    for entry in entries:
        if len(entry) > 0xFFFF:
            raise ValueError("an entry is longer than 65535 bytes")
        out += struct.pack(">H", len(entry)) + entry
    return bytes(out)


def unbundle(data: bytes) -> list[bytes]:
    entries, i = [], 0
    while i < len(data):
        if i + 2 > len(data):
            raise LogError("an entry bundle ends inside a length")
        (n,) = struct.unpack(">H", data[i:i + 2])
        if i + 2 + n > len(data):
            raise LogError("an entry bundle ends inside an entry")
        entries.append(data[i + 2:i + 2 + n])
        i += 2 + n
    return entries


class TileReader:
    """Subtree hashes of the tree of ``size`` read from tiles, for proofs a client computes
    itself. ``fetch(path)`` returns the bytes served at ``<prefix>/<path>``; tiles are read
    once each. Nothing read is trusted: a proof made from them is verified against signed
    checkpoints, which is what catches a wrong tile."""

    def __init__(self, size: int, fetch: Callable[[str], bytes]):
        self.size, self._fetch, self._tiles = size, fetch, {}

    def _tile(self, level: int, n: int) -> bytes:
        width = tile_width(level, n, self.size)
        if width == 0:
            raise LogError(f"tile {level}/{n} does not exist in a tree of {self.size}")
        key = (level, n, width)
        if key not in self._tiles:
            data = self._fetch(tile_path(level, n, width))
            if len(data) != width * HASH_SIZE:
                raise LogError(f"{tile_path(level, n, width)} has {len(data)} bytes, "
                               f"not {width * HASH_SIZE}")
            self._tiles[key] = data
        return self._tiles[key]

    def node(self, height: int, index: int) -> bytes:
        """MTH of the perfect subtree of 2^height leaves starting at index * 2^height."""
        if (index + 1) << height > self.size:
            raise LogError(f"subtree {height}/{index} is not complete in a tree of {self.size}")
        level, below = divmod(height, TILE_HEIGHT)
        first = index << below                      # first hash in the tile's own level
        tile = self._tile(level, first // TILE_WIDTH)
        offset = first % TILE_WIDTH
        hashes = [tile[i * HASH_SIZE:(i + 1) * HASH_SIZE]
                  for i in range(offset, offset + (1 << below))]
        return perfect_root(hashes)

    def subtree(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for the subtrees proofs use (``start`` aligned to the largest
        power of two not above ``end - start``)."""
        n = end - start
        if n <= 0 or end > self.size:
            raise LogError(f"subtree {start}:{end} is outside a tree of {self.size}")
        if n & (n - 1) == 0 and start % n == 0:
            return self.node(n.bit_length() - 1, start // n)
        k = _split(n)
        return node_hash(self.subtree(start, start + k), self.subtree(start + k, end))

    def root(self) -> bytes:
        return self.subtree(0, self.size) if self.size else EMPTY_ROOT
