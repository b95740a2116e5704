# Where schemathesis lives: a pinned version from PyPI in a venv under the user's cache
# directory (never in the repository). Sourced by scripts/setup (installs it) and
# scripts/api-contract (runs it).
SCHEMATHESIS_VERSION=4.32.5
st_venv="${XDG_CACHE_HOME:-$HOME/.cache}/berth/schemathesis-$SCHEMATHESIS_VERSION"
