# secretgate as a container image for GitLab CI, Jenkins and other runners:
# one static (musl) binary on an empty base. git is not needed: secretgate
# reads the object database itself.
#
#   docker build -t secretgate .
#   docker run --rm -v "$PWD:/repo" secretgate history          # audit the mounted repository
#   docker run --rm -v "$PWD:/repo" secretgate scan . --format sarif -o secretgate.sarif
FROM rust:1-alpine AS build
WORKDIR /src
COPY . .
# Alpine's Rust targets musl and links statically; every dependency is pure
# Rust (zlib-rs, sha1dc), so no C toolchain beyond musl's headers is needed.
RUN apk add --no-cache musl-dev \
 && cargo build --locked --profile dist \
 && ./target/dist/secretgate --version

FROM scratch
COPY --from=build /src/target/dist/secretgate /usr/local/bin/secretgate
# The mounted repository; run as its owner (--user "$(id -u):$(id -g)") if
# secretgate refuses a repository owned by another user.
WORKDIR /repo
ENTRYPOINT ["/usr/local/bin/secretgate"]
CMD ["history"]
