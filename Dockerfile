# scim2entra: one slim image for every service of docker-compose.yml (web, worker, scheduler,
# migrate). Build: docker build -t scim2entra .
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml README.md ./
COPY webapp webapp
COPY scim scim
COPY jobs jobs
COPY mappings mappings
# A regular (not editable) install; bytecode compiled now, so a read-only, non-root
# container never compiles at start.
RUN /opt/venv/bin/pip install . \
 && /opt/venv/bin/python -m compileall -q -j 0 /opt/venv

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SCIM2ENTRA_INSTANCE_PATH=/var/lib/scim2entra \
    PROMETHEUS_MULTIPROC_DIR=/run/scim2entra/metrics \
    PORT=8000
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/scim2entra \
        --create-home scim2entra \
 && mkdir -p /run/scim2entra/metrics \
 && chown -R scim2entra:scim2entra /run/scim2entra
COPY --from=build /opt/venv /opt/venv
COPY deploy/gunicorn.conf.py /etc/scim2entra/gunicorn.conf.py
USER scim2entra:scim2entra
WORKDIR /var/lib/scim2entra
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD ["python", "-m", "webapp.probe", "web"]
CMD ["gunicorn", "--config", "/etc/scim2entra/gunicorn.conf.py", "webapp:create_app()"]
