"""The hand-written Prometheus registry: the text format Prometheus parses (HELP, TYPE,
escaped labels, cumulative histogram buckets with +Inf, _sum and _count), and the mistakes it
refuses (wrong labels, a counter going down, a name declared twice differently)."""

from __future__ import annotations

import pytest

from bot.core.metrics import REGISTRY, Registry


def test_counters_gauges_and_histograms_render_in_prometheus_text() -> None:
    registry = Registry()
    updates = registry.counter("t_updates_total", "Updates.", ("type", "outcome"))
    leader = registry.gauge("t_leader", "Leader.")
    latency = registry.histogram("t_seconds", "Latency.", buckets=(0.1, 1.0))
    updates.inc(type="message", outcome="handled")
    updates.inc(2, type="message", outcome="handled")
    updates.inc(type='call"back\\', outcome="failed")
    leader.set(1)
    for value in (0.05, 0.5, 3.0):
        latency.observe(value)
    text = registry.render()
    assert text.endswith("\n")
    lines = text.splitlines()
    assert "# HELP t_updates_total Updates." in lines
    assert "# TYPE t_updates_total counter" in lines
    assert 't_updates_total{type="message",outcome="handled"} 3' in lines
    assert 't_updates_total{type="call\\"back\\\\",outcome="failed"} 1' in lines
    assert "# TYPE t_leader gauge" in lines and "t_leader 1" in lines
    assert "# TYPE t_seconds histogram" in lines
    assert 't_seconds_bucket{le="0.1"} 1' in lines
    assert 't_seconds_bucket{le="1"} 2' in lines
    assert 't_seconds_bucket{le="+Inf"} 3' in lines
    assert "t_seconds_sum 3.55" in lines
    assert "t_seconds_count 3" in lines
    assert updates.value(type="message", outcome="handled") == 3
    assert latency.count() == 3


def test_the_registry_refuses_mistakes() -> None:
    registry = Registry()
    counter = registry.counter("t_total", "A counter.", ("kind",))
    with pytest.raises(ValueError, match="labels"):
        counter.inc(other="x")
    with pytest.raises(ValueError, match="only grows"):
        counter.inc(-1, kind="x")
    assert registry.counter("t_total", "Again.", ("kind",)) is counter  # the same one
    with pytest.raises(ValueError, match="twice"):
        registry.gauge("t_total", "A gauge now.")


def test_the_bot_declares_what_the_operator_watches() -> None:
    text = REGISTRY.render()
    for name in (
        "roadmap_updates_total",
        "roadmap_update_handling_seconds",
        "roadmap_outbox_notifications",
        "roadmap_telegram_rate_limited_total",
        "roadmap_scheduled_job_runs_total",
        "roadmap_leader",
    ):
        assert f"# TYPE {name} " in text


async def test_the_dispatcher_counts_each_update_by_type_and_outcome() -> None:
    from aiogram import Dispatcher
    from aiogram.types import Update

    from bot.core.metrics import UPDATE_SECONDS, UPDATES
    from bot.telegram.update_metrics import UpdateMetricsMiddleware
    from tests.helpers.mocked_bot import MockedBot

    dispatcher = Dispatcher()
    dispatcher.update.outer_middleware(UpdateMetricsMiddleware())

    @dispatcher.message()
    async def answer(message: object) -> None:
        if getattr(message, "text", "") == "boom":
            raise RuntimeError("a bug")

    def update(update_id: int, text: str) -> Update:
        return Update.model_validate(
            {
                "update_id": update_id,
                "message": {
                    "message_id": 1,
                    "date": 1_700_000_000,
                    "chat": {"id": 1, "type": "private"},
                    "text": text,
                },
            }
        )

    handled = UPDATES.value(type="message", outcome="handled")
    failed = UPDATES.value(type="message", outcome="failed")
    timed = UPDATE_SECONDS.count()
    bot = MockedBot()
    await dispatcher.feed_update(bot, update(1, "hello"))
    with pytest.raises(RuntimeError):
        await dispatcher.feed_update(bot, update(2, "boom"))
    assert UPDATES.value(type="message", outcome="handled") == handled + 1
    assert UPDATES.value(type="message", outcome="failed") == failed + 1
    assert UPDATE_SECONDS.count() == timed + 2


def test_each_scheduled_job_run_is_counted() -> None:
    from datetime import UTC, datetime

    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent

    from bot.core.metrics import JOB_RUNS
    from bot.scheduling.jobs import _count_run

    ran, failed = (
        JOB_RUNS.value(job="round", outcome="ran"),
        JOB_RUNS.value(job="round", outcome="failed"),
    )
    moment = datetime(2025, 3, 3, 5, tzinfo=UTC)
    _count_run(JobExecutionEvent(EVENT_JOB_EXECUTED, "round", "default", moment, retval=3))
    _count_run(
        JobExecutionEvent(EVENT_JOB_ERROR, "round", "default", moment, exception=OSError("x"))
    )
    assert JOB_RUNS.value(job="round", outcome="ran") == ran + 1
    assert JOB_RUNS.value(job="round", outcome="failed") == failed + 1


async def test_the_scheduler_reports_its_runs_to_the_counter(jobs: object) -> None:
    from datetime import time

    from bot.core.weekly import WeeklyTime
    from bot.scheduling.jobs import _count_run, build_scheduler

    scheduler = build_scheduler(jobs, WeeklyTime(("mon",), time(10)))  # type: ignore[arg-type]
    assert any(listener[0] is _count_run for listener in scheduler._listeners)
