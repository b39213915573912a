# Leftover: one image for the command-line scanner (and, later, the web app and workers).
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
COPY workers ./workers
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 leftover
COPY --from=build /install /usr/local
COPY templates /app/templates
COPY static /app/static
WORKDIR /app
USER leftover
ENTRYPOINT ["leftover"]
CMD ["--help"]
