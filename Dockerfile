# syntax=docker/dockerfile:1
# Multi-stage: build with the Rust toolchain, run from a small distroless image as non-root.

FROM rust:1-bookworm AS build
WORKDIR /src
# libjpeg-turbo is built from the turbojpeg crate's vendored source and linked statically.
RUN apt-get update && apt-get install -y --no-install-recommends cmake nasm \
 && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cargo build --release --locked --bin maiimg \
 && mkdir -p /empty-data

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/maiimg /usr/local/bin/maiimg
# An empty /data owned by the runtime user, so a fresh named volume is writable.
COPY --from=build --chown=65532:65532 /empty-data /data
ENV MAIIMG_ADDRESS=0.0.0.0 \
    MAIIMG_PORT=8000 \
    MAIIMG_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8000
USER nonroot
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/maiimg", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/maiimg"]
CMD ["serve"]
