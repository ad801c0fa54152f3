#!/bin/sh
# Installs the Resistro agent, as the user guide shows:
#   curl https://cloud.resistro.org/install-agent.sh | sudo sh
# Places the single-file agent (checked against its SHA-256) in /usr/local/lib/resistro, a
# `resistro` command in /usr/local/bin, then runs `resistro install`: the systemd service
# resistro-agent and /etc/resistro-agent/env (mode 0600, never overwritten).
# Settings, all optional:
#   RESISTRO_API_KEY, RESISTRO_ENDPOINT, RESISTRO_ENCRYPTION_KEY  written into a new env file
#                           (RESISTRO_ENDPOINT default: the API of the service that served this script)
#   RESISTRO_DOWNLOAD_URL   where resistro.mjs and resistro.mjs.sha256 are (default below)
#   RESISTRO_AGENT_FILE     install this local resistro.mjs instead of downloading
#   RESISTRO_NODE           the node binary to use (default: node on PATH)
#   RESISTRO_PREFIX         install below another root, without systemctl (packaging, tests)
set -eu

# The service that serves this script (/install-agent.sh) fills in its origin here: the agent is
# downloaded from it and reports to it. A copy run from a checkout has none (then RESISTRO_AGENT_FILE
# or RESISTRO_DOWNLOAD_URL, and `resistro install`'s default endpoint).
ORIGIN="__RESISTRO_ORIGIN__"
case "$ORIGIN" in http://* | https://*) ;; *) ORIGIN="" ;; esac
BASE_URL="${RESISTRO_DOWNLOAD_URL:-$ORIGIN/downloads}"
if [ -z "${RESISTRO_ENDPOINT:-}" ] && [ -n "$ORIGIN" ]; then
  RESISTRO_ENDPOINT="$ORIGIN/api"
  export RESISTRO_ENDPOINT
fi
PREFIX="${RESISTRO_PREFIX:-}"
LIB_DIR="/usr/local/lib/resistro"
BIN_DIR="/usr/local/bin"

say() { printf 'resistro: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

if [ -z "$PREFIX" ] && [ "$(id -u)" != 0 ]; then
  if [ -n "$ORIGIN" ]; then
    die "installing the agent needs root: curl -fsSL $ORIGIN/install-agent.sh | sudo sh"
  fi
  die "installing the agent needs root: run this script again with sudo"
fi

NODE="${RESISTRO_NODE:-$(command -v node || true)}"
[ -n "$NODE" ] || die "Node.js 22.15 or newer is needed. Install it (e.g. https://deb.nodesource.com, or your distribution's nodejs package) and run this again."
version=$("$NODE" -p 'process.versions.node' 2>/dev/null) || die "$NODE does not run"
major=${version%%.*}
rest=${version#*.}
minor=${rest%%.*}
if [ "$major" -lt 22 ] || { [ "$major" -eq 22 ] && [ "$minor" -lt 15 ]; }; then
  die "Node.js $version at $NODE is too old; the agent needs 22.15 or newer (set RESISTRO_NODE to another node binary)."
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

fetch() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --proto '=https,http' -o "$2" "$1" || die "download of $1 failed"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O "$2" "$1" || die "download of $1 failed"
  else
    die "neither curl nor wget is installed"
  fi
}

if [ -n "${RESISTRO_AGENT_FILE:-}" ]; then
  cp "$RESISTRO_AGENT_FILE" "$tmp/resistro.mjs" || die "cannot read $RESISTRO_AGENT_FILE"
  if [ -f "$RESISTRO_AGENT_FILE.sha256" ]; then cp "$RESISTRO_AGENT_FILE.sha256" "$tmp/resistro.mjs.sha256"; fi
else
  [ -n "${RESISTRO_DOWNLOAD_URL:-}" ] || [ -n "$ORIGIN" ] || die "this copy of the installer was not served by a Resistro service: set RESISTRO_DOWNLOAD_URL (…/downloads) or RESISTRO_AGENT_FILE"
  say "downloading the agent from $BASE_URL"
  fetch "$BASE_URL/resistro.mjs" "$tmp/resistro.mjs"
  fetch "$BASE_URL/resistro.mjs.sha256" "$tmp/resistro.mjs.sha256"
fi
if [ -f "$tmp/resistro.mjs.sha256" ]; then
  (cd "$tmp" && sha256sum -c --quiet resistro.mjs.sha256) || die "the downloaded agent does not match its SHA-256; not installing it"
elif [ -z "${RESISTRO_AGENT_FILE:-}" ]; then
  die "no checksum for the agent; not installing it"
fi

install -d -m 0755 "$PREFIX$LIB_DIR" "$PREFIX$BIN_DIR"
install -m 0644 "$tmp/resistro.mjs" "$PREFIX$LIB_DIR/resistro.mjs"
cat > "$tmp/resistro" <<WRAPPER
#!/bin/sh
exec "$NODE" "$LIB_DIR/resistro.mjs" "\$@"
WRAPPER
install -m 0755 "$tmp/resistro" "$PREFIX$BIN_DIR/resistro"
say "installed $BIN_DIR/resistro ($("$NODE" "$PREFIX$LIB_DIR/resistro.mjs" --version))"

if ! command -v zstd >/dev/null 2>&1; then
  say "tip: install zstd (apt-get install -y zstd / dnf install -y zstd): backups then compress in a separate process, about 1.5× faster"
fi

if [ -n "$PREFIX" ]; then
  exec "$NODE" "$PREFIX$LIB_DIR/resistro.mjs" install --prefix "$PREFIX"
fi
exec "$NODE" "$LIB_DIR/resistro.mjs" install
