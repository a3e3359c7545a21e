"""Who may see what: plain rules, the same for the chat, the web dashboard and the tests."""

from __future__ import annotations

from db.models import Person, Role

READERS_OF_EVERYTHING = frozenset({Role.CHAIR, Role.SECRETARIAT})


def sees_every_item(person: Person) -> bool:
    """The chair and the secretariat read the whole Road Map."""
    return person.role in READERS_OF_EVERYTHING


def can_see_item(person: Person, department_id: int) -> bool:
    """Everyone else sees only their own department's items."""
    return sees_every_item(person) or person.department_id == department_id


def may_ask_for_updates(person: Person) -> bool:
    """Who gets the [Ask for an update] button on a card: the readers of everything."""
    return sees_every_item(person)
