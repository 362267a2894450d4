# One image for the web app and the Celery workers.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    MEDIA_ROOT=/data/media \
    STATIC_ROOT=/app/var/static

WORKDIR /app

# libpq for psycopg's binary wheel is bundled; curl is only for the healthcheck.
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/*

COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY manage.py ./
COPY config ./config
COPY survey ./survey
COPY explainers ./explainers
COPY analysis ./analysis
COPY templates ./templates
COPY static ./static

# collectstatic needs a key; this one only lives during the build.
RUN SECRET_KEY=build-only python manage.py collectstatic --no-input -v 0

RUN useradd --create-home --uid 1000 app && mkdir -p /data/media /data/renders && chown -R app /data /app/var
USER app

EXPOSE 8000
CMD ["gunicorn", "-c", "config/gunicorn.py", "config.wsgi:application"]
