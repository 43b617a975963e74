# Sourced by .ci/run and scripts/demo: install_packages PKG... installs the Debian packages among
# PKG (and FLOWRUN_APT_PACKAGES) that are missing, as root or through sudo.
install_packages() {
    local missing=() p
    for p in "$@" ${FLOWRUN_APT_PACKAGES:-}; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    [ "${#missing[@]}" -gt 0 ] || return 0
    local as=()
    [ "$(id -u)" = 0 ] || as=(sudo)
    echo "==> installing ${missing[*]}"
    "${as[@]}" apt-get update -qq
    "${as[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# What building flowrun needs: sqlite3 (state store), libcurl (http-client), libpq (database) and
# PCRE2 (regular expressions in expressions, its 16-bit library).
# Yams vendors libyaml.
BUILD_PACKAGES=(libsqlite3-dev libcurl4-openssl-dev libpq-dev libpcre2-dev)
