"""The demo gives inspector1's team-mate an account, so that two demo accounts can sign one
record in the field app (a sealed record needs two inspectors' signatures)."""
from __future__ import annotations

import json

from inspection.demo import PARTNER

CODE = """
import json, sys
from app import app
from inspection.core import operations as ops
from inspection.draws import team_ops
with app.app_context():
    print(json.dumps({name: [a.visit.number for a in team_ops.my_visits(ops.find_user(name))]
                      for name in sys.argv[1:]}))
"""


def test_the_demo_partner_shares_inspector1s_first_visit(server_python):
    visits = json.loads(server_python(CODE, "inspector1", PARTNER))
    assert visits["inspector1"], "inspector1 has no visit in the demo"
    assert visits["inspector1"][0] in visits[PARTNER]
