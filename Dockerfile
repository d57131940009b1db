# One image for web, worker and beat (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STOREFRONT_VAR_DIR=/app/var

WORKDIR /app

# Dependencies first, so code changes do not reinstall them (pyproject lists no packages: code runs from /app).
COPY pyproject.toml ./
RUN pip install .

COPY . .

# Static files are collected at build time; the throwaway key only satisfies production settings here.
RUN DJANGO_ENV=production \
    DJANGO_SECRET_KEY=collectstatic-only-not-a-real-secret-0123456789abcdefghijklmnopqrstuvwxyz \
    DJANGO_ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput \
 && useradd --create-home --uid 10001 storefront \
 && chown -R storefront:storefront /app/var

USER storefront
EXPOSE 8000
CMD ["gunicorn", "storefront.wsgi", "-b", "0.0.0.0:8000", "--workers", "3"]
