FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN apt-get update && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY tmw ./tmw
COPY diagnostics ./diagnostics
COPY engagements ./engagements
COPY commissions ./commissions
COPY community ./community
RUN pip install --no-cache-dir -e .
COPY . .
RUN SECRET_KEY=build-only-collectstatic-key-0123456789-abcdefghijklmnopqrstuvwxyz python manage.py collectstatic --noinput
RUN useradd --create-home tmw && mkdir -p /data/media && chown tmw /data/media
USER tmw
EXPOSE 8000
