# One image for every Nestegg process; docker-compose.yml picks the command per service.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PYTHONWARNINGS=ignore::DeprecationWarning NESTEGG_STATE_DIR=/var/lib/nestegg
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /app nestegg && mkdir -p /var/lib/nestegg \
    && chown nestegg /var/lib/nestegg
WORKDIR /app
COPY pyproject.toml README.md ./
COPY common ./common
COPY gateway ./gateway
COPY users ./users
COPY aggregation ./aggregation
COPY transactions ./transactions
COPY portfolio ./portfolio
COPY recommender ./recommender
COPY notifier ./notifier
COPY rabbitmq ./rabbitmq
RUN pip install --no-cache-dir . && chown -R nestegg /app
USER nestegg
EXPOSE 8000
CMD ["gunicorn", "--config", "gateway/gunicorn.conf.py", "--bind", "0.0.0.0:8000", "gateway.wsgi:app"]
