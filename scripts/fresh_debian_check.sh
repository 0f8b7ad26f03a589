#!/usr/bin/env bash
# Runs the README's two commands on a truly fresh Debian: a bookworm minbase made by debootstrap (only
# the Essential packages and apt), with this repository's committed HEAD cloned into it, under chroot.
#   usage: scripts/fresh_debian_check.sh WORKDIR [--clean]      (as root: debootstrap, mount, chroot)
# Everything goes into a new folder WORKDIR/fresh-debian.XXXXXX (rootfs/, one log per step, summary.txt);
# nothing outside it is written, except installing debootstrap on the host when it is missing. --clean
# removes that folder at the end (only it, only once nothing is mounted under it); by default it stays for
# inspection (about 3 GB). The mirror is the host's own Debian mirror, from its apt sources.
# Steps, each timed: debootstrap; bash scripts/demo.sh; bash scripts/test.sh; bash scripts/check_deps.sh
# (the last one on a machine where setup.sh installed everything, so every package the build needs must
# be one setup.sh lists or pulls in).
set -euo pipefail

usage() {
  echo "usage: $0 WORKDIR [--clean]" >&2
  exit 2
}
[ $# -ge 1 ] && [ $# -le 2 ] || usage
workdir=$1
clean=0
if [ $# -eq 2 ]; then
  [ "$2" = "--clean" ] || usage
  clean=1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "fresh_debian_check: needs root (debootstrap, mount and chroot)" >&2
  exit 1
fi

repo=$(cd "$(dirname "$0")/.." && pwd)
commit=$(git -C "$repo" rev-parse HEAD)
if [ -n "$(git -C "$repo" status --porcelain --untracked-files=no)" ]; then
  echo "fresh_debian_check: note: uncommitted changes in $repo are not part of the check (HEAD $commit is)"
fi
suite=bookworm

# The host's Debian mirror: the first URI that serves $suite itself, from deb822 .sources or one-line .list.
mirror_uri() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v suite="$suite" '
      /^[[:space:]]*$/ { if (uri != "" && has) { print uri; exit } uri = ""; has = 0; next }
      tolower($1) == "uris:" { uri = $2 }
      tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == suite) has = 1 }
      END { if (uri != "" && has) print uri }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    # deb [options] URI SUITE COMPONENTS...
    sed -E 's/\[[^]]*\]//' "$f" | awk -v suite="$suite" '$1 == "deb" && $3 == suite { print $2 }'
  done
}
mirror=$(mirror_uri | head -n 1)
if [ -z "$mirror" ]; then
  echo "fresh_debian_check: no apt source for $suite in /etc/apt/sources.list{,.d/}" >&2
  exit 1
fi

if ! command -v debootstrap >/dev/null; then
  echo "fresh_debian_check: installing debootstrap on the host"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
fi

mkdir -p "$workdir"
run=$(mktemp -d "$(realpath "$workdir")/fresh-debian.XXXXXX")  # new: provably ours
root="$run/rootfs"
summary="$run/summary.txt"
mounted=()

cleanup() {
  local status=$? i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" || true
  done
  if [ "$clean" -eq 1 ]; then
    if findmnt -rn -o TARGET | grep -q "^$run/"; then
      echo "fresh_debian_check: something is still mounted under $run: not removing it" >&2
    else
      rm -rf --one-file-system -- "$run"
    fi
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# step NAME COMMAND...: runs it with its output in $run/NAME.log, and records the wall time.
step() {
  local name=$1 start end status
  shift
  echo "== $name ($(date +%H:%M:%S), log $run/$name.log)"
  start=$(date +%s)
  set +e
  "$@" >"$run/$name.log" 2>&1
  status=$?
  set -e
  end=$(date +%s)
  printf '%-14s %s  %4d s  (%dm%02ds)\n' "$name" "$([ $status -eq 0 ] && echo ok || echo "FAILED($status)")" \
    $((end - start)) $(((end - start) / 60)) $(((end - start) % 60)) | tee -a "$summary"
  if [ $status -ne 0 ]; then
    tail -n 30 "$run/$name.log" >&2
    exit 1
  fi
}

# in_chroot COMMAND: a login-like, clean environment in the repository's clone.
in_chroot() {
  chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    bash -c "cd /root/egsim && $1"
}

echo "fresh_debian_check: $suite minbase from $mirror into $root, commit $commit" | tee "$summary"
step debootstrap debootstrap --variant=minbase "$suite" "$root" "$mirror"

cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
mounted+=("$root/proc")
echo "packages in the fresh system: $(chroot "$root" dpkg-query -W -f='.\n' | wc -l)" | tee -a "$summary"

git clone --quiet --no-hardlinks --single-branch --no-checkout "$repo" "$root/root/egsim"
git -C "$root/root/egsim" fetch --quiet "$repo" "$commit"
git -C "$root/root/egsim" checkout --quiet --detach "$commit"

step demo in_chroot "bash scripts/demo.sh"
step test in_chroot "bash scripts/test.sh"
step check_deps in_chroot "bash scripts/check_deps.sh"
echo "packages after setup.sh: $(chroot "$root" dpkg-query -W -f='.\n' | wc -l)" | tee -a "$summary"
echo "fresh_debian_check: all steps passed; summary in $summary"
