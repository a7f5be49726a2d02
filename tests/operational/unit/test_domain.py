"""Domain rules without a database: plain objects in, events and errors out."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from operational.domain import errors
from operational.domain.events import EventType
from operational.domain.model import (
    Audience,
    Branch,
    BranchKind,
    CirculationRule,
    Collection,
    Hold,
    HoldStatus,
    Item,
    ItemStatus,
    MediaType,
    Membership,
    Patron,
    PatronCategory,
    Title,
    Transport,
    TransportReason,
    TransportRoute,
)
from operational.domain.rules import PICKUP_WINDOW, Arrival, Consortium, ReturnAction

NOW = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
BEFORE_JOIN = date(2025, 3, 31)
AFTER_JOIN = date(2025, 4, 1)

NORA, LINDESBERG, KUMLA, LAXA = "1884", "1885", "1881", "1860"


def consortium() -> Consortium:
    return Consortium(
        memberships=[
            Membership(NORA, date(2016, 1, 1)),
            Membership(LINDESBERG, date(2016, 1, 1)),
            Membership(KUMLA, date(2025, 4, 1)),
            Membership(LAXA, date(2025, 4, 1)),
        ],
        branches=[
            Branch("NORA", "Nora", NORA, BranchKind.MAIN),
            Branch("LIND", "Lindesberg", LINDESBERG, BranchKind.MAIN),
            Branch("LIND-FEL", "Fellingsbro", LINDESBERG, BranchKind.BRANCH),
            Branch("KUM", "Kumla", KUMLA, BranchKind.MAIN),
            Branch("LAXA", "Laxå", LAXA, BranchKind.MAIN),
            Branch("HUB", "Örebro", "1880", BranchKind.HUB),
        ],
        direct_routes=[(NORA, LINDESBERG)],
    )


def rule(**overrides) -> CirculationRule:
    values = dict(
        media_type=MediaType.BOOK,
        patron_category=PatronCategory.ADULT,
        loan_days=28,
        loan_days_when_queued=21,
        max_renewals=2,
        max_loans=3,
    )
    values.update(overrides)
    return CirculationRule(**values)


def patron(municipality: str = NORA, card: str = "1000") -> Patron:
    home = {NORA: "NORA", LINDESBERG: "LIND", KUMLA: "KUM", LAXA: "LAXA"}[municipality]
    return Patron(card, municipality, home, PatronCategory.ADULT, NOW)


def title() -> Title:
    return Title("Röda rummet", "Strindberg", MediaType.BOOK, Audience.ADULT, "adult-fiction")


def item(at: str = "NORA", item_id: int = 1, of: Title | None = None) -> Item:
    copy = Item(f"B{item_id}", of or title(), at, NOW)
    copy.id = item_id
    return copy


class TestMembershipGating:
    def test_members_share_from_their_join_date_only(self):
        c = consortium()
        assert c.shares(NORA, LINDESBERG, BEFORE_JOIN)
        assert not c.shares(NORA, KUMLA, BEFORE_JOIN)
        assert c.shares(NORA, KUMLA, AFTER_JOIN)

    def test_a_municipality_always_shares_with_itself(self):
        assert consortium().shares(KUMLA, KUMLA, BEFORE_JOIN)

    def test_patron_refused_at_a_branch_of_a_not_yet_member(self):
        c = consortium()
        with pytest.raises(errors.NotPermitted, match="do not share"):
            c.check_patron_may_use(patron(NORA), c.branch("KUM"), BEFORE_JOIN)
        c.check_patron_may_use(patron(NORA), c.branch("KUM"), AFTER_JOIN)

    def test_the_hub_lends_nothing(self):
        with pytest.raises(errors.InvalidRequest, match="hub"):
            consortium().lending_branch("HUB")

    def test_membership_with_an_end_date(self):
        m = Membership(KUMLA, date(2025, 4, 1), left_on=date(2026, 1, 1))
        assert m.covers(date(2025, 12, 31)) and not m.covers(date(2026, 1, 1))


class TestTransportCost:
    def test_cost_matrix(self):
        c = consortium()
        assert c.hops("NORA", "NORA") == 0
        assert c.hops("LIND", "LIND-FEL") == 1  # same municipality
        assert c.hops("NORA", "LIND-FEL") == 1  # direct Nora–Lindesberg route
        assert c.hops("NORA", "KUM") == 2  # via the hub
        assert c.route("NORA", "LIND") == TransportRoute.DIRECT
        assert c.route("KUM", "LAXA") == TransportRoute.HUB
        assert c.van_days(TransportRoute.HUB) == "135"


class TestHoldTargeting:
    def test_prefers_a_copy_at_the_pickup_branch(self):
        c = consortium()
        hold = Hold(title(), patron(NORA), "NORA", NOW)
        far, near, here = item("KUM", 1), item("LIND", 2), item("NORA", 3)
        assert c.choose_copy(hold, [far, near, here], AFTER_JOIN) is here

    def test_then_the_cheapest_to_move(self):
        c = consortium()
        hold = Hold(title(), patron(NORA), "NORA", NOW)
        far, near = item("KUM", 1), item("LIND-FEL", 2)
        assert c.choose_copy(hold, [far, near], AFTER_JOIN) is near

    def test_before_joining_only_own_copies_fill_a_hold(self):
        c = consortium()
        hold = Hold(title(), patron(KUMLA), "KUM", NOW)
        assert c.choose_copy(hold, [item("NORA", 1)], BEFORE_JOIN) is None
        assert c.choose_copy(hold, [item("NORA", 1)], AFTER_JOIN) is not None

    def test_arriving_item_goes_to_the_oldest_hold_it_may_fill(self):
        c = consortium()
        book = title()
        kumla_first = Hold(book, patron(KUMLA, "1"), "KUM", NOW)
        nora_second = Hold(book, patron(NORA, "2"), "NORA", NOW + timedelta(hours=1))
        nora_third = Hold(book, patron(NORA, "3"), "NORA", NOW + timedelta(hours=2))
        copy = item("LIND", 1, of=book)
        queue = [nora_third, nora_second, kumla_first]
        # Before the join the Kumla patron cannot have a Lindesberg copy: next in line.
        assert c.hold_for_arriving_item(copy, queue, BEFORE_JOIN) is nora_second
        assert c.hold_for_arriving_item(copy, queue, AFTER_JOIN) is kumla_first


class TestCheckout:
    def test_lends_an_available_copy_for_the_rule_period(self):
        copy = item("NORA")
        loan, events = copy.check_out(patron(), "NORA", NOW, rule(), 0, False, None)
        assert copy.status == ItemStatus.ON_LOAN
        assert loan.due_at == NOW + timedelta(days=28)
        assert [e.type for e in events] == [EventType.CHECKOUT]
        assert events[0].due_at == loan.due_at

    def test_shorter_period_when_others_queue(self):
        loan, _ = item().check_out(patron(), "NORA", NOW, rule(), 0, True, None)
        assert loan.due_at == NOW + timedelta(days=21)

    def test_refuses_an_item_on_loan(self):
        copy = item()
        copy.check_out(patron(card="1"), "NORA", NOW, rule(), 0, False, None)
        with pytest.raises(errors.ItemNotAvailable, match="on_loan"):
            copy.check_out(patron(card="2"), "NORA", NOW, rule(), 0, False, None)

    def test_refuses_an_item_at_another_branch(self):
        with pytest.raises(errors.ItemNotAvailable, match="is at branch LIND"):
            item("LIND").check_out(patron(), "NORA", NOW, rule(), 0, False, None)

    def test_loan_limit(self):
        copy = item()
        with pytest.raises(errors.LoanLimitReached):
            copy.check_out(patron(), "NORA", NOW, rule(max_loans=3), 3, False, None)
        assert copy.status == ItemStatus.AVAILABLE

    def test_hold_shelf_copy_only_for_the_holder(self):
        book, holder, other = title(), patron(card="1"), patron(card="2")
        copy = item("NORA", of=book)
        hold = Hold(book, holder, "NORA", NOW)
        hold.trap(copy, "NORA", NOW)
        hold.make_ready(NOW, PICKUP_WINDOW)
        with pytest.raises(errors.ItemNotAvailable, match="hold shelf"):
            copy.check_out(other, "NORA", NOW, rule(), 0, False, hold)
        _, events = copy.check_out(holder, "NORA", NOW, rule(), 0, False, hold)
        assert hold.status == HoldStatus.FULFILLED
        assert [e.type for e in events] == [EventType.HOLD_FULFILLED, EventType.CHECKOUT]


class TestRenewal:
    def test_renewal_counts_from_today(self):
        loan, _ = item().check_out(patron(), "NORA", NOW, rule(), 0, False, None)
        later = NOW + timedelta(days=20)
        loan.renew(later, rule(), others_waiting=False)
        assert loan.due_at == later + timedelta(days=28) and loan.renewals == 1

    def test_blocked_when_others_wait_or_at_the_limit(self):
        loan, _ = item().check_out(patron(), "NORA", NOW, rule(), 0, False, None)
        with pytest.raises(errors.NotRenewable, match="waiting"):
            loan.renew(NOW, rule(), others_waiting=True)
        loan.renew(NOW, rule(), False)
        loan.renew(NOW, rule(), False)
        with pytest.raises(errors.NotRenewable, match="limit 2"):
            loan.renew(NOW, rule(), False)

    def test_returned_loan_is_not_renewable(self):
        loan, _ = item().check_out(patron(), "NORA", NOW, rule(), 0, False, None)
        loan.close("NORA", NOW)
        with pytest.raises(errors.NotRenewable, match="returned"):
            loan.renew(NOW, rule(), False)


class TestHoldLifecycle:
    def test_waiting_in_transit_ready_fulfilled(self):
        book = title()
        hold = Hold(book, patron(), "NORA", NOW)
        copy = item("LIND", of=book)
        hold.trap(copy, "LIND", NOW)
        transport, _ = Transport.request(
            copy, "NORA", TransportReason.HOLD, TransportRoute.DIRECT, NOW, hold
        )
        hold.set_in_transit()
        assert copy.status == ItemStatus.IN_TRANSIT
        transport.dispatch(NOW)
        transport.receive(NOW + timedelta(days=1))
        event = hold.make_ready(NOW + timedelta(days=1), PICKUP_WINDOW)
        assert hold.status == HoldStatus.READY
        assert hold.expires_at == NOW + timedelta(days=1) + PICKUP_WINDOW
        assert copy.status == ItemStatus.ON_HOLD_SHELF and copy.current_branch_code == "NORA"
        assert event.type == EventType.HOLD_READY

    def test_only_ready_holds_expire_and_closed_holds_stay_closed(self):
        hold = Hold(title(), patron(), "NORA", NOW)
        with pytest.raises(errors.HoldNotActive):
            hold.expire(NOW)
        hold.cancel(NOW, "patron")
        with pytest.raises(errors.HoldNotActive, match="cancelled"):
            hold.cancel(NOW, "patron")


class TestTransport:
    def test_must_be_dispatched_before_received(self):
        transport, _ = Transport.request(
            item(), "KUM", TransportReason.RETURN_HOME, TransportRoute.HUB, NOW
        )
        with pytest.raises(errors.TransportStateError, match="not been dispatched"):
            transport.receive(NOW)
        transport.dispatch(NOW)
        with pytest.raises(errors.TransportStateError, match="already dispatched"):
            transport.dispatch(NOW)

    def test_lost_transport_loses_the_item(self):
        copy = item()
        transport, _ = Transport.request(
            copy, "KUM", TransportReason.RETURN_HOME, TransportRoute.HUB, NOW
        )
        transport.dispatch(NOW)
        transport.mark_lost(NOW + timedelta(days=31))
        assert copy.status == ItemStatus.LOST and not transport.is_open

    def test_an_item_on_loan_cannot_travel(self):
        copy = item()
        copy.check_out(patron(), "NORA", NOW, rule(), 0, False, None)
        with pytest.raises(errors.ItemNotAvailable):
            Transport.request(copy, "KUM", TransportReason.REBALANCE, TransportRoute.HUB, NOW)


class TestRulesMovedFromTheServiceLayer:
    """The choices the use cases used to make themselves (issue 16, item 2)."""

    def test_a_new_patrons_home_branch(self):
        c = consortium()
        assert c.home_branch(LINDESBERG, None).code == "LIND"  # the main library
        assert c.home_branch(LINDESBERG, "LIND-FEL").code == "LIND-FEL"
        with pytest.raises(errors.InvalidRequest, match="not in municipality") as refused:
            c.home_branch(NORA, "LIND-FEL")
        assert refused.value.field == "home_branch_code"
        with pytest.raises(errors.InvalidRequest, match="hub"):
            c.home_branch("1880", "HUB")
        with pytest.raises(errors.InvalidRequest, match="no main library") as refused:
            c.home_branch("1814", None)
        assert refused.value.field == "home_municipality_code"

    def test_a_new_titles_default_collection(self):
        default = Title.default_collection
        assert default(MediaType.FILM, Audience.CHILD, "ar") == "film"
        assert default(MediaType.MAGAZINE, Audience.ADULT, "sv") == "magazines"
        assert default(MediaType.BOOK, Audience.CHILD, "ar") == "children"
        assert default(MediaType.BOOK, Audience.ADULT, "ar") == "languages"
        assert default(MediaType.BOOK, Audience.ADULT, "sv") == "adult-fiction"

    def test_a_copy_is_borrowed_and_returned_only_where_its_owner_shares(self):
        c = consortium()
        kumla_copy = item("KUM", 1)
        assert c.owner_of(kumla_copy) == KUMLA
        assert not c.may_borrow(patron(NORA), kumla_copy, BEFORE_JOIN)
        with pytest.raises(errors.NotPermitted, match="does not share"):
            c.check_patron_may_borrow(patron(NORA), kumla_copy, BEFORE_JOIN)
        c.check_patron_may_borrow(patron(NORA), kumla_copy, AFTER_JOIN)
        with pytest.raises(errors.NotPermitted, match="cannot be returned at NORA"):
            c.check_may_return_at(kumla_copy, c.branch("NORA"), BEFORE_JOIN)
        c.check_may_return_at(kumla_copy, c.branch("KUM"), BEFORE_JOIN)
        assert c.may_use(KUMLA, c.branch("KUM"), BEFORE_JOIN)
        assert not c.may_use(KUMLA, c.branch("NORA"), BEFORE_JOIN)

    def test_an_arrival_is_trapped_shelved_or_sent_home(self):
        c = consortium()
        fixed, floating = Collection("adult-fiction", "", False), Collection("languages", "", True)
        copy = item("NORA", 1)
        copy.current_branch_code = "LIND"
        assert c.arrival(copy, "LIND", [], fixed, AFTER_JOIN) == Arrival(
            ReturnAction.TRANSPORT, route=TransportRoute.DIRECT
        )
        assert c.arrival(copy, "LIND", [], floating, AFTER_JOIN).action == ReturnAction.SHELVED
        copy.current_branch_code = "NORA"
        assert c.arrival(copy, "NORA", [], fixed, AFTER_JOIN).action == ReturnAction.SHELVED
        waiting = Hold(copy.title, patron(LINDESBERG), "LIND", NOW)
        waiting.id = 7
        assert c.arrival(copy, "NORA", [waiting], fixed, AFTER_JOIN) == Arrival(
            ReturnAction.HOLD_TRAPPED, hold=waiting
        )
        # A Kumla patron's hold before Kumla joined is not filled by a Nora copy.
        kumla = Hold(copy.title, patron(KUMLA), "KUM", NOW)
        assert c.arrival(copy, "NORA", [kumla], fixed, BEFORE_JOIN).action == "shelved"

    def test_the_vans_days(self):
        c = consortium()
        assert c.van_days(TransportRoute.LOCAL) == "12345"
        assert c.van_days(TransportRoute.DIRECT) == "12345"
        monday, tuesday = date(2025, 6, 2), date(2025, 6, 3)
        assert c.van_runs_on(TransportRoute.HUB, monday)
        assert not c.van_runs_on(TransportRoute.HUB, tuesday)
        assert not c.van_runs_on(TransportRoute.LOCAL, date(2025, 6, 7))  # a Saturday

    def test_one_active_hold_per_patron_and_title(self):
        first = Hold.place(title(), patron(NORA), "NORA", NOW, None)
        with pytest.raises(errors.DuplicateHold):
            Hold.place(first.title, first.patron, "NORA", NOW, first)

    def test_a_transport_fills_its_hold_only_while_the_hold_waits_for_that_copy(self):
        copy = item("KUM", 1)
        hold = Hold(copy.title, patron(NORA), "NORA", NOW)
        hold.trap(copy, "KUM", NOW)
        transport, _ = Transport.request(
            copy, "NORA", TransportReason.HOLD, TransportRoute.HUB, NOW, hold=hold
        )
        hold.set_in_transit()
        assert transport.hold_to_fill is hold
        hold.cancel(NOW, "patron")
        assert transport.hold_to_fill is None
