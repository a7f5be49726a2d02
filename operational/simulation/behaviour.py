"""How the simulated people and vans behave: the simulator's fixed parameters (the
calibrated ones are solved per run: calibration.py, Parameters in simulator.py)."""

from __future__ import annotations

from operational.domain.model import Audience, HoldStatus, ItemStatus, PatronCategory

# Enum members the day loop reads, bound to names: in Python 3.11 reading a member off its
# class goes through EnumType.__getattr__ and costs some 0.3 us, fifteen times a name.
AVAILABLE, GONE = ItemStatus.AVAILABLE, (ItemStatus.WITHDRAWN, ItemStatus.LOST)
WAITING, READY = HoldStatus.WAITING, HoldStatus.READY
CHILD_AUDIENCE, ADULT_AUDIENCE = Audience.CHILD, Audience.ADULT
CHILD_PATRON = PatronCategory.CHILD

TITLES_PER_ITEM = 0.2  # catalogue size relative to the consortium's stock
# A municipality joining in a scenario brings a catalogue of its own: half of its titles
# are taken as new to the shared catalogue, the other half as already in it.
NEW_TITLES_ON_JOINING = 0.5
WANTED_SHARE = 0.5  # of items sought as a particular title (the rest: browsing the shelf)
HOLD_WHEN_MISSING = 0.55  # chance of reserving a wanted title that is not on the shelf
VISIT_ELSEWHERE = 0.1  # visits to a branch other than the patron's own
RETURN_ELSEWHERE = 0.12
NEVER_COLLECTED = 0.08  # ready holds left on the hold shelf
GIVE_UP_AFTER_DAYS = 60  # a waiting hold is cancelled by its patron after 60-120 days
MISSED_VAN = 0.1
VAN_LEAVES_AT = 18.5  # local hour of the day's van runs: they take what was requested before
LOST_IN_TRANSIT = 0.001
MONTHLY_ACQUISITION = 0.007  # of stock, as new titles each month
MONTHLY_WEEDING = 0.007  # of stock withdrawn each month: stock per capita stays level
# Visits that end without a loan (nothing suitable on the shelf, a hold never collected)
# would be made up for by more items per visit. Full-scale runs of 2024-2026 land within
# a few per cent of the targets without it, so none is added.
LOSS_ALLOWANCE = 1.0
