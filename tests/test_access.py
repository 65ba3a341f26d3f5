"""The authorization rule as a plain function, and signed button data."""

from __future__ import annotations

import pytest

from handlers.callbacks import MAX_CALLBACK_BYTES, callback_key, sign, verify
from knowledge.access import (
    COORDINATION,
    NOT_JOINED,
    OTHER_UNIT,
    PUBLIC,
    STRANGER,
    Action,
    Actor,
    Target,
    may,
    not_coordinator,
    require,
)
from knowledge.errors import Refusal

LEAD, COOP, OTHER = 1, 2, 3
INDICATOR = Target.of("000", leads=[LEAD], cooperating=[COOP])
LEAD_RECORD = Target.of("000", units=[LEAD])
member = Actor(10, units=frozenset({LEAD}))
cooperating = Actor(11, units=frozenset({COOP}))
outsider = Actor(12, units=frozenset({OTHER}))
coordinator = Actor(20, is_coordinator=True, programmes=frozenset({"000"}))
other_coordinator = Actor(21, is_coordinator=True, programmes=frozenset({"002"}))
unscoped = Actor(22, is_coordinator=True)
admin = Actor(1, is_admin=True)


@pytest.mark.parametrize("action", sorted(PUBLIC))
def test_public_actions_are_open_to_strangers(action: Action) -> None:
    assert may(STRANGER, action, INDICATOR)


@pytest.mark.parametrize(
    ("actor", "target", "allowed"),
    [
        (member, INDICATOR, True),
        (cooperating, INDICATOR, True),
        (cooperating, Target.of("000", leads=[LEAD], cooperating=[COOP], cooperating_report=False), False),
        (outsider, INDICATOR, False),
        (STRANGER, INDICATOR, False),
        (coordinator, INDICATOR, True),
        (other_coordinator, INDICATOR, False),
        (unscoped, INDICATOR, True),
        (admin, INDICATOR, True),
    ],
)
def test_who_may_report(actor: Actor, target: Target, allowed: bool) -> None:
    assert bool(may(actor, Action.REPORT, target)) is allowed


@pytest.mark.parametrize(
    ("actor", "reason"),
    [
        (member, ""),
        (cooperating, OTHER_UNIT),
        (outsider, OTHER_UNIT),
        (STRANGER, NOT_JOINED),
        (coordinator, ""),
        (other_coordinator, OTHER_UNIT),
        (admin, ""),
    ],
)
def test_records_are_seen_by_their_unit_and_programme(actor: Actor, reason: str) -> None:
    decision = may(actor, Action.VIEW_RECORDS, LEAD_RECORD)
    assert (decision.allowed, decision.reason) == (reason == "", reason)


@pytest.mark.parametrize("action", sorted(COORDINATION))
def test_coordination_is_scoped_to_the_programme(action: Action) -> None:
    assert may(coordinator, action, INDICATOR)
    assert may(unscoped, action, INDICATOR)
    assert not may(member, action, INDICATOR)
    refused = may(other_coordinator, action, INDICATOR)
    assert (refused.allowed, refused.reason) == (False, not_coordinator(action))


def test_programme_less_objects_need_an_unscoped_coordinator() -> None:
    assert not may(coordinator, Action.BIND_CHAT, Target())
    assert may(unscoped, Action.BIND_CHAT, Target())
    assert may(admin, Action.ADD_COORDINATOR, Target())


def test_require_raises_the_reason() -> None:
    with pytest.raises(Refusal, match=r"^只有本项目的协调人或管理员可以打包佐证材料。$"):
        require(member, Action.BUNDLE, INDICATOR)


KEY = callback_key("123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def test_signed_data_works_only_in_its_chat_and_for_its_user() -> None:
    anyone = sign(KEY, -100, "fs|17")
    assert verify(KEY, -100, 5, anyone) == "fs|17"
    assert verify(KEY, -200, 5, anyone) is None  # replayed in another chat
    assert verify(KEY, -100, 5, "fs|18" + anyone[5:]) is None  # another id under the same tag
    assert verify(KEY, -100, 5, "fs|17") is None  # unsigned
    mine = sign(KEY, -100, "rc|ab12", user_id=5)
    assert verify(KEY, -100, 5, mine) == "rc|ab12"
    assert verify(KEY, -100, 6, mine) is None  # someone else's preview
    assert verify(callback_key("999:other-token-xxxxxxxxxxxxxxxx"), -100, 5, anyone) is None


def test_signed_data_fits_telegrams_limit() -> None:
    data = sign(KEY, -1001234567890, "s|" + "a" * 8 + "|99", user_id=9_999_999_999)
    assert len(data.encode()) <= MAX_CALLBACK_BYTES
    with pytest.raises(ValueError, match="over 64 bytes"):
        sign(KEY, 1, "x" * 60)
