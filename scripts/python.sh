# Sourced by the other scripts: picks the Python to use ($PYTHON, else python3) and stops with
# one line when it is missing or older than 3.11. Sets $python and $python_version.
python="${PYTHON:-python3}"
need_python() {
    echo "Python 3.11 or newer is needed$1: install it (Ubuntu 22.04: sudo apt install python3.11 python3.11-venv; others: https://www.python.org/downloads/) and run again, or point PYTHON at it (PYTHON=/usr/bin/python3.11 $0)." >&2
    exit 3
}
command -v "$python" >/dev/null 2>&1 || need_python ", and there is no $python here"
python_version=$("$python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null) \
    || need_python " ($python does not run)"
python_major=${python_version%%.*}
python_minor=${python_version#*.}
python_minor=${python_minor%%.*}
if [ "$python_major" -ne 3 ] || [ "$python_minor" -lt 11 ]; then
    need_python " (found $python_version at $(command -v "$python"))"
fi
