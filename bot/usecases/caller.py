"""Who calls a use case, and the configured values the secretariat's actions obey.

A front end (a chat router, the web dashboard) builds one `Caller` per request once its role
check has passed; the command line has no person and passes values directly. Use cases never
read `Settings`: the composition root turns it into a `Policy` once.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from bot.core.errors import DomainError
from bot.core.weekly import WeeklyTime
from bot.usecases.ports import UseCaseContext
from db.models import Person

T = TypeVar("T")


@dataclass(frozen=True)
class Policy:
    """Configured rules, as values: who is an administrator by configuration, how long an
    invitation lives, the round schedule until /schedule stores another, how recent an
    update spares an item from /request_now. (The risk thresholds are the context's: every
    use case reads them there.)"""

    admin_ids: frozenset[int]
    invite_ttl: timedelta
    round_schedule: WeeklyTime
    # /request_now leaves out items updated this recently (nobody is asked twice in a row).
    request_skip: timedelta = timedelta(hours=4)


@dataclass(frozen=True)
class Caller:
    """One request's view of the bot: the shared context, the policy and who is asking."""

    ctx: UseCaseContext
    policy: Policy
    person: Person | None  # None: somebody the bot does not know (yet), or no longer active

    @property
    def actor(self) -> Person:
        """The person behind a role-guarded action (the guard let nobody else through)."""
        if self.person is None:
            raise PermissionError("a role-guarded use case called without a person")
        return self.person


@dataclass(frozen=True)
class Refused:
    """The action was refused and nothing was written; `error` says why."""

    error: DomainError


async def refused_or(action: Awaitable[T]) -> T | Refused:
    """The action's result, or its domain refusal as an outcome (a service raises it before
    it commits anything)."""
    try:
        return await action
    except DomainError as error:
        return Refused(error)
