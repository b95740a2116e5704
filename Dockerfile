# Production image of berth. Built by docker-compose.yml; needs a registry to fetch the
# base images (not reachable on Berth's development machines, where scripts/run is used).
FROM rust:1.95-bookworm AS build
RUN rustup target add wasm32-unknown-unknown \
 && cargo install wasm-bindgen-cli --version 0.2.130 \
 && cargo install wasm-opt --version 0.116.1 --locked --no-default-features
WORKDIR /src
COPY . .
RUN scripts/build

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates postgresql git openssh-client \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/berth /opt/berth/berth
COPY --from=build /src/target/site /opt/berth/site
ENV BERTH_ADDR=0.0.0.0:3000 BERTH_DATA_DIR=/var/lib/berth BERTH_SITE_ROOT=/opt/berth/site
EXPOSE 3000
ENTRYPOINT ["/opt/berth/berth"]
