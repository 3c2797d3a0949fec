"""Who is calling and what they may see. Roles, the escalation ladder, brand/store scope."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .errors import Forbidden, NotFound


class Role(StrEnum):
    STORE_STAFF = "store_staff"
    MANAGER = "manager"
    SUPERVISOR = "supervisor"
    DEPARTMENT_HEAD = "department_head"
    VICE_PRESIDENT = "vice_president"
    TECHNICAL_SUPPORT = "technical_support"
    ADMIN = "admin"


# Reports and decisions that need someone above the shop floor (tier decisions, advice).
SUPERVISOR_OR_ABOVE = (Role.SUPERVISOR, Role.DEPARTMENT_HEAD, Role.VICE_PRESIDENT, Role.ADMIN)


# The escalation ladder (docs/domain.md §5): agent -> supervisor -> department head -> VP.
LADDER: tuple[Role, ...] = (
    Role.STORE_STAFF,
    Role.MANAGER,
    Role.SUPERVISOR,
    Role.DEPARTMENT_HEAD,
    Role.VICE_PRESIDENT,
)

# Roles whose view is limited to the members of their own store (docs/domain.md §7).
STORE_SCOPED_ROLES = frozenset({Role.STORE_STAFF, Role.MANAGER})


@dataclass(frozen=True, slots=True)
class Caller:
    """A signed-in staff member, as the API's Cognito authorizer vouches for them."""

    staff_id: str
    brand_id: str
    store_id: str | None
    role: Role

    @property
    def store_scoped(self) -> bool:
        return self.role in STORE_SCOPED_ROLES

    @property
    def source(self) -> str:
        """How this caller is recorded on consents, audits and histories."""
        return f"staff:{self.staff_id}"


def ensure_visible(caller: Caller, *, brand_id: str, store_id: str | None, what: str) -> None:
    """Raise NotFound when the item is outside the caller's brand or (store-scoped) store.

    A 404, not a 403: a caller must not learn that another brand's member exists.
    """
    if brand_id != caller.brand_id:
        raise NotFound(f"{what} not found")
    if caller.store_scoped and store_id != caller.store_id:
        raise NotFound(f"{what} not found")


def ensure_can_act_for_store(caller: Caller, store_id: str) -> None:
    """Store-scoped staff may only act for their own store (e.g. enrol there)."""
    if caller.store_scoped and store_id != caller.store_id:
        raise Forbidden("you can only act for your own store", field="store_id")


def require_role(caller: Caller, *allowed: Role) -> None:
    if caller.role not in allowed:
        names = ", ".join(r.value for r in allowed)
        raise Forbidden(f"this needs one of the roles: {names}")
