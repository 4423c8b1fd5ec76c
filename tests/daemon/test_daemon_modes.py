"""The webhook/polling mode machine, driven by a fake clock."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncd.daemon.modes import Mode, ModeMachine, ModeSettings, RemoteChange, Task


class FakeClock:
    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


SETTINGS = ModeSettings(
    silence_timeout=900, poll_interval=60, full_scan_interval=6 * 3600, grace=120, clock_skew=30
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def machine(clock: FakeClock) -> ModeMachine:
    m = ModeMachine(SETTINGS, clock=clock)
    t = m.registration_succeeded()
    assert t.switched and t.mode is Mode.WEBHOOK
    return m


def test_starts_polling_until_registered(clock):
    m = ModeMachine(SETTINGS, clock=clock)
    assert m.mode is Mode.POLLING and m.reason == "webhook not registered yet"
    t = m.registration_succeeded()
    assert t.switched and t.mode is Mode.WEBHOOK
    assert t.log_line == "mode polling -> webhook: webhook registered"
    sched = m.schedule()
    assert sched.next_freshness_check_at == clock.now + 900
    assert sched.next_poll_at is None


def test_registration_failure_polls_from_start_with_reason(clock):
    m = ModeMachine(SETTINGS, clock=clock)
    t = m.registration_failed("403 Forbidden: not a Confluence administrator")
    assert m.mode is Mode.POLLING
    assert "registration failed: 403 Forbidden" in m.reason
    assert t.log_line and "403 Forbidden" in t.log_line
    sched = m.schedule()
    assert sched.next_poll_at == clock.now + 60
    assert sched.next_freshness_check_at is None
    # no immediate full scan: startup just caught up
    assert sched.next_full_scan_at == clock.now + 6 * 3600
    # re-registration backs off exponentially, capped
    assert sched.next_register_at == clock.now + 60
    m.registration_failed("again")
    assert m.schedule().next_register_at == clock.now + 120
    for _ in range(20):
        m.registration_failed("again")
    assert m.schedule().next_register_at == clock.now + 3600


def test_registration_retry_success_enters_webhook_mode(clock):
    m = ModeMachine(SETTINGS, clock=clock)
    m.registration_failed("no public URL")
    clock.advance(60)
    t = m.registration_succeeded()
    assert t.switched and m.mode is Mode.WEBHOOK and m.registered
    assert m.schedule().next_register_at is None


def test_unreachable_registered_hook_falls_back_and_waits_for_deliveries(clock):
    m = ModeMachine(SETTINGS, clock=clock)
    m.registration_succeeded()
    clock.advance(900)
    assert m.freshness_checked([RemoteChange("1", 2, clock.now - 500)]).switched
    # registered, so no registration retries: only deliveries bring webhook mode back
    assert Task.REGISTER not in m.due()
    assert m.schedule().next_register_at is None


def test_freshness_check_with_all_changes_delivered_stays_webhook(machine, clock):
    clock.advance(100)
    machine.delivery_received("1", 5)
    machine.delivery_received("2")  # DC ID-only: no version
    clock.advance(800)
    changes = [RemoteChange("1", 5, clock.now - 800), RemoteChange("2", 3, clock.now - 790)]
    t = machine.freshness_checked(changes)
    assert not t.switched and machine.mode is Mode.WEBHOOK
    assert machine.schedule().next_freshness_check_at == clock.now + 900


def test_undelivered_change_switches_to_polling_with_full_scan(machine, clock):
    clock.advance(900)
    t = machine.freshness_checked([RemoteChange("7", 3, clock.now - 600)])
    assert t.switched and machine.mode is Mode.POLLING
    assert "not delivered by webhook" in t.reason and "page 7 v3" in t.reason
    assert t.log_line == f"mode webhook -> polling: {t.reason}"
    assert set(machine.due()) == {Task.FULL_SCAN}  # full scan on entry replaces the poll


def test_change_within_grace_is_not_judged(machine, clock):
    clock.advance(900)
    t = machine.freshness_checked([RemoteChange("7", 3, clock.now - 60)])
    assert not t.switched and machine.mode is Mode.WEBHOOK


def test_older_delivered_version_does_not_cover_newer_change(machine, clock):
    machine.delivery_received("7", 2)
    clock.advance(900)
    t = machine.freshness_checked([RemoteChange("7", 3, clock.now - 600)])
    assert t.switched and machine.mode is Mode.POLLING


def test_delivery_before_change_without_version_does_not_cover_it(machine, clock):
    machine.delivery_received("7")
    clock.advance(900)
    # changed long after the only delivery for that page
    t = machine.freshness_checked([RemoteChange("7", None, clock.now - 600)])
    assert t.switched


def test_clock_skew_tolerated(machine, clock):
    clock.advance(300)
    machine.delivery_received("7")
    clock.advance(600)
    # server clock 20 s ahead: the change looks 20 s newer than the delivery
    t = machine.freshness_checked([RemoteChange("7", None, clock.now - 600 + 20)])
    assert not t.switched


def test_misses_before_fallback_threshold(clock):
    m = ModeMachine(
        ModeSettings(silence_timeout=900, poll_interval=60, misses_before_fallback=2), clock=clock
    )
    m.registration_succeeded()
    clock.advance(900)
    assert not m.freshness_checked([RemoteChange("1", 2, clock.now - 600)]).switched
    clock.advance(900)
    assert m.freshness_checked([RemoteChange("2", 2, clock.now - 600)]).switched


def test_a_clean_check_resets_the_miss_count(clock):
    m = ModeMachine(ModeSettings(misses_before_fallback=2), clock=clock)
    m.registration_succeeded()
    clock.advance(900)
    m.freshness_checked([RemoteChange("1", 2, clock.now - 600)])
    clock.advance(900)
    m.freshness_checked([])
    clock.advance(900)
    assert not m.freshness_checked([RemoteChange("2", 2, clock.now - 600)]).switched


def _fall_back(machine: ModeMachine, clock: FakeClock) -> None:
    clock.advance(900)
    machine.freshness_checked([RemoteChange("9", 4, clock.now - 600)])
    assert machine.mode is Mode.POLLING
    machine.full_scan_done()


def test_polling_schedule_and_poll_results(machine, clock):
    _fall_back(machine, clock)
    assert machine.due() == []
    assert machine.schedule().next_poll_at == clock.now + 60
    clock.advance(60)
    assert machine.due() == [Task.POLL]
    t = machine.polled([])
    assert not t.switched
    assert machine.last_poll_at == clock.now
    assert machine.next_wakeup() == clock.now + 60


def test_back_to_webhook_when_deliveries_cover_polled_changes(machine, clock):
    _fall_back(machine, clock)
    clock.advance(10)
    machine.delivery_received("3", 8)
    clock.advance(200)
    t = machine.polled([RemoteChange("3", 8, clock.now - 205)])
    assert t.switched and machine.mode is Mode.WEBHOOK
    assert "deliveries resumed" in t.reason
    assert t.log_line.startswith("mode polling -> webhook:")
    sched = machine.schedule()
    assert sched.next_poll_at is None and sched.next_freshness_check_at == clock.now + 900


def test_stays_polling_while_some_polled_change_was_not_delivered(machine, clock):
    _fall_back(machine, clock)
    clock.advance(10)
    machine.delivery_received("3", 8)
    clock.advance(200)
    t = machine.polled(
        [RemoteChange("3", 8, clock.now - 205), RemoteChange("4", 2, clock.now - 190)]
    )
    assert not t.switched and machine.mode is Mode.POLLING


def test_stays_polling_without_any_delivery_since_fallback(machine, clock):
    machine.delivery_received("3", 8)  # before the fallback
    _fall_back(machine, clock)
    clock.advance(200)
    assert not machine.polled([RemoteChange("3", 8, clock.now - 1000)]).switched


def test_fresh_delivered_change_is_evidence_but_undelivered_fresh_one_waits(machine, clock):
    _fall_back(machine, clock)
    machine.delivery_received("3", 8)
    clock.advance(60)
    # page 4 changed 30 s ago and is not delivered yet: too early to judge, so stay
    t = machine.polled([RemoteChange("3", 8, clock.now - 30), RemoteChange("4", 1, clock.now - 30)])
    assert not t.switched
    machine.delivery_received("4", 1)
    clock.advance(60)
    t = machine.polled([])  # page 4 is re-judged from memory
    assert t.switched and machine.mode is Mode.WEBHOOK


def test_fresh_undelivered_change_becomes_a_miss_after_grace_while_polling(machine, clock):
    _fall_back(machine, clock)
    machine.delivery_received("3", 8)
    clock.advance(60)
    assert not machine.polled([RemoteChange("4", 1, clock.now - 30)]).switched
    clock.advance(120)
    assert not machine.polled([RemoteChange("3", 8, clock.now - 10)]).switched  # 4 missed
    clock.advance(60)
    machine.delivery_received("5", 2)
    assert machine.polled([RemoteChange("5", 2, clock.now - 5)]).switched


def test_known_changes_prove_nothing_in_webhook_mode(machine, clock):
    clock.advance(900)
    t = machine.freshness_checked([RemoteChange("7", 3, clock.now - 600, known=True)])
    assert not t.switched


def test_known_delivered_change_brings_webhook_mode_back(machine, clock):
    # a fast sync engine pulls the delivered page before the poll: the poll reports the
    # change as known, and it still counts as evidence that deliveries work again
    _fall_back(machine, clock)
    clock.advance(5)
    machine.delivery_received("3", 8)
    clock.advance(60)
    assert machine.polled([RemoteChange("3", 8, clock.now - 60, known=True)]).switched


def test_known_undelivered_change_while_polling_is_a_miss(machine, clock):
    _fall_back(machine, clock)
    clock.advance(5)
    machine.delivery_received("3", 8)
    clock.advance(200)
    # page 4 was synced by the poll itself, not by a delivery
    changes = [
        RemoteChange("3", 8, clock.now - 190),
        RemoteChange("4", 2, clock.now - 190, known=True),
    ]
    assert not machine.polled(changes).switched


def test_change_reported_again_by_an_overlapping_window_is_not_recounted(machine, clock):
    _fall_back(machine, clock)
    clock.advance(5)
    old = RemoteChange("4", 2, clock.now)
    clock.advance(200)
    assert not machine.polled([old]).switched  # missed: no delivery yet
    machine.delivery_received("5", 1)
    clock.advance(60)
    # the feed's overlap reports page 4 v2 again; it was judged already
    assert machine.polled([old, RemoteChange("5", 1, clock.now - 50)]).switched


def test_changes_from_before_the_fallback_are_not_judged_while_polling(machine, clock):
    _fall_back(machine, clock)
    machine.delivery_received("5", 1)
    clock.advance(60)
    before = RemoteChange("9", 4, machine.since - 30)
    assert machine.polled([before, RemoteChange("5", 1, clock.now - 10)]).switched


# ---- changes without a server modification time (the pending / follow-up path) ----


def test_unknown_time_change_is_judged_at_a_follow_up_check(machine, clock):
    clock.advance(900)
    t = machine.freshness_checked([RemoteChange("7", 3)])
    assert not t.switched
    # the follow-up comes grace (+1 s) later, not a whole silence_timeout later
    assert machine.schedule().next_freshness_check_at == clock.now + 121
    clock.advance(121)
    assert machine.due() == [Task.FRESHNESS_CHECK]
    t = machine.freshness_checked([])
    assert t.switched and "page 7 v3" in t.reason


def test_unknown_time_change_delivered_meanwhile_is_covered(machine, clock):
    clock.advance(900)
    machine.freshness_checked([RemoteChange("7", 3)])
    clock.advance(5)
    machine.delivery_received("7", 3)
    clock.advance(116)
    assert not machine.freshness_checked([RemoteChange("7", 3)]).switched
    assert machine.schedule().next_freshness_check_at == clock.now + 900


def test_dc_id_only_delivery_in_the_checked_window_covers_unknown_time_change(machine, clock):
    clock.advance(400)
    machine.delivery_received("7")  # no version (DC ID-only) before the check saw it
    clock.advance(500)
    machine.freshness_checked([RemoteChange("7", 3)])
    clock.advance(121)
    assert not machine.freshness_checked([]).switched


def test_dc_id_only_delivery_before_the_window_does_not_cover(machine, clock):
    machine.delivery_received("7")
    clock.advance(900)
    machine.freshness_checked([])  # window moves on
    clock.advance(900)
    machine.freshness_checked([RemoteChange("7", 3)])
    clock.advance(121)
    assert machine.freshness_checked([]).switched


def test_not_registered_never_returns_to_webhook(clock):
    m = ModeMachine(SETTINGS, clock=clock)
    m.registration_failed("endpoint missing")
    m.delivery_received("3", 8)
    clock.advance(300)
    assert not m.polled([RemoteChange("3", 8, clock.now - 250)]).switched


def test_webhook_lost_polls_and_reregisters_now(machine, clock):
    t = machine.webhook_lost("registration 17 is disabled")
    assert t.switched and machine.mode is Mode.POLLING
    assert set(machine.due()) == {Task.FULL_SCAN, Task.REGISTER}
    machine.register_attempted()
    assert Task.REGISTER not in machine.due()


def test_full_scan_every_interval_in_webhook_mode(machine, clock):
    clock.advance(6 * 3600)
    due = machine.due()
    assert Task.FULL_SCAN in due and Task.FRESHNESS_CHECK in due
    machine.full_scan_done()
    machine.freshness_checked([])
    assert machine.due() == []
    assert machine.schedule().next_full_scan_at == clock.now + 6 * 3600


def test_freshness_check_in_polling_mode_changes_nothing(machine, clock):
    _fall_back(machine, clock)
    t = machine.freshness_checked([RemoteChange("1", 1, clock.now - 10_000)])
    assert not t.switched and machine.mode is Mode.POLLING


def test_silence_elapsed(machine, clock):
    assert not machine.silence_elapsed()
    clock.advance(901)
    assert machine.silence_elapsed()
    machine.delivery_received()
    assert not machine.silence_elapsed()


def test_delivery_memory_is_bounded(clock):
    m = ModeMachine(ModeSettings(delivery_memory=3), clock=clock)
    for i in range(10):
        m.delivery_received(str(i), 1)
    assert list(m._delivered) == ["7", "8", "9"]


def test_snapshot_for_status(machine, clock):
    snap = machine.snapshot()
    assert snap["mode"] == "webhook" and snap["registered"] is True
    assert snap["reason"] == "webhook registered"


def test_invalid_settings_rejected():
    with pytest.raises(ValueError):
        ModeSettings(poll_interval=0)
    with pytest.raises(ValueError):
        ModeSettings(misses_before_fallback=0)


# ---- invariants under arbitrary input sequences -------------------------------------


_ops = st.lists(
    st.one_of(
        st.tuples(st.just("advance"), st.floats(min_value=0, max_value=2000)),
        st.tuples(st.just("ok"), st.none()),
        st.tuples(st.just("fail"), st.none()),
        st.tuples(st.just("lost"), st.none()),
        st.tuples(st.just("disabled"), st.none()),
        st.tuples(st.just("deliver"), st.tuples(st.sampled_from("abc"), st.integers(1, 5))),
        st.tuples(
            st.just("check"),
            st.lists(
                st.tuples(st.sampled_from("abc"), st.integers(1, 5), st.booleans()), max_size=3
            ),
        ),
        st.tuples(
            st.just("poll"),
            st.lists(
                st.tuples(st.sampled_from("abc"), st.integers(1, 5), st.booleans()), max_size=3
            ),
        ),
        st.tuples(st.just("scan"), st.none()),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(_ops)
def test_schedule_invariants_hold_for_any_input_sequence(ops):
    clock = FakeClock()
    m = ModeMachine(SETTINGS, clock=clock)
    for op, arg in ops:
        if op == "advance":
            clock.advance(arg)
        elif op == "ok":
            m.registration_succeeded()
        elif op == "fail":
            m.registration_failed("nope")
        elif op == "lost":
            m.webhook_lost("gone")
        elif op == "disabled":
            m.webhooks_disabled()
        elif op == "deliver":
            m.delivery_received(*arg)
        elif op in ("check", "poll"):
            changes = [
                RemoteChange(p, v, (clock.now - 300) if timed else None) for p, v, timed in arg
            ]
            t = m.freshness_checked(changes) if op == "check" else m.polled(changes)
            assert not t.switched or t.log_line
        else:
            m.full_scan_done()
        sched = m.schedule()
        if m.mode is Mode.WEBHOOK:
            assert m.registered
            assert sched.next_poll_at is None and sched.next_freshness_check_at is not None
            assert Task.POLL not in m.due()
        else:
            assert sched.next_freshness_check_at is None and sched.next_poll_at is not None
            assert Task.FRESHNESS_CHECK not in m.due()
        if m.registered:
            assert sched.next_register_at is None
        assert m.next_wakeup() <= clock.now + SETTINGS.full_scan_interval
        assert m.reason
