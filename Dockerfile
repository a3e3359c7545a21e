# The bot as a non-root service; the SQLite database lives in the /app/data volume.
# Build: docker build -t roadmap-bot .
# Run:   docker run --env-file .env -v roadmap-data:/app/data roadmap-bot
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY requirements.lock ./
RUN pip install -r requirements.lock

COPY bot ./bot
COPY handlers ./handlers
COPY db ./db
COPY locales ./locales
RUN python -m bot compile-catalogs \
    && useradd --system --uid 10001 --home-dir /app bot \
    && mkdir -p /app/data \
    && chown bot /app/data

USER bot
VOLUME ["/app/data"]
CMD ["python", "-m", "bot"]
