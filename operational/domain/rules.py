"""The consortium's sharing rules: who may use which branch and borrow which copy on a date,
a new patron's home branch, what moving an item costs and when the vans run, which copy
fills a hold, and where an item that arrives at a branch goes next."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Protocol

from operational.domain import errors
from operational.domain.model import (
    Branch,
    BranchKind,
    Collection,
    Hold,
    HoldStatus,
    Item,
    Membership,
    Patron,
    TransportRoute,
)

# A ready hold waits this long on the hold shelf before it expires.
PICKUP_WINDOW = timedelta(days=7)
# A dispatched transport not received within this many days is lost (docs/metrics.md).
LOST_IN_TRANSIT_AFTER = timedelta(days=30)
# ISO weekdays the vans run when the reference data names no route of that kind
# (reference/van_routes.csv names both): the hub van Monday, Wednesday and Friday, the
# direct vans every weekday.
HUB_VAN_DAYS = "135"
DIRECT_VAN_DAYS = "12345"
# A municipality's own van run, between its branches, runs every weekday (it is not a
# county route, so van_routes.csv does not name it).
LOCAL_VAN_DAYS = "12345"


class ReturnAction(StrEnum):
    SHELVED = "shelved"
    TRANSPORT = "transport"
    HOLD_TRAPPED = "hold_trapped"


@dataclass(frozen=True)
class Arrival:
    """Where an item that is free at a branch goes next: trapped for a hold, shelved
    there, or sent home by the route."""

    action: ReturnAction
    hold: Hold | None = None
    route: TransportRoute | None = None


class VanRoute(Protocol):
    """A row of the reference data's van routes (the van_route table)."""

    kind: str
    municipality_a: str | None
    municipality_b: str | None
    weekdays: str


class Consortium:
    """Membership timeline, branches and van routes, with the rules derived from them."""

    def __init__(
        self,
        memberships: Iterable[Membership],
        branches: Iterable[Branch],
        direct_routes: Iterable[tuple[str, str]] = (),
        hub_van_days: str = HUB_VAN_DAYS,
        direct_van_days: str = DIRECT_VAN_DAYS,
    ):
        self.memberships = list(memberships)
        self.branches = {branch.code: branch for branch in branches}
        self._lending = {code: branch for code, branch in self.branches.items() if branch.lends}
        # Each branch's municipality: the owner of every copy homed there (asked for every
        # loan, return and reservation).
        self._municipality_of = {code: b.municipality_code for code, b in self.branches.items()}
        self.direct_routes = {frozenset(pair) for pair in direct_routes}
        self.hub_van_days = hub_van_days
        self.direct_van_days = direct_van_days
        self._members_on: dict[date, frozenset[str]] = {}
        self._routes: dict[tuple[str, str], TransportRoute] = {}

    @classmethod
    def from_reference(
        cls,
        memberships: Iterable[Membership],
        branches: Iterable[Branch],
        van_routes: Iterable[VanRoute],
    ) -> Consortium:
        """The consortium as the reference data describes it: the direct routes are the
        municipality pairs of the direct vans; the van days are those of the hub route
        and of the (first) direct route."""
        routes = list(van_routes)
        direct = [r for r in routes if r.kind == TransportRoute.DIRECT]
        hub_days = next((r.weekdays for r in routes if r.kind == TransportRoute.HUB), HUB_VAN_DAYS)
        return cls(
            memberships,
            branches,
            [(r.municipality_a, r.municipality_b) for r in direct],
            hub_days,
            direct[0].weekdays if direct else DIRECT_VAN_DAYS,
        )

    def branch(self, code: str) -> Branch:
        try:
            return self.branches[code]
        except KeyError:
            raise errors.NotFound(f"no branch with code {code!r}") from None

    def lending_branch(self, code: str, field: str = "branch_code") -> Branch:
        branch = self._lending.get(code)
        if branch is None:
            self.branch(code)  # NotFound for an unknown code; otherwise it is the hub
            raise errors.InvalidRequest(
                f"branch {code} is the transport hub; it lends nothing", field=field
            )
        return branch

    def main_branch(self, municipality_code: str) -> Branch:
        """The municipality's main library."""
        for branch in self.branches.values():
            if branch.municipality_code == municipality_code and branch.kind == BranchKind.MAIN:
                return branch
        raise errors.InvalidRequest(
            f"municipality {municipality_code} has no main library",
            field="home_municipality_code",
        )

    def home_branch(self, municipality_code: str, branch_code: str | None) -> Branch:
        """A new patron's home branch: the one asked for, which must lend and be in the
        patron's municipality, or else the municipality's main library."""
        if branch_code is None:
            branch_code = self.main_branch(municipality_code).code
        branch = self.lending_branch(branch_code, field="home_branch_code")
        if branch.municipality_code != municipality_code:
            raise errors.InvalidRequest(
                f"home branch {branch_code} is not in municipality {municipality_code}",
                field="home_branch_code",
            )
        return branch

    def members_on(self, day: date) -> frozenset[str]:
        """The municipalities that share the system on a day (worked out once a day: the
        rules ask this for every loan, return and hold)."""
        members = self._members_on.get(day)
        if members is None:
            members = frozenset(m.municipality_code for m in self.memberships if m.covers(day))
            self._members_on[day] = members
        return members

    def is_member(self, municipality_code: str, day: date) -> bool:
        return municipality_code in self.members_on(day)

    def shares(self, municipality_a: str, municipality_b: str, day: date) -> bool:
        """Whether the two municipalities' libraries are one system on that day."""
        if municipality_a == municipality_b:
            return True
        members = self._members_on.get(day) or self.members_on(day)
        return municipality_a in members and municipality_b in members

    def may_use(self, municipality_code: str, branch: Branch, day: date) -> bool:
        """Whether residents of the municipality may use the branch on that day."""
        return self.shares(municipality_code, branch.municipality_code, day)

    def check_patron_may_use(self, patron: Patron, branch: Branch, day: date) -> None:
        if not self.may_use(patron.home_municipality_code, branch, day):
            raise errors.NotPermitted(
                f"patrons of municipality {patron.home_municipality_code} may not use branch "
                f"{branch.code} (municipality {branch.municipality_code}) on {day}: "
                "their municipalities do not share a library system on that date"
            )

    def owner_of(self, item: Item) -> str:
        """The municipality that owns the item: its home branch's."""
        municipality = self._municipality_of.get(item.home_branch_code)
        if municipality is None:
            return self.branch(item.home_branch_code).municipality_code  # NotFound
        return municipality

    def may_borrow(self, patron: Patron, item: Item, day: date) -> bool:
        """Whether the item's owner shares with the patron's municipality on that day (the
        catalogue shows the patron only such copies to reserve)."""
        return self.shares(patron.home_municipality_code, self.owner_of(item), day)

    def check_patron_may_borrow(self, patron: Patron, item: Item, day: date) -> None:
        if not self.may_borrow(patron, item, day):
            raise errors.NotPermitted(
                f"item {item.barcode} belongs to municipality {self.owner_of(item)}, which "
                f"does not share with municipality {patron.home_municipality_code} on {day}"
            )

    def check_may_return_at(self, item: Item, branch: Branch, day: date) -> None:
        """An item may be returned at any branch that shares with its owner."""
        owner = self.owner_of(item)
        if not self.shares(owner, branch.municipality_code, day):
            raise errors.NotPermitted(
                f"item {item.barcode} belongs to municipality {owner}; it cannot be returned at "
                f"{branch.code} (municipality {branch.municipality_code}) on {day}"
            )

    def check_may_move(self, item: Item, to_branch: Branch, day: date) -> None:
        """A copy may be moved for good (collection balancing) only to a lending branch
        whose municipality shares with the copy's owner on that day: moving it to a
        municipality outside the shared system would take it out of its owner's reach."""
        owner = self.owner_of(item)
        if not self.shares(owner, to_branch.municipality_code, day):
            raise errors.NotPermitted(
                f"item {item.barcode} belongs to municipality {owner}, which does not share "
                f"with municipality {to_branch.municipality_code} (branch {to_branch.code}) "
                f"on {day}; it cannot be moved there"
            )

    def may_receive(self, patron: Patron, item: Item, pickup_branch_code: str, day: date) -> bool:
        """Whether item may be lent to patron at the pickup branch on that day."""
        home = patron.home_municipality_code
        owner = self.branch(item.home_branch_code).municipality_code
        at = self.branch(item.current_branch_code).municipality_code
        pickup = self.branch(pickup_branch_code).municipality_code
        if owner == home and at == home and pickup == home:
            return True  # all within the patron's own municipality
        return (
            self.shares(home, owner, day)
            and self.shares(home, at, day)
            and self.shares(home, pickup, day)
        )

    def pickup_branches(self, patron: Patron, day: date) -> list[Branch]:
        """The branches where the patron may pick up a hold on that day: every lending
        branch that check_patron_may_use lets the patron use."""
        return [
            branch
            for branch in self.branches.values()
            if branch.lends
            and self.shares(patron.home_municipality_code, branch.municipality_code, day)
        ]

    def may_fill_hold_of(self, patron: Patron, item: Item, day: date) -> bool:
        """Whether the copy may fill a hold of the patron's on that day, at some pickup
        branch: may_receive at the patron's home branch, which every pickup branch the
        patron may choose shares with."""
        return self.may_receive(patron, item, patron.home_branch_code, day)

    def route(self, from_code: str, to_code: str) -> TransportRoute:
        """The van route between two branches (worked out once per pair: branches and
        routes do not change while the rules run)."""
        route = self._routes.get((from_code, to_code))
        if route is None:
            route = self._routes[(from_code, to_code)] = self._route(from_code, to_code)
        return route

    def _route(self, from_code: str, to_code: str) -> TransportRoute:
        from_muni = self.branch(from_code).municipality_code
        to_muni = self.branch(to_code).municipality_code
        if from_muni == to_muni:
            return TransportRoute.LOCAL
        if frozenset((from_muni, to_muni)) in self.direct_routes:
            return TransportRoute.DIRECT
        return TransportRoute.HUB

    def hops(self, from_code: str, to_code: str) -> int:
        """Transport cost: 0 at the same branch, 1 hop locally or on a direct route, else 2."""
        if from_code == to_code:
            return 0
        return 2 if self.route(from_code, to_code) == TransportRoute.HUB else 1

    def van_days(self, route: TransportRoute) -> str:
        """ISO weekdays on which the van runs on a route ("135" = Mon, Wed, Fri)."""
        if route == TransportRoute.LOCAL:
            return LOCAL_VAN_DAYS
        return self.direct_van_days if route == TransportRoute.DIRECT else self.hub_van_days

    def van_runs_on(self, route: TransportRoute, day: date) -> bool:
        """Whether the route's van runs on that weekday (holidays aside)."""
        return str(day.isoweekday()) in self.van_days(route)

    def choose_copy(self, hold: Hold, available: Iterable[Item], day: date) -> Item | None:
        """The copy that fills a new hold: at the pickup branch if there is one, else the
        cheapest to move by the transport cost matrix (ties by item id, for determinism)."""
        best: tuple[int, int] | None = None
        chosen = None
        for item in available:
            if not self.may_receive(hold.patron, item, hold.pickup_branch_code, day):
                continue
            key = (self.hops(item.current_branch_code, hold.pickup_branch_code), item.id or 0)
            if best is None or key < best:
                best, chosen = key, item
        return chosen

    def hold_for_arriving_item(self, item: Item, waiting: Iterable[Hold], day: date) -> Hold | None:
        """The oldest waiting hold that the item, now at its current branch, may fill."""
        for hold in sorted(waiting, key=lambda h: (h.placed_at, h.id or 0)):
            if hold.status == HoldStatus.WAITING and self.may_receive(
                hold.patron, item, hold.pickup_branch_code, day
            ):
                return hold
        return None

    def arrival(
        self,
        item: Item,
        branch_code: str,
        waiting: Iterable[Hold],
        collection: Collection,
        day: date,
    ) -> Arrival:
        """Where an item now free at branch_code goes: to the oldest waiting hold it may
        fill; else onto the shelf there when it is at home or its collection floats; else
        home by van."""
        hold = self.hold_for_arriving_item(item, waiting, day)
        if hold is not None:
            return Arrival(ReturnAction.HOLD_TRAPPED, hold=hold)
        if branch_code == item.home_branch_code or collection.floats:
            return Arrival(ReturnAction.SHELVED)
        return Arrival(ReturnAction.TRANSPORT, route=self.route(branch_code, item.home_branch_code))
