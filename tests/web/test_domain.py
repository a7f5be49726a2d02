"""The visitors' rules without a database: PINs, sessions, CSRF tokens, the estimate of a
wait, and which branches and copies the sharing rule lets a visitor reserve."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from operational.domain.model import Branch, BranchKind, Item, Membership, Patron, Title
from operational.domain.rules import Consortium
from operational.domain.visitors import (
    HANDOVER_DAYS,
    SESSION_IDLE_TIMEOUT,
    SESSION_LIFETIME,
    VisitorSession,
    WeakPin,
    check_new_pin,
    csrf_matches,
    csrf_token_for,
    estimated_ready_date,
    hash_session_secret,
    new_pin,
    new_session_secret,
)

NOW = datetime(2026, 12, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize("pin", ["4821", "73501", "20240611", "0482"])
def test_a_pin_of_four_to_eight_digits_is_accepted(pin):
    check_new_pin(pin)


@pytest.mark.parametrize(
    ("pin", "reason"),
    [
        ("482", "format"),
        ("123456789", "format"),
        ("48a1", "format"),
        ("٤٨٢١", "format"),  # Arabic-Indic digits are digits to Python, not to a keypad
        ("", "format"),
        ("0000", "repeated"),
        ("1234", "sequence"),
        ("9876", "sequence"),
        ("345678", "sequence"),
    ],
)
def test_a_pin_that_is_malformed_or_easy_to_guess_is_refused(pin, reason):
    with pytest.raises(WeakPin) as refused:
        check_new_pin(pin)
    assert refused.value.reason == reason
    assert refused.value.field == "pin"


def test_new_pins_follow_the_policy_and_differ():
    pins = {new_pin() for _ in range(200)}
    for pin in pins:
        check_new_pin(pin)
    assert len(pins) > 150


def test_the_csrf_token_belongs_to_its_session_and_compares_safely():
    one, other = new_session_secret(), new_session_secret()
    assert csrf_token_for(one) == csrf_token_for(one)
    assert csrf_token_for(one) != csrf_token_for(other)
    assert csrf_token_for(one) not in (one, hash_session_secret(one))
    assert csrf_matches(csrf_token_for(one), csrf_token_for(one))
    assert not csrf_matches(csrf_token_for(one), csrf_token_for(other))
    assert not csrf_matches(csrf_token_for(one), "")
    assert not csrf_matches(None, csrf_token_for(one))
    assert not csrf_matches("", "")


def test_a_session_ends_when_idle_and_at_its_maximum_lifetime():
    visit = VisitorSession(1, hash_session_secret(new_session_secret()), NOW)
    assert visit.refusal(NOW) is None
    assert not visit.needs_touch(NOW + timedelta(seconds=30))
    assert visit.needs_touch(NOW + timedelta(minutes=2))
    assert "idle" in visit.refusal(NOW + SESSION_IDLE_TIMEOUT)
    # kept alive by use, it still ends at its lifetime
    visit.last_seen_at = NOW + SESSION_LIFETIME - timedelta(minutes=1)
    assert visit.refusal(NOW + SESSION_LIFETIME - timedelta(seconds=1)) is None
    assert "lifetime" in visit.refusal(NOW + SESSION_LIFETIME)


def test_the_session_secret_is_stored_only_as_its_hash():
    secret = new_session_secret()
    assert len(secret) >= 43  # 256 random bits
    assert hash_session_secret(secret) != secret
    assert len(hash_session_secret(secret)) == 64


def test_the_wait_follows_the_queue_and_the_copies():
    today = date(2026, 12, 1)
    handover = timedelta(days=HANDOVER_DAYS)
    # one copy due in 10 days, 14-day queued loans
    due = today + timedelta(days=10)
    assert estimated_ready_date(1, [due], 14) == due + handover
    assert estimated_ready_date(2, [due], 14) == due + handover + timedelta(14) + handover
    # a second copy on the shelf serves the first in the queue at once
    assert estimated_ready_date(1, [due, today], 14) == today + handover
    assert estimated_ready_date(2, [due, today], 14) == due + handover
    assert estimated_ready_date(1, [], 14) is None
    assert estimated_ready_date(0, [due], 14) is None


# ---------------------------------------------------------- who may reserve what, and where

NORA, LAXA = "1884", "1860"


@pytest.fixture
def consortium() -> Consortium:
    branches = [
        Branch("NORA", "Nora bibliotek", NORA, BranchKind.MAIN),
        Branch("LAXA", "Laxå bibliotek", LAXA, BranchKind.MAIN),
        Branch("LAXA-TIV", "Tiveds bibliotekspunkt", LAXA, BranchKind.STAFFLESS),
        Branch("OREB-HUB", "Sorteringscentral", "1880", BranchKind.HUB),
    ]
    members = [Membership(NORA, date(2016, 1, 1)), Membership(LAXA, date(2025, 4, 1))]
    return Consortium(members, branches)


def _patron(home: str, branch: str) -> Patron:
    return Patron(f"C-{home}", home, branch, "adult", NOW)


def _copy(branch: str) -> Item:
    title = Title("Kallocain", "Karin Boye", "book", "adult", "adult-fiction")
    return Item(f"I-{branch}", title, branch, NOW)


def test_before_joining_a_visitor_may_reserve_only_their_own_municipality(consortium):
    laxa = _patron(LAXA, "LAXA")
    before, after = date(2025, 3, 31), date(2025, 4, 1)
    assert {b.code for b in consortium.pickup_branches(laxa, before)} == {"LAXA", "LAXA-TIV"}
    assert not consortium.may_fill_hold_of(laxa, _copy("NORA"), before)
    assert consortium.may_fill_hold_of(laxa, _copy("LAXA"), before)
    assert {b.code for b in consortium.pickup_branches(laxa, after)} == {
        "NORA",
        "LAXA",
        "LAXA-TIV",
    }  # never the hub
    assert consortium.may_fill_hold_of(laxa, _copy("NORA"), after)


def test_the_visitors_rule_is_the_staff_rule(consortium):
    """pickup_branches and may_fill_hold_of say what check_patron_may_use and may_receive
    (the rules behind a hold placed by staff) say, on every day around the join."""
    from operational.domain import errors

    for patron in (_patron(LAXA, "LAXA"), _patron(NORA, "NORA")):
        for day in (date(2025, 3, 31), date(2025, 4, 1)):
            allowed = {b.code for b in consortium.pickup_branches(patron, day)}
            for branch in consortium.branches.values():
                if not branch.lends:
                    continue
                try:
                    consortium.check_patron_may_use(patron, branch, day)
                    staff_allows = True
                except errors.NotPermitted:
                    staff_allows = False
                assert (branch.code in allowed) == staff_allows
                copy = _copy(branch.code)
                assert consortium.may_fill_hold_of(patron, copy, day) == any(
                    consortium.may_receive(patron, copy, pickup, day) for pickup in allowed
                )
