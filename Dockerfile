# agribot: the whole service (web app, Telegram, Zalo, scheduler) in one image.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    AGRIBOT_HOST=0.0.0.0 \
    AGRIBOT_PORT=8000 \
    AGRIBOT_CONTENT_DIR=/app/content \
    AGRIBOT_FILES_DIR=/data/files \
    AGRIBOT_DATABASE_URL=sqlite:////data/agribot.db

WORKDIR /app
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY reporting ./reporting
COPY content ./content
RUN pip install . \
    && groupadd --system --gid 10001 agribot \
    && useradd --system --uid 10001 --gid agribot --home-dir /app --no-create-home agribot \
    && mkdir -p /data/files \
    && chown -R 10001:10001 /data

USER 10001:10001
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"]
# `agribot serve` upgrades the database (Alembic) before it starts listening.
CMD ["agribot", "serve"]
