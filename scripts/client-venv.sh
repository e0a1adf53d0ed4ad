#!/usr/bin/env bash
# Builds .venv-clients/ (git-ignored): a Python virtual environment with the official OpenAI and
# Anthropic client libraries from PyPI, pinned in scripts/client-requirements.txt. The client
# compatibility tests (Tests/CicadaIntegrationTests/ClientCompatTests.swift) run small scripts with
# its python against `cicada serve`'s engine. .ci/run calls this before the tests; a person runs it
# once (it is quick to rerun: an up-to-date venv is kept).
#
#   scripts/client-venv.sh            build or refresh .venv-clients/
#   VENV=/path scripts/client-venv.sh build elsewhere (the tests look at CICADA_CLIENT_VENV, else .venv-clients)
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${VENV:-.venv-clients}"
req=scripts/client-requirements.txt
python="${PYTHON:-python3}"
stamp="$venv/.requirements"

if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && cmp -s "$req" "$stamp" \
    && "$venv/bin/python" -c 'import openai, anthropic, tokenizers' 2>/dev/null; then
    echo "client-venv: $venv is up to date ($(grep -v '^#' "$req" | xargs))"
    exit 0
fi

if ! "$python" -m venv --help >/dev/null 2>&1; then
    # Debian's own python3 ships venv separately.
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        apt-get install -y -qq python3-venv >/dev/null
    else
        echo "client-venv: $python has no venv module (install python3-venv)" >&2
        exit 1
    fi
fi

start=$(date +%s)
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$req"
"$venv/bin/python" -c 'import openai, anthropic, tokenizers; print("client-venv: openai", openai.__version__, "anthropic", anthropic.__version__)'
cp "$req" "$stamp"
echo "client-venv: built $venv in $(( $(date +%s) - start )) s"
