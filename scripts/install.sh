#!/usr/bin/env bash
# Install fusioncheck into ./.venv (Python >= 3.11), with its test tools.
#
#   bash scripts/install.sh            # runtime + dev tools
#   FUSIONCHECK_EXTRAS=dev,ray bash scripts/install.sh
#
# open3d needs the system library libusb-1.0 (and libgomp); when they are missing and we may use
# apt-get (root, or sudo without a password), they are installed; otherwise we say what to install.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
EXTRAS="${FUSIONCHECK_EXTRAS:-dev}"

need_libs=()
ldconfig -p 2>/dev/null | grep -q 'libusb-1.0.so.0' || need_libs+=(libusb-1.0-0)
ldconfig -p 2>/dev/null | grep -q 'libgomp.so.1' || need_libs+=(libgomp1)
if [ "${#need_libs[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO="none"; fi
    if [ "$SUDO" = none ]; then
        echo "fusioncheck: please install the system packages: ${need_libs[*]} (open3d needs them)" >&2
        exit 1
    fi
    echo "fusioncheck: installing system packages ${need_libs[*]} (needed by open3d)"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_libs[@]}" >/dev/null
fi

"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "fusioncheck needs Python >= 3.11")'
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[${EXTRAS}]"
# Compile the numba kernels once so the first run does not pay for it.
.venv/bin/python -m fusioncheck.kernels.warmup || true
echo "fusioncheck installed: activate with 'source .venv/bin/activate' or call .venv/bin/fusioncheck"
