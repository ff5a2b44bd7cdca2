"""Deadlines for running queries: one thread for the whole process, not a thread per query.

Every query of a change used to start a `threading.Timer`; starting a thread waits for it to run,
and with a change's queries all running at once that wait is a turn at the GIL each. Here a query
arms an alarm (a heap entry) and disarms it when done; the one watchdog thread sleeps until the
earliest deadline and runs the alarms that are due.
"""
from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from typing import Callable

log = logging.getLogger(__name__)


class Alarm:
    """One armed deadline. `fired` says whether its action ran (a query failing after that was stopped by us)."""

    __slots__ = ("action", "fired", "disarmed")

    def __init__(self, action: Callable[[], None]):
        self.action, self.fired, self.disarmed = action, False, False


class Watchdog:
    def __init__(self):
        self._wake = threading.Condition()
        self._due: list[tuple[float, int, Alarm]] = []
        self._order = itertools.count()  # ties in deadline never compare two alarms
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float, action: Callable[[], None]) -> Alarm:
        """Run `action` in `seconds` unless the alarm is disarmed first."""
        alarm = Alarm(action)
        with self._wake:
            heapq.heappush(self._due, (time.monotonic() + seconds, next(self._order), alarm))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="query-watchdog", daemon=True)
                self._thread.start()
            elif self._due[0][2] is alarm:  # earlier than anything the thread is sleeping towards
                self._wake.notify()
        return alarm

    def disarm(self, alarm: Alarm) -> bool:
        """Stop the alarm; False if its action already ran (or is running)."""
        with self._wake:
            alarm.disarmed = True
            return not alarm.fired

    def _run(self) -> None:
        with self._wake:
            while True:
                while self._due and self._due[0][2].disarmed:
                    heapq.heappop(self._due)
                if not self._due:
                    self._wake.wait()
                    continue
                delay = self._due[0][0] - time.monotonic()
                if delay > 0:
                    self._wake.wait(delay)
                    continue
                alarm = heapq.heappop(self._due)[2]
                alarm.fired = True
                self._wake.release()  # the action (interrupting a query) must not hold up arming
                try:
                    alarm.action()
                except Exception:  # noqa: BLE001 (a connection gone by now: nothing left to stop)
                    log.debug("watchdog action failed", exc_info=True)
                finally:
                    self._wake.acquire()


WATCHDOG = Watchdog()
