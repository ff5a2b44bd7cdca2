"""The query watchdog: alarms run when due, in deadline order, and never once disarmed."""
import threading
import time

from dashboard.watchdog import Watchdog


def test_alarms_run_in_deadline_order_and_disarmed_ones_never():
    dog, ran, done = Watchdog(), [], threading.Event()
    late = dog.arm(0.3, lambda: (ran.append("late"), done.set()))
    gone = dog.arm(0.05, lambda: ran.append("disarmed"))
    dog.arm(0.1, lambda: ran.append("soon"))  # earlier than the one the thread sleeps towards: it wakes
    assert dog.disarm(gone)
    assert done.wait(5)
    assert ran == ["soon", "late"]
    assert not dog.disarm(late)  # it ran: a query failing now was stopped by the watchdog


def test_an_alarm_disarmed_in_time_says_so_and_the_thread_serves_later_ones():
    dog, ran = Watchdog(), threading.Event()
    assert dog.disarm(dog.arm(60, ran.set))
    dog.arm(0.01, ran.set)
    assert ran.wait(5)


def test_a_failing_action_does_not_stop_the_watchdog():
    dog, ran = Watchdog(), threading.Event()
    dog.arm(0.01, lambda: 1 / 0)
    time.sleep(0.05)
    dog.arm(0.01, ran.set)
    assert ran.wait(5)
