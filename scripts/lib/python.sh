# Sourced by scripts/test: ensure_python_venv PKG... makes a Python virtual environment with PKG
# installed from PyPI (QuickJS for the expression differential test, Selenium for the console's
# browser test) and exports FLOWRUN_TEST_PYTHON, its interpreter. Tests that need it skip, saying so,
# when FLOWRUN_TEST_PYTHON is unset; scripts/test always sets it.
ensure_python_venv() {
    local venv="${FLOWRUN_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/flowrun-venv}"
    if [ ! -x "$venv/bin/python" ]; then
        python3 -m venv "$venv"
    fi
    local missing=() p
    for p in "$@"; do
        "$venv/bin/python" -m pip show -q "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "==> pip install ${missing[*]} into $venv"
        "$venv/bin/python" -m pip install -q "${missing[@]}"
    fi
    export FLOWRUN_TEST_PYTHON="$venv/bin/python"
}
