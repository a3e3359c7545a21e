"""What the operator's tools read: `/healthz` (liveness and readiness) and `/metrics`.

Liveness (`/healthz`) says the process answers; a load balancer or Docker restarts it when
not. Readiness (`/readyz`, or `/healthz?ready=1`) asks each dependency — the database at the
schema this code expects, Redis — and answers 503 with the reasons when one fails, so a
replica that cannot work is taken out of rotation instead of answering Telegram with errors.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from bot.core.faults import first_line
from bot.core.metrics import REGISTRY, Registry

logger = logging.getLogger(__name__)

# A probe answers None when its dependency is fine, else one line saying what is wrong.
Probe = Callable[[], Awaitable[str | None]]
# A collector refreshes gauges whose values live elsewhere, just before /metrics renders.
Collector = Callable[[], Awaitable[None]]

PROBE_TIMEOUT = 5.0  # seconds: a hung dependency is a failed one
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"

PROBES: web.AppKey[Mapping[str, Probe]] = web.AppKey("probes")
METRICS: web.AppKey[Registry] = web.AppKey("metrics", Registry)
COLLECTORS: web.AppKey[tuple[Collector, ...]] = web.AppKey("collectors")
_NO_CACHE = {"Cache-Control": "no-store"}


async def _run(probe: Probe) -> str | None:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            return await probe()
    except TimeoutError:
        return f"no answer within {PROBE_TIMEOUT:g} s"
    except Exception as error:  # whatever a driver raises, the dependency is not ready
        return f"{type(error).__name__}: {first_line(error)}"


async def readyz(request: web.Request) -> web.Response:
    probes = request.app[PROBES]
    results = await asyncio.gather(*(_run(probe) for probe in probes.values()))
    reasons = {name: reason for name, reason in zip(probes, results, strict=True) if reason}
    if reasons:
        return web.json_response(
            {"status": "unavailable", "reasons": reasons}, status=503, headers=_NO_CACHE
        )
    return web.json_response({"status": "ready", "checked": list(probes)}, headers=_NO_CACHE)


async def healthz(request: web.Request) -> web.Response:
    if request.query.get("ready") not in (None, "", "0"):
        return await readyz(request)
    return web.json_response({"status": "alive"}, headers=_NO_CACHE)


async def metrics(request: web.Request) -> web.Response:
    registry = request.app[METRICS]
    for collector in request.app[COLLECTORS]:
        try:
            async with asyncio.timeout(PROBE_TIMEOUT):
                await collector()
        except Exception as error:  # stale gauges beat no metrics at all
            logger.warning("Metrics collection failed: %s", first_line(error))
    return web.Response(
        body=registry.render().encode(),
        headers={"Content-Type": PROMETHEUS_TEXT, **_NO_CACHE},
    )


def add_operations(
    app: web.Application,
    probes: Mapping[str, Probe],
    collectors: tuple[Collector, ...] = (),
    registry: Registry = REGISTRY,
) -> None:
    app[PROBES] = probes
    app[METRICS] = registry
    app[COLLECTORS] = collectors
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
