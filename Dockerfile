# secretgate as a container image: one static (musl) binary. Two variants:
#
#   docker build -t secretgate .                    # empty base (scratch): just the binary
#   docker build -t secretgate:alpine --target shell .   # Alpine with sh and git
#
# The default image has no shell, so it suits `docker run`, not CI systems
# that run their scripts with a shell inside the image (GitLab CI, Jenkins'
# docker agent): use the `shell` variant there (published as the `alpine`
# tag). secretgate itself never runs git (it reads the object database);
# git in the shell variant is for the CI script's own `git fetch`.
#
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

# With a shell and git, for CI runners that run a script in the image.
FROM alpine:3 AS shell
# A CI checkout is often owned by another user than the one the job runs as;
# git (not secretgate) refuses such a repository unless told it is safe.
RUN apk add --no-cache git \
 && git config --system --add safe.directory '*'
COPY --from=build /src/target/dist/secretgate /usr/local/bin/secretgate
WORKDIR /repo
# No entrypoint: the runner's shell runs the job's script (`secretgate ...`).
CMD ["secretgate", "history"]

# The default: the binary alone.
FROM scratch
COPY --from=build /src/target/dist/secretgate /usr/local/bin/secretgate
# The mounted repository. secretgate reads it whoever owns it; run as your
# user (--user "$(id -u):$(id -g)") so report files (-o) are yours.
WORKDIR /repo
ENTRYPOINT ["/usr/local/bin/secretgate"]
CMD ["history"]
