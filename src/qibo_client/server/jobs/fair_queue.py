"""The queue's order: round-robin across users, first come first served within each user.

A user's batch of 500 jobs must not hold everyone else behind it. So each user with queued jobs
has a lane (their jobs, oldest first), and the lanes take turns: the next job is the oldest of
the lane whose turn it is, and that lane goes to the back of the ring. A user whose lane is
empty leaves the ring; their next job joins at the back. Hence a user's job waits behind at
most one job of each other user per job of their own ahead of it, not behind whole batches.

One ring for all devices: every device's jobs run on the same workers (the executor's slots),
so a ring per device would only move the unfairness between devices.

:meth:`FairQueue.position` computes where a job stands in that order without popping
anything (O(users)), so the ``queue_position`` and the time estimate of a job object follow the
order the runner really takes.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterator
from typing import Generic, TypeVar

Item = TypeVar("Item")


class FairQueue(Generic[Item]):
    """Queued items by key (a pid), in lanes by owner (a user id, or None: any hashable value
    is an owner), taken in round-robin."""

    def __init__(self) -> None:
        #: owner -> that owner's items, oldest first; the dict's order is the ring's.
        self._lanes: OrderedDict[Hashable, OrderedDict[str, Item]] = OrderedDict()
        self._owner: dict[str, Hashable] = {}

    def __len__(self) -> int:
        return len(self._owner)

    def __bool__(self) -> bool:
        return bool(self._owner)

    def __contains__(self, key: object) -> bool:
        return key in self._owner

    def __iter__(self) -> Iterator[str]:
        """The keys in the order they will be taken."""
        lanes = [list(lane) for lane in self._lanes.values()]
        for depth in range(max(map(len, lanes), default=0)):
            for lane in lanes:
                if depth < len(lane):
                    yield lane[depth]

    def push(self, key: str, item: Item, owner: Hashable) -> None:
        """Queue ``item`` last in its owner's lane (a new lane joins the ring at the back)."""
        self.remove(key)
        self._lanes.setdefault(owner, OrderedDict())[key] = item
        self._owner[key] = owner

    def push_front(self, key: str, item: Item, owner: Hashable) -> None:
        """Queue ``item`` to be taken next (a job given back by a lost worker: its turn was
        already taken)."""
        self.push(key, item, owner)
        self._lanes[owner].move_to_end(key, last=False)
        self._lanes.move_to_end(owner, last=False)

    def peek(self) -> tuple[str, Item]:
        """The item :meth:`pop` would take next, left in place (KeyError if empty)."""
        if not self._lanes:
            raise KeyError("peek into an empty queue")
        lane = next(iter(self._lanes.values()))
        return next(iter(lane.items()))

    def pop(self) -> tuple[str, Item]:
        """The next item, taken from the lane whose turn it is (KeyError if empty)."""
        if not self._lanes:
            raise KeyError("pop from an empty queue")
        owner, lane = next(iter(self._lanes.items()))
        key, item = lane.popitem(last=False)
        del self._owner[key]
        if lane:
            self._lanes.move_to_end(owner)
        else:
            del self._lanes[owner]
        return key, item

    def remove(self, key: str) -> Item | None:
        """Drop ``key`` from the queue; its item, or None if it was not queued."""
        if key not in self._owner:
            return None
        owner = self._owner.pop(key)
        lane = self._lanes[owner]
        item = lane.pop(key)
        if not lane:
            del self._lanes[owner]
        return item

    def position(self, key: str) -> int | None:
        """1 for the next item to be taken; None if ``key`` is not queued.

        The item at depth ``d`` of the lane at ring index ``r`` is taken in round ``d``, after
        each lane ahead of it in the ring has given ``min(len, d + 1)`` and each behind it
        ``min(len, d)``.
        """
        if key not in self._owner:
            return None
        owner = self._owner[key]
        depth = next(index for index, queued in enumerate(self._lanes[owner]) if queued == key)
        before = depth
        ahead = True
        for other, lane in self._lanes.items():
            if other == owner:
                ahead = False
                continue
            before += min(len(lane), depth + 1 if ahead else depth)
        return before + 1


__all__ = ["FairQueue"]
