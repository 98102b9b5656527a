# bench/lib.bash: what every load benchmark starts with.  Sourced by
# bench/*.sh with the build directory as $1: goes to the tree's root,
# exports BUILD_ABS and loads the test suites' server helpers
# (tests/bats/lib/server.bash: i2m_start, i2m_stop, the port, the spool),
# so a benchmark starts the service exactly as the tests do.
cd "$(dirname "$0")/.." || exit 2
BUILD=${1:-build}
BUILD_ABS=$(cd "$BUILD" && pwd) || exit 2
export BUILD_ABS
# shellcheck source=../tests/bats/lib/server.bash
. tests/bats/lib/server.bash
