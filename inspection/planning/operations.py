"""Annual plans (年度抽查计划) and tasks (抽查任务): the operations views, API, CLI, the
draw and tests call, gathered in one place. The work is done in:

* :mod:`.plans`: the changes of plans (create, update, submit, approve, reject, publish,
  revise) and their rules;
* :mod:`.tasks`: the changes of tasks (create, update, submit, approve, reject, cancel) and
  their rules;
* :mod:`.queries`: reading both (the plan in force, pinned items, the employers a task's
  filters match ...);
* :mod:`.schemas`: the load schemas that check every input, types and cross-field rules, and
  that each change loads its values through;
* :mod:`.rules`: the numbers of the rules (ceilings, minimums, limits) and small helpers.

Each change validates, changes, writes the audit trail and commits, all or nothing; a refused
change raises :class:`~inspection.core.errors.ValidationFailed` naming every bad field.
"""
from __future__ import annotations

from .plans import (approve_plan, create_plan, publish_plan, reject_plan, revise_plan,
                    submit_plan, update_plan)
from .queries import (PinnedItem, count_matching, departments_of, get_plan, get_task,
                      has_key_item, history, list_plans, list_tasks, open_revision,
                      pinned_items, plan_in_force, plan_revisions, plan_values, plans_in_force,
                      preload_pinned_items, task_counts, task_filters_query, task_values,
                      task_years)
from .rules import (CANCELLABLE, FILTER_KEYS, FLAGS, GENERAL_TASK_RATIO_CEILING, GRADES,
                    IN_FORCE, KEY_TASK_RATIO_CEILING, MAX_FREQUENCY, MAX_INSPECTORS_PER_VISIT,
                    MAX_YEARLY_CAP, MIN_INSPECTORS_PER_VISIT, NAME_MAX, PLAN_FIELDS,
                    TASK_FIELDS, TEXT_MAX, YEAR_RANGE, default_grade_rules, local_today,
                    percent, ratio_text)
from .tasks import (approve_task, cancel_task, create_task, reject_task, submit_task,
                    update_task)

__all__ = [
    "approve_plan", "create_plan", "publish_plan", "reject_plan", "revise_plan", "submit_plan",
    "update_plan",
    "PinnedItem", "count_matching", "departments_of", "get_plan", "get_task", "has_key_item",
    "history", "list_plans", "list_tasks", "open_revision", "pinned_items", "plan_in_force",
    "plan_revisions", "plan_values", "plans_in_force", "preload_pinned_items", "task_counts",
    "task_filters_query", "task_values", "task_years",
    "CANCELLABLE", "FILTER_KEYS", "FLAGS", "GENERAL_TASK_RATIO_CEILING", "GRADES", "IN_FORCE",
    "KEY_TASK_RATIO_CEILING", "MAX_FREQUENCY", "MAX_INSPECTORS_PER_VISIT", "MAX_YEARLY_CAP",
    "MIN_INSPECTORS_PER_VISIT", "NAME_MAX", "PLAN_FIELDS", "TASK_FIELDS", "TEXT_MAX",
    "YEAR_RANGE", "default_grade_rules", "local_today", "percent", "ratio_text",
    "approve_task", "cancel_task", "create_task", "reject_task", "submit_task", "update_task",
]
