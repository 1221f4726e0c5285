"""The demo gives a team-mate of inspector1 an account, so that two demo accounts can sign
one record in the field app (a sealed record needs two inspectors' signatures)."""
from __future__ import annotations

import json

from inspection.demo import PARTNER

CODE = """
import json, sys
from app import app
from inspection.core import operations as ops
from inspection.draws.team import queries as team_queries
with app.app_context():
    me, partner = ops.find_user("inspector1"), ops.find_user(sys.argv[1])
    accounts = [sum(1 for m in team_queries.members_of(a.visit)
                    if team_queries.inspectors_by_id([m.inspector_id])[m.inspector_id].user_id)
                for a in team_queries.my_visits(me)]
    print(json.dumps({"partner": partner is not None, "accounts": accounts,
                      "partner_visits": len(team_queries.my_visits(partner)) if partner else 0}))
"""


def test_inspector1_shares_a_visit_with_another_demo_account(server_python):
    found = json.loads(server_python(CODE, PARTNER))
    assert found["partner"], f"the demo account {PARTNER} is missing"
    assert found["accounts"], "inspector1 has no visit in the demo"
    # Two accounts on one team: inspector1 and inspector3 (or leader, when drawn together).
    assert max(found["accounts"]) >= 2, found
