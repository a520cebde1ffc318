#!/bin/sh
# Build the django-silver yardstick environment OUTSIDE the repository (`make silver-env`).
#
# It creates $SILVERBENCH_DIR/venv (default ~/.cache/subbill/silverbench) with exactly the
# pins of the docstring of ../shared/bench/silver_bench.py, from PyPI. The benchmark
# (`make bench`) runs silver_bench.py with that venv's python when it exists; else the
# django-silver rows say "not measured". Rerunning it on a complete venv does nothing.
set -eu
PYTHON=${PYTHON:-python3}
SILVERBENCH_DIR=${SILVERBENCH_DIR:-$HOME/.cache/subbill/silverbench}
VENV="$SILVERBENCH_DIR/venv"
if [ -x "$VENV/bin/python" ] && [ -f "$VENV/.complete" ]; then
    echo "django-silver environment already built: $VENV"
    exit 0
fi
mkdir -p "$SILVERBENCH_DIR"
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install --upgrade pip
"$VENV/bin/pip" install 'django-silver==0.11.1' 'Django==3.2.25' \
    'django-annoying==0.10.6' 'setuptools<81'
"$VENV/bin/python" -c 'import django, silver; print("django", django.get_version())'
touch "$VENV/.complete"
echo "django-silver environment built: $VENV"
