# Leftover: one image for the command-line scanner, the web app, its workers and scheduler.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
COPY workers ./workers
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 leftover && mkdir /data && chown leftover /data
COPY --from=build /install /usr/local
# The app finds templates/, static/ and migrations/ beside its package: run it from /app.
WORKDIR /app
COPY app ./app
COPY workers ./workers
COPY templates ./templates
COPY static ./static
COPY migrations ./migrations
ENV PYTHONPATH=/app PYTHONUNBUFFERED=1 LEFTOVER_DATA_DIR=/data
USER leftover
ENTRYPOINT ["leftover"]
CMD ["--help"]
