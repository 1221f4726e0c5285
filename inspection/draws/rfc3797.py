"""``inspection.draws.rfc3797.select`` is a contract other tools rely on (DESIGN.md, "Contracts").

The selection itself lives in the standalone engine (``draws/engine/rfc3797.py``), which the
public record offers for download; this module keeps the contract's path.
"""
from inspection.draws.engine.rfc3797 import *  # noqa: F401,F403
from inspection.draws.engine.rfc3797 import select  # noqa: F401
