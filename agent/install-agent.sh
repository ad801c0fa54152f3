#!/bin/sh
# Installs the Resistro agent, as the user guide shows:
#   curl https://cloud.resistro.org/install-agent.sh | sudo sh
# Downloads the self-contained `resistro` executable for this machine's architecture (no Node.js
# or anything else needed), checks it against its SHA-256, checks that it runs here, and puts it
# in /usr/local/bin/resistro in one atomic step (an update that fails leaves the old one working).
# Then `resistro install`: the systemd service resistro-agent and /etc/resistro-agent/env (mode
# 0600, never overwritten), and a restart of the service when it is configured. Running this again
# updates the agent.
# Settings, all optional:
#   RESISTRO_API_KEY, RESISTRO_ENDPOINT, RESISTRO_ENCRYPTION_KEY  written into a new env file
#                           (RESISTRO_ENDPOINT default: the API of the service that served this script)
#   RESISTRO_DOWNLOAD_URL   where resistro-linux-<arch> and its .sha256 are (default: <service>/downloads)
#   RESISTRO_AGENT_FILE     install this local executable instead of downloading (its .sha256 next
#                           to it is checked when present)
#   RESISTRO_ARCH           x64 or arm64 instead of this machine's (uname -m)
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
BIN_DIR="/usr/local/bin"
# Earlier installs placed a JavaScript build here, run by Node.js; the executable replaces it.
OLD_LIB_DIR="/usr/local/lib/resistro"

say() { printf 'resistro: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

if [ -z "$PREFIX" ] && [ "$(id -u)" != 0 ]; then
  if [ -n "$ORIGIN" ]; then
    die "installing the agent needs root: curl -fsSL $ORIGIN/install-agent.sh | sudo sh"
  fi
  die "installing the agent needs root: run this script again with sudo"
fi

[ "$(uname -s)" = Linux ] || die "the agent runs on Linux; this is $(uname -s)"
ARCH="${RESISTRO_ARCH:-}"
if [ -z "$ARCH" ]; then
  case "$(uname -m)" in
    x86_64 | amd64) ARCH=x64 ;;
    aarch64 | arm64) ARCH=arm64 ;;
    *) die "no agent is built for $(uname -m); supported: x86_64 (x64) and aarch64 (arm64)" ;;
  esac
fi
case "$ARCH" in x64 | arm64) ;; *) die "RESISTRO_ARCH must be x64 or arm64, not $ARCH" ;; esac
NAME="resistro-linux-$ARCH"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

fetch() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --proto '=https,http' -o "$2" "$1" || die "download of $1 failed"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O "$2" "$1" || die "download of $1 failed"
  else
    die "neither curl nor wget is installed (apt-get install -y curl / dnf install -y curl)"
  fi
}

if [ -n "${RESISTRO_AGENT_FILE:-}" ]; then
  cp "$RESISTRO_AGENT_FILE" "$tmp/$NAME" || die "cannot read $RESISTRO_AGENT_FILE"
  if [ -f "$RESISTRO_AGENT_FILE.sha256" ]; then
    sed "s|  .*|  $NAME|" "$RESISTRO_AGENT_FILE.sha256" > "$tmp/$NAME.sha256"
  fi
else
  [ -n "${RESISTRO_DOWNLOAD_URL:-}" ] || [ -n "$ORIGIN" ] || die "this copy of the installer was not served by a Resistro service: set RESISTRO_DOWNLOAD_URL (…/downloads) or RESISTRO_AGENT_FILE"
  say "downloading the agent for linux-$ARCH from $BASE_URL"
  fetch "$BASE_URL/$NAME.sha256" "$tmp/$NAME.sha256"
  fetch "$BASE_URL/$NAME" "$tmp/$NAME"
fi
if [ -f "$tmp/$NAME.sha256" ]; then
  command -v sha256sum >/dev/null 2>&1 || die "sha256sum is missing (coreutils); cannot check the download"
  (cd "$tmp" && sha256sum -c --quiet "$NAME.sha256" >/dev/null 2>&1) || die "the downloaded agent does not match its SHA-256; not installing it"
elif [ -z "${RESISTRO_AGENT_FILE:-}" ]; then
  die "no checksum for the agent; not installing it"
fi

chmod 0755 "$tmp/$NAME"
version=$("$tmp/$NAME" --version 2>&1) || die "the downloaded agent does not run on this machine: $version"

# The new executable goes next to the old one first, then replaces it by rename: the running
# service keeps its open file, and a failure before the rename leaves the old agent in place.
install -d -m 0755 "$PREFIX$BIN_DIR"
install -m 0755 "$tmp/$NAME" "$PREFIX$BIN_DIR/.resistro.new"
mv -f "$PREFIX$BIN_DIR/.resistro.new" "$PREFIX$BIN_DIR/resistro"
if [ -f "$PREFIX$OLD_LIB_DIR/resistro.mjs" ]; then
  rm -f "$PREFIX$OLD_LIB_DIR/resistro.mjs"
  rmdir "$PREFIX$OLD_LIB_DIR" 2>/dev/null || true
fi
say "installed $BIN_DIR/resistro ($version)"

if ! command -v zstd >/dev/null 2>&1; then
  say "tip: install zstd (apt-get install -y zstd / dnf install -y zstd): backups then compress in a separate process, about 1.5× faster"
fi

# `resistro install` writes the unit (ExecStart=/usr/local/bin/resistro agent) and a new env file,
# and restarts the service when it is configured: an update takes effect at once.
if [ -n "$PREFIX" ]; then
  exec "$PREFIX$BIN_DIR/resistro" install --prefix "$PREFIX"
fi
exec "$BIN_DIR/resistro" install
