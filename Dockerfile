# Circle's application image: daphne workers, the one-off migrate job and the
# daily retention job all run from it.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-deps -r requirements.txt \
    && useradd --system --uid 10001 --home /app circle

COPY . .
# Static files are collected into the image; nginx serves them from a shared volume.
RUN DEBUG=1 python manage.py collectstatic --no-input \
    && chown -R circle /app/staticfiles

USER circle
EXPOSE 8000
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "--proxy-headers", "config.asgi:application"]
