# agribot service image (the production setup with PostgreSQL is completed in a later issue).
FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    AGRIBOT_HOST=0.0.0.0 AGRIBOT_CONTENT_DIR=/app/content
WORKDIR /app
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY reporting ./reporting
COPY content ./content
RUN pip install --no-cache-dir . && useradd --create-home agribot && mkdir -p /data && chown agribot /data
USER agribot
ENV AGRIBOT_DATABASE_URL=sqlite:////data/agribot.db
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz').status == 200 else 1)"
CMD ["agribot", "serve"]
