"""The dashboard's HTTP server, run in the bot's own event loop beside polling."""

from __future__ import annotations

import logging

from aiohttp import web

logger = logging.getLogger(__name__)


class WebServer:
    """Starts and stops one aiohttp application on host:port (port 0: any free port)."""

    def __init__(self, app: web.Application, host: str, port: int) -> None:
        self.runner = web.AppRunner(app, access_log=None)
        self.host = host
        self.port = port

    async def start(self) -> None:
        await self.runner.setup()
        site = web.TCPSite(self.runner, self.host, self.port)
        await site.start()
        self.port = self.runner.addresses[0][1]  # the bound port, when 0 was asked for
        logger.info("Dashboard served on http://%s:%s/app/", self.host, self.port)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def stop(self) -> None:
        await self.runner.cleanup()
