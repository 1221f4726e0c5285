"""The pure draw engine: what anyone outside the bureau needs to re-run a published draw.

``rfc3797.py`` (the selection), ``teams.py`` (the team assignment), ``tlog.py`` (the public
log's proofs and signatures; ``cryptography`` only to sign, or to check signatures faster)
and ``verify.py`` (the public verifier) use the standard library only and nothing else of
the application: the public record offers these very files for download, and ``verify.py``
run as a script loads its siblings by path. Keep it that way: nothing here imports Flask, SQLAlchemy or another
``inspection`` module, and this ``__init__`` imports nothing, so that
``python -m inspection.draws.engine.verify`` stays on the standard library too.
"""
