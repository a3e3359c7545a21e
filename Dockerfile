# The bot as a non-root service; its data folder (the SQLite database unless DATABASE_URL says
# otherwise, and the poll heartbeat the health check reads) is the /app/data volume.
# Build: docker build -t roadmap-bot .
# Run:   docker run -d --env-file .env -v roadmap-data:/app/data roadmap-bot
# With PostgreSQL: docker compose up -d (compose.yaml).
# The install is scripts/install-app.sh (hash-checked pins, compiled catalogs, an import
# check); tests/e2e/test_deploy.py runs the same script in a fresh virtualenv as a non-root user.
# matplotlib's font list is built into the image, so a new container's first chart does not
# rebuild it (about 1.5 s more on the first digest).
FROM python:3.11.14-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOME=/home/bot \
    MPLCONFIGDIR=/home/bot/.cache/matplotlib

WORKDIR /app
COPY requirements.lock ./
COPY scripts ./scripts
COPY bot ./bot
COPY handlers ./handlers
COPY db ./db
COPY locales ./locales
RUN sh scripts/install-app.sh \
    && useradd --system --uid 10001 --create-home --home-dir /home/bot bot \
    && mkdir -p /app/data "$MPLCONFIGDIR" \
    && python -c "import matplotlib.font_manager" \
    && chown -R bot:bot /app/data /home/bot

USER bot
VOLUME ["/app/data"]
HEALTHCHECK --interval=60s --timeout=30s --start-period=90s --retries=3 \
    CMD ["python", "-m", "bot", "doctor", "--quick"]
CMD ["python", "-m", "bot"]
