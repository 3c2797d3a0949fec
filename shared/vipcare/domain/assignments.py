"""Tasks given by hand (docs/reminders.md "Assigned tasks"): who may give a task to whom, and
who may pass it on. Pure: the supervisor chain is passed in as a lookup.

- Creating: supervisors and above (and admins) give a task to anyone of the brand; a manager
  only to someone below them in the supervisor chain.
- Passing on: the holder, or anyone above the holder, passes it down the chain, to someone
  below the holder; never sideways or up. Admins may give it to anyone.
- Completing: the holder, anyone above them, or an admin.
"""

from __future__ import annotations

from collections.abc import Callable

from .access import SUPERVISOR_OR_ABOVE, Caller, Role
from .errors import Forbidden

MAX_CHAIN = 12  # deeper than any real chain; a cycle in the directory ends the walk here

SupervisorOf = Callable[[str], str | None]


def above(boss_id: str, staff_id: str, supervisor_of: SupervisorOf) -> bool:
    """Whether `boss_id` is strictly above `staff_id` in the supervisor chain."""
    current: str | None = staff_id
    for _ in range(MAX_CHAIN):
        current = supervisor_of(current) if current else None
        if current is None:
            return False
        if current == boss_id:
            return True
    return False


def at_or_above(boss_id: str, staff_id: str, supervisor_of: SupervisorOf) -> bool:
    return boss_id == staff_id or above(boss_id, staff_id, supervisor_of)


def check_create(caller: Caller, assignee_id: str, supervisor_of: SupervisorOf) -> None:
    if caller.role in SUPERVISOR_OR_ABOVE:
        return
    if caller.role is Role.MANAGER and above(caller.staff_id, assignee_id, supervisor_of):
        return
    if caller.role is Role.MANAGER:
        raise Forbidden("a manager gives tasks only to someone below them", field="assignee_id")
    raise Forbidden("tasks are given by managers, supervisors and above")


def check_pass_on(caller: Caller, holder_id: str, assignee_id: str, supervisor_of: SupervisorOf) -> None:
    if caller.role is Role.ADMIN:
        return
    if not at_or_above(caller.staff_id, holder_id, supervisor_of):
        raise Forbidden("only the holder of the task or someone above them passes it on")
    if not above(holder_id, assignee_id, supervisor_of):
        raise Forbidden("a task is passed down the supervisor chain, never sideways or up", field="assignee_id")


def check_complete(caller: Caller, holder_id: str, supervisor_of: SupervisorOf) -> None:
    if caller.role is Role.ADMIN or at_or_above(caller.staff_id, holder_id, supervisor_of):
        return
    raise Forbidden("only the holder of the task or someone above them completes it")
