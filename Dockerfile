# Production image of DSI Finance: web (gunicorn), worker and beat (Celery).
# Built by docker-compose.yml; the same image runs every service.

# --- Front-end assets, from the npm registry (never a CDN at run time) ---
FROM node:20-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY scripts/vendor_assets.mjs scripts/
RUN node scripts/vendor_assets.mjs

# --- Application ---
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VAR_DIR=/app/var \
    STATIC_ROOT=/app/staticfiles
# WeasyPrint needs Pango; DejaVu and Liberation fonts render the PDFs.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libfontconfig1 \
        fonts-dejavu-core fonts-liberation2 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements/base.lock requirements/base.lock
RUN pip install --no-cache-dir uv==0.13.8 \
    && uv pip install --system --no-cache --require-hashes -r requirements/base.lock
COPY . .
COPY --from=assets /build/static/vendor static/vendor
# Static files are collected at build time; the key is only for this command.
RUN DEBUG=0 python manage.py collectstatic --noinput -v0 \
    && useradd --system --uid 1000 --home /app dsi \
    && mkdir -p /app/var && chown -R dsi /app/var
USER dsi
EXPOSE 8000
CMD ["gunicorn", "dsi_finance.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
