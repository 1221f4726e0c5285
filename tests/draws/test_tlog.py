"""The public log's standards, checked against their published examples: RFC 6962/9162 Merkle
trees and proofs, c2sp.org signed notes, checkpoints, cosignatures and tiles, RFC 8032
Ed25519. A log nobody else's tools agree with would prove nothing to anybody."""
from __future__ import annotations

import base64
import functools
import hashlib
import struct

import pytest

from inspection.draws.engine import tlog

# --- RFC 6962 test vectors -------------------------------------------------------------------
# The reference leaves and roots of the Certificate Transparency implementations, as published
# in github.com/transparency-dev/merkle, proof/verify_test.go (leaves, roots for sizes 1..8,
# inclusion and consistency proofs); the empty tree's root is SHA-256 of nothing.

LEAVES = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f")]
ROOTS = [bytes.fromhex(h) for h in (
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")]
HASHES = [tlog.leaf_hash(leaf) for leaf in LEAVES]


def h(text: str) -> bytes:
    return bytes.fromhex(text)


#: (1-based leaf, tree size, proof), transparency-dev/merkle proof/verify_test.go.
INCLUSION = [
    (1, 1, []),
    (1, 8, [h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")]),
    (6, 8, [h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")]),
    (3, 3, [h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
    (2, 5, [h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")]),
]

#: (old size, new size, proof), the same file.
CONSISTENCY = [
    (1, 1, []),
    (1, 8, [h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")]),
    (6, 8, [h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")]),
    (2, 5, [h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")]),
    (6, 7, [h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")]),
]


def test_roots_match_rfc6962_reference():
    for size, expected in enumerate(ROOTS):
        assert tlog.root(HASHES[:size]) == expected, size
    assert tlog.EMPTY_ROOT == ROOTS[0]


def test_compact_range_gives_the_same_roots_and_the_last_leaf_proof():
    compact: list[bytes] = []
    for size, leaf in enumerate(HASHES):
        proof = tlog.last_leaf_proof(compact)
        compact = tlog.compact_append(compact, size, leaf)
        assert tlog.compact_root(compact) == ROOTS[size + 1]
        assert proof == tlog.inclusion_proof(size, size + 1, tlog.list_subtree(HASHES))
        tlog.verify_inclusion(size, size + 1, leaf, proof, ROOTS[size + 1])


@pytest.mark.parametrize("leaf, size, proof", INCLUSION)
def test_inclusion_vectors(leaf, size, proof):
    index = leaf - 1
    assert tlog.inclusion_proof(index, size, tlog.list_subtree(HASHES)) == proof
    tlog.verify_inclusion(index, size, HASHES[index], proof, ROOTS[size])
    # The corruptions of the same file: every one must fail.
    bad = [(index + 1, size, HASHES[index], proof, ROOTS[size]),
           (index, size * 2, HASHES[index], proof, ROOTS[size]),
           (index, size, tlog.leaf_hash(b"WrongLeaf"), proof, ROOTS[size]),
           (index, size, HASHES[index], proof, ROOTS[0]),
           (index, size, HASHES[index], proof + [ROOTS[size]], ROOTS[size]),
           (index, size, HASHES[index], [ROOTS[size]] + proof, ROOTS[size])]
    if index:
        bad.append((index - 1, size, HASHES[index], proof, ROOTS[size]))
    for n, _ in enumerate(proof):
        flipped = [bytes([p[0] ^ 8]) + p[1:] if i == n else p for i, p in enumerate(proof)]
        bad.append((index, size, HASHES[index], flipped, ROOTS[size]))
    if proof:
        bad.append((index, size, HASHES[index], proof[:-1], ROOTS[size]))
    for args in bad:
        with pytest.raises(tlog.LogError):
            tlog.verify_inclusion(*args)


@pytest.mark.parametrize("old, new, proof", CONSISTENCY)
def test_consistency_vectors(old, new, proof):
    assert tlog.consistency_proof(old, new, tlog.list_subtree(HASHES)) == proof
    tlog.verify_consistency(old, new, ROOTS[old], ROOTS[new], proof)
    if not proof:
        return
    bad = [(old - 1, new, ROOTS[old], ROOTS[new], proof),
           (old + 1, new, ROOTS[old], ROOTS[new], proof),
           (old, new * 2, ROOTS[old], ROOTS[new], proof),
           (old, new, ROOTS[new], ROOTS[old], proof),
           (old, new, ROOTS[old], ROOTS[new], []),
           (old, new, ROOTS[old], ROOTS[new], proof + [ROOTS[old]]),
           (old, new, ROOTS[old], ROOTS[new], [proof[0]] + proof),
           (old, new, ROOTS[old], ROOTS[new], proof[:-1])]
    for n, _ in enumerate(proof):
        flipped = [bytes([p[0] ^ 16]) + p[1:] if i == n else p for i, p in enumerate(proof)]
        bad.append((old, new, ROOTS[old], ROOTS[new], flipped))
    for args in bad:
        with pytest.raises(tlog.LogError):
            tlog.verify_consistency(*args)


def test_consistency_edge_cases():
    # transparency-dev/merkle proof/verify_test.go TestVerifyConsistency: sizes that are
    # always consistent, and the ones that never are.
    tlog.verify_consistency(0, 0, ROOTS[0], ROOTS[0], [])
    tlog.verify_consistency(0, 5, b"x" * 32, ROOTS[5], [])
    for args in [(1, 1, ROOTS[1], ROOTS[2], []), (1, 0, ROOTS[1], ROOTS[0], []),
                 (1, 2, ROOTS[1], ROOTS[2], []), (0, 1, ROOTS[0], ROOTS[1], [ROOTS[0]]),
                 (1, 1, ROOTS[1], ROOTS[1], [ROOTS[0]])]:
        with pytest.raises(tlog.LogError):
            tlog.verify_consistency(*args)


def test_every_proof_of_small_trees_verifies():
    hashes = [tlog.leaf_hash(bytes([i, i * 7 % 256])) for i in range(40)]
    subtree = tlog.list_subtree(hashes)
    roots = [tlog.root(hashes[:n]) for n in range(41)]
    for new in range(41):
        for index in range(new):
            tlog.verify_inclusion(index, new, hashes[index],
                                  tlog.inclusion_proof(index, new, subtree), roots[new])
        for old in range(new + 1):
            tlog.verify_consistency(old, new, roots[old], roots[new],
                                    tlog.consistency_proof(old, new, subtree))


# --- a real Certificate Transparency log ------------------------------------------------------
# golang.org/x/mod, sumdb/tlog/testdata/argon2020: Google's Argon 2020 log answering get-sth,
# get-entries?start=10000&end=10000, get-proof-by-hash and get-sth-consistency?first=3654490.

ARGON_SIZE = 961984013
ARGON_ROOT = "dwlueapdd7LaOEnX2W2Wp9v2XE+KzejHRQGHwEx0oaM="
ARGON_LEAF = (
    "AAAAAAFelPhqUwAAAAViMIIFXjCCBEagAwIBAgIRAOodHzZdqWIFzYyl/SovhCMwDQYJKoZIhvcNAQELBQAwgZAxCzAJ"
    "BgNVBAYTAkdCMRswGQYDVQQIExJHcmVhdGVyIE1hbmNoZXN0ZXIxEDAOBgNVBAcTB1NhbGZvcmQxGjAYBgNVBAoTEUNP"
    "TU9ETyBDQSBMaW1pdGVkMTYwNAYDVQQDEy1DT01PRE8gUlNBIERvbWFpbiBWYWxpZGF0aW9uIFNlY3VyZSBTZXJ2ZXIg"
    "Q0EwHhcNMTcwMjE1MDAwMDAwWhcNMjAwNDE2MjM1OTU5WjBfMSEwHwYDVQQLExhEb21haW4gQ29udHJvbCBWYWxpZGF0"
    "ZWQxHTAbBgNVBAsTFFBvc2l0aXZlU1NMIFdpbGRjYXJkMRswGQYDVQQDDBIqLmxhbmRsb3Jkcy5jb20uYXUwggEiMA0G"
    "CSqGSIb3DQEBAQUAA4IBDwAwggEKAoIBAQCtPBKKHj4zdrGlCjgTHzb5gx9JCs97DwvBz60f14gDufF2haWbOxyJ0a3o"
    "pAMsZnOr8HkARVCwxdqG/PTfACcb0QM7FOlzvxGqxataTYiChwvkkif8F9GlJw69HuHgzhusPf1Ytfk3ps1PRC14Mkyr"
    "S4kwPrk/Le4XdkqRpRw62wG4V6IkbzsNMEOl1H8EgUbfyapdOcVxHjIzvBVy56fBRKG05Fr5wNq3Acak5kYZdNsLhhml"
    "rqAfAjiombW3hb3V5blJdRC0BDdYHv2+zKey6LqJ1FDoXo6IzbzPpC+aifZy47YX+/N1U64Qn5xlDg7mOP8JXfkNJHbU"
    "1TJZHif5AgMBAAGjggHhMIIB3TAfBgNVHSMEGDAWgBSQr2o6lFoL2JDqElZz30O0Oija5zAdBgNVHQ4EFgQUNQSLjkoz"
    "01I+iuuoC5lgEp0anhcwDgYDVR0PAQH/BAQDAgWgMAwGA1UdEwEB/wQCMAAwHQYDVR0lBBYwFAYIKwYBBQUHAwEGCCsG"
    "AQUFBwMCME8GA1UdIARIMEYwOgYLKwYBBAGyMQECAgcwKzApBggrBgEFBQcCARYdaHR0cHM6Ly9zZWN1cmUuY29tb2Rv"
    "LmNvbS9DUFMwCAYGZ4EMAQIBMFQGA1UdHwRNMEswSaBHoEWGQ2h0dHA6Ly9jcmwuY29tb2RvY2EuY29tL0NPTU9ET1JT"
    "QURvbWFpblZhbGlkYXRpb25TZWN1cmVTZXJ2ZXJDQS5jcmwwgYUGCCsGAQUFBwEBBHkwdzBPBggrBgEFBQcwAoZDaHR0"
    "cDovL2NydC5jb21vZG9jYS5jb20vQ09NT0RPUlNBRG9tYWluVmFsaWRhdGlvblNlY3VyZVNlcnZlckNBLmNydDAkBggr"
    "BgEFBQcwAYYYaHR0cDovL29jc3AuY29tb2RvY2EuY29tMC8GA1UdEQQoMCaCEioubGFuZGxvcmRzLmNvbS5hdYIQbGFu"
    "ZGxvcmRzLmNvbS5hdTANBgkqhkiG9w0BAQsFAAOCAQEACyHqxUzrexToY7tOv4+kyGPP2D27P1tQpyzeAl1bPObiMhNK"
    "2b9vvBLDWAaqm8c0YL1h+DBdLoWzf3xFsIkTCVCjWJTNSNlcYtgRk6or1s7jWsfXzWqsnPjPPmTIOCw7EfH7Yme3oxPs"
    "3UUsmShAgPwNohAtL9GqlqMiKM6v1WU3NHt01jEoNP23LRa6KeNK6AH6WHJykzL223IlhgXjHTeuQj6lR+TNrQXJuhwT"
    "XYe+20rrpPQxc1Pn7AqnvfWgmicRQ7gdIcr4V6+ecTvLfNOaJ0ZYe5G5giuAAdTm7F57pk04f4gyZNYKrj88mvbkoriN"
    "8b6jcWExtrYO6bm2TwAA")
ARGON_PATH = """
T46AmJsuOM/gFiGlUp+IJJebp+1Z5qratFNW7U0JyOQ= 9Jj1Feodn42uRYEfffkV4HF/EIPFQ5Zo9IwkxbQ2uhk=
D53/1oCNebF4J59HHgioovKZxrmrKcVuCVhy3Izg8Ck= wSFDgGSrsXRPA+1c8WHoAFCsWeUv8NDyP/Q/SgsyVyY=
516/RcwsgdwdzHn18v1dJHqBkgFUbNhmCIWOGjsMJaE= naTFY2ajLFgrgs5XUl+zJYZnnlJksLGsA1VYwpLfqbY=
mKBRJo6qao+0Kdh/rhGkZUbHUAxMhrtrclrTpIbNjIg= Co4ueOFE7lpifLio94irxxsv1wFMMaK3tPu2ZQkHlro=
yRgy800K6JMYCC05sWfqF2kvCg2riT/pVM+nEa6V5+0= n2O38XJZC8/Wpbwi9HhgVizlUyeUHVZvYyQB1607MRc=
go3tAjuNfNSCj87y2Rg1xOroDknGN1eaf3cgvzObf7Q= 8D0Mj3/J7ySSnFb0afIHYXv6rlOhECnsebY6XKi1IR8=
6rcez46ZU8M5vPiWVMAUfJfAOV0pPP/mch/lYzZhj/M= 2rtIeXrPvSdUyHc5maIgSAVB2BzaKaupWxSAiVayDE4=
nniW/IMFQPN5xw8UsHFn7CRStYbm1gLu7NNa6kkRqJQ= mRPPi7sQS22MduIEyvcNzCNFqIt6kLwYPkNKrVtIcu8=
JvTivzESNS9wHI8aph5a7uieVmtS/p9PciMZ5D6GyOo= UTyQd+Ym0wY4zG+qK806bBORwi1CSVvFQ/KknnqoZj8=
hXODrqN+ff+U6zPqRQ+ZQKs6im1fPcxIerDSfNwflhE= II6GE+WY/DrpZzfHztLwkR46o37zVkNLCyPYlf68zA0=
d609kWWcNBllbA8Jb/ad4XAVVGnScLRmtP8FYyr+Dck= rikBsP0G0gioXRpBFED2CzQdSLrGPvRd0bEcbEZw1rI=
GXIElfmnRuWfbA4z7ubV/UwlpSRUbUeec7oL5HDDnh0= pR0SH/NYP6s9+8azWwaeUXA4Ze/3WCIgMfh5YW6wvcE=
f3GuAKYVrF8RBg3s15jvA/YvV9oAliWtzP/imwPhQVA= WHn8zDxlVgkV+lSlmzaOdfSBrTHoRr5nT3d76q0KKWE=
f2uV2ZxVgULzLPKuZcowRY3ZY7fRlX59iDBjV1R8kNQ= NzQVjJsvQwbi7WStMr9oFkh9VbHfK7LB6o7WwAqwNTs=
C0LttBeYHZHgL+032JIcJC3CTBIyza/hsbmJUgJfmDI= nixU5CWTFVDlF4BGdcU6kA7WSYurEpe9jRWc+F/7sOc=
""".split()
ARGON_OLD_SIZE = 3654490
ARGON_OLD_ROOT = "AuIZ5V6sDUj1vn3Y1K85oOaQ7y+FJJKtyRTl1edIKBQ="
ARGON_CONSISTENCY = """
80Sfbj6UQEdVSZCSIgh9NMPj3vCBzcc1A48B2crJSWg= FZcrgAHUk6nNPviJZq8kEK6jCG1d18pJOFE45ZDc1TQ=
Q67reWXmPBo1UfmwBap4Xi9PMPfFdUSSw3WGlRZdG7k= eJ7CyhR4PxzBxDIsWgrVYW1eFUb9ndgf46tFmiqVrxA=
QrDwp062Grm5WY8KdrhFsBuuNjGzRox2Jb8PmVL5OYw= XM4YMjMEdLH/XJam/ZWyaP14k3cmsOtnPsOWQ54lW1s=
SGiBh+jOTGccXU48ZzgQ88lRcBmtB4wz4oSDndv2QTg= WAS6txqNLYKGL1GdBdpqmV42TTfn6cJsuDsqLXuTCNI=
QFmRS0rirUA7ZN3lxFjDncV+E1OCrn3NUB4RCp+5fzc= Hdbp7It2XBNZmNDBpCN/KPd7vfVqxgzwOosqVIaEA9E=
mxvHL0ZiblBdD7j7pIa1jlfB0gSqfJ6oX0UGo7L0VsU= q5hjyvoW6TL/PThgcitpDcSTrnKX2p1+aqscqH2euRA=
jTOWDqt3IHj2NVFeezyBz2ofpru+ztEywqKUAfFclKI= GIRn0w3HqJdvU9j1WVD//eR6lk2AaTVjyzjsJNP8U88=
x52GJvxG81fnQBrgOTbll1A5tz95/LXK0Ag1NhB0r1I= 6/0OqrcTgc3o5dD5PymmoC96lB9yLPFuTHVvLy8fSGk=
Gf+iKLfcXO5l4JEFmsZvSdG5q1uEeWPfYLrds6pmjz0= DGuaco+McyM3AfRSF6qX7RwSetwe2ieYJmxw5e9rVx0=
2tQJ9V32hnYp+fdpP6TcjmgJmLeNVOMKM0Ml1kk4cNU= 3PapK+IkyJr8I9yAErAmzuZezzLMzsg+PfeRCgNW8NQ=
s6xiYeejb+wtqHA+URJZ2I/SCPyIW8coP6aB00FJbMY= z9lSpmdTcr5M5ZzKlc4EPh3SrSypKFdk6JUF/UccaZU=
GXIElfmnRuWfbA4z7ubV/UwlpSRUbUeec7oL5HDDnh0= pR0SH/NYP6s9+8azWwaeUXA4Ze/3WCIgMfh5YW6wvcE=
f3GuAKYVrF8RBg3s15jvA/YvV9oAliWtzP/imwPhQVA= WHn8zDxlVgkV+lSlmzaOdfSBrTHoRr5nT3d76q0KKWE=
f2uV2ZxVgULzLPKuZcowRY3ZY7fRlX59iDBjV1R8kNQ= NzQVjJsvQwbi7WStMr9oFkh9VbHfK7LB6o7WwAqwNTs=
C0LttBeYHZHgL+032JIcJC3CTBIyza/hsbmJUgJfmDI= nixU5CWTFVDlF4BGdcU6kA7WSYurEpe9jRWc+F/7sOc=
""".split()


def test_a_real_certificate_transparency_log():
    root = base64.b64decode(ARGON_ROOT)
    leaf = tlog.leaf_hash(base64.b64decode(ARGON_LEAF))
    path = [base64.b64decode(p) for p in ARGON_PATH]
    tlog.verify_inclusion(10000, ARGON_SIZE, leaf, path, root)
    with pytest.raises(tlog.LogError):
        tlog.verify_inclusion(10001, ARGON_SIZE, leaf, path, root)
    proof = [base64.b64decode(p) for p in ARGON_CONSISTENCY]
    old = base64.b64decode(ARGON_OLD_ROOT)
    tlog.verify_consistency(ARGON_OLD_SIZE, ARGON_SIZE, old, root, proof)
    with pytest.raises(tlog.LogError):
        tlog.verify_consistency(ARGON_OLD_SIZE + 1, ARGON_SIZE, old, root, proof)


# --- signed notes (c2sp.org/signed-note; golang.org/x/mod/sumdb/note/note_test.go) ------------

PETER_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_KEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_KEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = ("If you think cryptography is the answer to your problem,\n"
        "then you don't know what your problem is.\n")
PETER_SIG = ("\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvq"
             "fqdngotpRZb6KE6RyyBwJnAM=\n")
ENOCH_SIG = ("\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01o"
             "OTGwnWLox33WWd1RvMc+QQ=\n")


def test_signing_gives_the_published_note():
    signer = tlog.Signer.parse(PETER_SIGNER)
    assert str(signer) == PETER_SIGNER
    assert str(signer.verifier) == PETER_KEY
    assert signer.sign_note(TEXT) == TEXT + "\n" + PETER_SIG


def test_verifier_keys_round_trip_and_manglings_are_refused():
    for text in (PETER_KEY, ENOCH_KEY):
        assert str(tlog.parse_verifier_key(text)) == text
    for bad in (PETER_KEY[:-1], PETER_KEY.replace("c74f20a3", "c74f20a4"),
                "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
                "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
                "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"):
        with pytest.raises(tlog.LogError):
            tlog.parse_verifier_key(bad)


def test_opening_notes_like_the_go_implementation():
    peter, enoch = tlog.parse_verifier_key(PETER_KEY), tlog.parse_verifier_key(ENOCH_KEY)
    message = TEXT + "\n" + PETER_SIG + ENOCH_SIG
    note, signed = tlog.verify_note(message, [peter])          # Enoch's is ignored
    assert note.text == TEXT and signed == [peter]
    assert tlog.verify_note(message, [peter, enoch])[1] == [peter, enoch]
    with pytest.raises(tlog.LogError):
        tlog.verify_note(message, [])                          # no trusted signature
    with pytest.raises(tlog.LogError):                         # a known key's bad signature
        tlog.verify_note(TEXT + "\n" + PETER_SIG[:60] + "ABCD" + PETER_SIG[60:], [peter])
    for bad in (TEXT, TEXT + "\n", TEXT + "\n" + PETER_SIG[:-1], "\x01" + TEXT + "\n" + PETER_SIG,
                TEXT + "\n" + "\u2014 Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGU"
                "gYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
                TEXT + "\n" + PETER_SIG + "Unexpected line.\n"):
        with pytest.raises(tlog.LogError):
            tlog.verify_note(bad, [peter])


# --- Ed25519 (RFC 8032 section 7.1, tests 1 and 2) --------------------------------------------

RFC8032 = [
    ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e397"
     "01cf9b46bd25bf5f0595bbe24655141438e7a100b"),
    ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f361"
     "3d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
]


@pytest.mark.parametrize("seed, public, message, signature", RFC8032)
def test_ed25519_without_the_cryptography_package(seed, public, message, signature):
    """The verifier's fallback, for people without ``cryptography``, agrees with RFC 8032."""
    public, message, signature = h(public), h(message), h(signature)
    assert tlog.ed25519_public_key_pure(h(seed)) == public
    assert tlog.ed25519_verify_pure(public, signature, message)
    assert tlog.ed25519_verify(public, signature, message)
    assert not tlog.ed25519_verify_pure(public, signature, message + b"!")
    assert not tlog.ed25519_verify_pure(public, signature[:63] + bytes([signature[63] ^ 1]),
                                        message)
    # S at or above the group order is refused (RFC 8032 section 5.1.7 step 1).
    s = int.from_bytes(signature[32:], "little") + tlog._L
    if s < 2 ** 256:
        forged = signature[:32] + s.to_bytes(32, "little")
        assert not tlog.ed25519_verify_pure(public, forged, message)


def test_pure_and_library_checks_agree_on_the_go_note():
    key = tlog.parse_verifier_key(PETER_KEY)
    sig = tlog.parse_note(TEXT + "\n" + PETER_SIG).signatures[0]
    assert sig.key_id == 0xC74F20A3
    assert tlog.ed25519_verify_pure(key.public_key, sig.signature, TEXT.encode())
    assert tlog.ed25519_verify(key.public_key, sig.signature, TEXT.encode())


# --- checkpoints (c2sp.org/tlog-checkpoint) and cosignatures ----------------------------------

SOFA = ("example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n")
SOFA_SIGNED = (SOFA + "\n\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurm"
               "RDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
               "\u2014 witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZC"
               "B9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n")


def test_the_specifications_example_checkpoint():
    note = tlog.parse_note(SOFA_SIGNED)
    checkpoint = tlog.parse_checkpoint(note.text)
    assert (checkpoint.origin, checkpoint.size) == ("example.com/behind-the-sofa", 20852163)
    assert checkpoint.text() == SOFA == note.text
    log, witness = note.signatures
    assert log.name == "example.com/behind-the-sofa" and len(log.signature) == 64
    # A cosignature: key ID, then the big-endian timestamp, then 64 bytes of signature.
    assert witness.name == "witness.example.com/w1" and len(witness.signature) == 72
    assert struct.unpack(">Q", witness.signature[:8])[0] == 1679315147
    assert note.encode() == SOFA_SIGNED


def test_the_signed_note_specifications_example():
    # c2sp.org/signed-note: a text may hold empty lines; the last one separates the
    # signatures. (Its key is not published: the signature is parsed, not verified.)
    text = ("Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\n"
            "ed \u00e8 subito sera.\n")
    message = (text + "\n\u2014 quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5dd"
               "nGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n")
    note = tlog.parse_note(message)
    assert note.text == text and note.encode() == message
    (sig,) = note.signatures
    assert sig.name == "quasimodo.example/salvatore" and len(sig.signature) == 64


def test_go_sumdb_tree_format():
    # golang.org/x/mod/sumdb/tlog/note_test.go TestFormatTree: a checkpoint body is exactly
    # the origin, the size and the base64 root (RecordHash is the RFC 6962 leaf hash).
    body = tlog.Checkpoint("go.sum database tree", 123456789012, tlog.leaf_hash(b"hello world"))
    assert body.text() == ("go.sum database tree\n123456789012\n"
                           "TszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n")
    for bad in ("go.sum database tree\n0xabcdef\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n",
                "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBTOOBIG=\n",
                "go.sum database tree\n0123\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n",
                "go.sum database tree\n123\n"):
        with pytest.raises(tlog.LogError):
            tlog.parse_checkpoint(bad)


def test_cosignature_v1_is_checked_with_the_cosigner_key():
    witness = tlog.Signer("witness.example/w1", hashlib.sha256(b"w").digest())
    line = witness.cosign(SOFA, 1679315147)
    # The key ID of a cosignature key uses signature type 0x04.
    assert line.key_id == tlog.key_id("witness.example/w1", 0x04, witness.public_key)
    message = SOFA + "\n" + line.line()
    note, signed = tlog.verify_note(message, [witness.cosigner])
    assert signed == [witness.cosigner] and tlog.cosignature_time(note, witness.cosigner) \
        == 1679315147
    # The same key as a plain Ed25519 key does not match the cosignature's key ID.
    with pytest.raises(tlog.LogError):
        tlog.verify_note(message, [witness.verifier])
    with pytest.raises(tlog.LogError):        # another time than the one signed
        tlog.verify_note(message.replace(line.line(), tlog.Signature(
            line.name, line.key_id, struct.pack(">Q", 1) + line.signature[8:]).line()),
            [witness.cosigner])


# --- tiles (c2sp.org/tlog-tiles) --------------------------------------------------------------

def test_tile_paths():
    assert tlog.tile_index_path(1234067) == "x001/x234/067"
    assert tlog.tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tlog.tile_path(1, 5, 17) == "tile/1/005.p/17"
    assert tlog.tile_path("entries", 0, 3) == "tile/entries/000.p/3"
    # golang.org/x/mod/sumdb/tlog FuzzParseTilePath's seeds, the index part.
    assert tlog.parse_tile_index("001") == (1, 256)
    assert tlog.parse_tile_index("001.p/5") == (1, 5)
    assert tlog.parse_tile_index("x123/x456/078") == (123456078, 256)
    assert tlog.parse_tile_index("x003/x057/500") == (3057500, 256)
    for bad in ("123/456/078", "-1", "x000/001", "001.p/0", "001.p/256", "1", "001.p/05"):
        with pytest.raises(ValueError):
            tlog.parse_tile_index(bad)


def test_tile_widths_of_the_specifications_example():
    # c2sp.org/tlog-tiles: a tree of 70,000 has 273 full level-0 tiles, a partial one of
    # width 112, one full level-1 tile, a partial one of width 17 and a level-2 one of 1.
    size = 70000
    assert [tlog.tile_width(0, n, size) for n in (0, 272, 273, 274)] == [256, 256, 112, 0]
    assert [tlog.tile_width(1, n, size) for n in (0, 1, 2)] == [256, 17, 0]
    assert [tlog.tile_width(2, n, size) for n in (0, 1)] == [1, 0]
    assert tlog.tile_width(3, 0, size) == 0
    # "a tree of size 256 will be represented by a full level 0 tile and a partial level 1
    # tile of width 1".
    assert (tlog.tile_width(0, 0, 256), tlog.tile_width(1, 0, 256)) == (256, 1)


def _tiles_of(hashes):
    """Serve the tiles of a tree the way the specification defines them."""
    @functools.lru_cache(maxsize=None)
    def fetch(path):
        parts = path.split("/", 2)
        level, (n, width) = int(parts[1]), tlog.parse_tile_index(parts[2])
        span = 256 ** level
        out = b""
        for i in range(width):
            start = (n * 256 + i) * span
            out += tlog.perfect_root(hashes[start:start + span])
        return out
    return fetch


def test_proofs_from_tiles_across_tile_levels():
    hashes = [tlog.leaf_hash(str(i).encode()) for i in range(66000)]
    subtree = functools.lru_cache(maxsize=None)(tlog.list_subtree(hashes))
    fetch = _tiles_of(hashes)
    for size in (1, 255, 256, 257, 65536, 66000):
        reader = tlog.TileReader(size, fetch)
        assert reader.root() == tlog.root(hashes[:size]), size
        for old in (1, 200, 256, 300, 65535, 65536):
            if old <= size:
                assert tlog.consistency_proof(old, size, reader.subtree) \
                    == tlog.consistency_proof(old, size, subtree)
        for index in (0, size // 2, size - 1):
            assert tlog.inclusion_proof(index, size, reader.subtree) \
                == tlog.inclusion_proof(index, size, subtree)


def test_entry_bundles_round_trip():
    entries = [b"", b"a", "抽查".encode(), b"x" * 300]
    data = tlog.bundle(entries)
    assert data[:2] == b"\x00\x00" and tlog.unbundle(data) == entries
    with pytest.raises(tlog.LogError):
        tlog.unbundle(data[:-1])
