# Where moto lives: a pinned version of moto's S3 server from PyPI in a venv under the
# user's cache directory (never in the repository), the real S3 server the backup tests
# upload to. Sourced by scripts/setup (installs it); the tests find `moto_server` there
# (server/tests/common/moto.rs names the same version).
MOTO_VERSION=5.2.5
moto_venv="${XDG_CACHE_HOME:-$HOME/.cache}/berth/moto-$MOTO_VERSION"
