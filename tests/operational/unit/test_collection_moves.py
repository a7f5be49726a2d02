"""The domain rule of a collection-balancing move (Item.rehome, Consortium.check_may_move)
without a database."""

from __future__ import annotations

import pytest

from operational.domain import errors
from operational.domain.events import EventType
from operational.domain.model import ItemStatus
from tests.operational.unit.test_domain import (
    AFTER_JOIN,
    BEFORE_JOIN,
    NOW,
    consortium,
    item,
    patron,
    rule,
)


def test_a_copy_on_the_shelf_gets_a_new_home_and_says_so():
    copy = item(at="NORA")
    event = copy.rehome("KUM", NOW)
    assert copy.home_branch_code == "KUM"
    assert copy.current_branch_code == "NORA"  # it has not travelled yet
    assert event.type == EventType.ITEM_REHOMED
    assert (event.from_branch_code, event.to_branch_code) == ("NORA", "KUM")
    assert event.branch_code == "NORA" and event.reason == "rebalance"
    assert event.item is copy


def test_the_owner_follows_the_new_home():
    c = consortium()
    copy = item(at="NORA")
    copy.rehome("LIND", NOW)
    assert c.owner_of(copy) == "1885"


def test_a_copy_in_use_cannot_be_moved():
    copy = item()
    copy.check_out(patron(), "NORA", NOW, rule(), 0, False, None)
    with pytest.raises(errors.ItemNotAvailable, match="only a copy on the shelf"):
        copy.rehome("LIND", NOW)
    assert copy.home_branch_code == "NORA" and copy.status == ItemStatus.ON_LOAN


def test_a_move_to_its_own_home_is_refused():
    with pytest.raises(errors.InvalidRequest, match="already belongs") as refused:
        item(at="NORA").rehome("NORA", NOW)
    assert refused.value.field == "to_branch_code"


def test_a_move_only_within_the_shared_system():
    c = consortium()
    copy = item(at="NORA")
    with pytest.raises(errors.NotPermitted, match="cannot be moved there"):
        c.check_may_move(copy, c.branch("KUM"), BEFORE_JOIN)
    c.check_may_move(copy, c.branch("KUM"), AFTER_JOIN)
    c.check_may_move(copy, c.branch("LIND-FEL"), BEFORE_JOIN)  # both members all along
    # within the owner's own municipality a move is always allowed
    kumla_copy = item(at="KUM", item_id=2)
    c.check_may_move(kumla_copy, c.branch("KUM"), BEFORE_JOIN)
