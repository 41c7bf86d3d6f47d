#!/usr/bin/env bash
# Set up everything the workflow needs on a fresh Debian/Ubuntu machine, idempotently:
# the Python environment from the lockfile (uv), and TeX Live + poppler through apt.
# MNIST is not fetched here: the workflow's first rule fetches and verifies it.
#   tools/setup.sh           the local environment (no cluster plugin)
#   tools/setup.sh --slurm   the same plus the SLURM executor plugin, for a cluster's submit host
# The environment is .venv, or the folder UV_PROJECT_ENVIRONMENT names (the SLURM test's own).
set -euo pipefail
cd "$(dirname "$0")/.."
env_dir=${UV_PROJECT_ENVIRONMENT:-.venv}

# 1. uv, then the locked Python environment in .venv
if ! command -v uv >/dev/null 2>&1; then
  export PATH="$HOME/.local/bin:$PATH"
  if ! command -v uv >/dev/null 2>&1; then
    echo "setup: installing uv from PyPI"
    python3 -m pip install --quiet uv 2>/dev/null \
      || python3 -m pip install --quiet --user --break-system-packages uv
  fi
fi
# `python3 -m uv` also works where the freshly installed script is not on PATH yet
if command -v uv >/dev/null 2>&1; then uv=(uv); else uv=(python3 -m uv); fi
# Bytecode compiled once here: where PYTHONDONTWRITEBYTECODE is set (as on these machines)
# Python never caches it, and every job recompiled torch from source (6.2 s instead of 2.5 s
# for `import torch` + an optimizer; benchmarks/breakdown.md).
# Snakemake imports every installed executor plugin in every command, and the SLURM plugin
# runs `scontrol show config` when imported: where SLURM is installed but no controller answers
# (a workstation, or this machine after the SLURM test) every local command waited 10 s. So the
# plugin is installed only when asked for; an environment that has it keeps it, because a
# plain `uv sync` would remove it and break the cluster user's next `make report`.
extras=()
if [[ ${1:-} == --slurm ]] \
    || compgen -G "$env_dir/lib/python3*/site-packages/snakemake_executor_plugin_slurm-*.dist-info" >/dev/null; then
  extras=(--extra slurm)
fi
"${uv[@]}" sync --frozen --quiet --compile-bytecode "${extras[@]}"
echo "setup: Python environment ready in $env_dir ($("$env_dir"/bin/python --version)${extras:+, with the SLURM executor plugin})"

# 2. TeX Live (pdflatex through latexmk) and poppler-utils (pdftotext, pdftoppm)
apt_packages=(texlive-latex-base texlive-latex-recommended texlive-science latexmk lmodern poppler-utils)
missing=()
command -v latexmk >/dev/null 2>&1 || missing+=(latexmk)
command -v pdflatex >/dev/null 2>&1 || missing+=(pdflatex)
kpsewhich siunitx.sty >/dev/null 2>&1 || missing+=(siunitx)
command -v pdftotext >/dev/null 2>&1 || missing+=(pdftotext)
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo"; else
    echo "setup: missing ${missing[*]}. Ask an administrator to run:" >&2
    echo "  apt-get install -y --no-install-recommends ${apt_packages[*]}" >&2
    echo "(or install TeX Live with latexmk and poppler-utils another way), then rerun." >&2
    exit 1
  fi
  echo "setup: installing TeX Live and poppler-utils through apt (about a minute)"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" >/dev/null
fi
echo "setup: TeX Live ready ($(latexmk -v | head -n 2 | tail -n 1))"
