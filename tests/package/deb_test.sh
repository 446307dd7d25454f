#!/usr/bin/env bash
# The .deb, installed on this machine as an operator would: built with CPack
# from BUILD_DIR, installed with apt-get, its maintainer scripts checked
# (user, data directory, config permissions, idempotent postinst), the
# server started the documented way for a machine without a running systemd
# (runuser -u lambdaflow -- lambdaflow run --config ...), /healthz and a
# query checked, then purged and checked gone (idempotent postrm too).
# Also `cmake --install` into a scratch root (DESTDIR). Needs root and
# dpkg; exits 77 (skipped) without them or when a lambdaflow package is
# already installed (the test will not touch one it did not install).
# One run at a time on a machine (flock).
#
#   tests/package/deb_test.sh BUILD_DIR
set -euo pipefail

build=$(cd "$1" && pwd)
skip() { echo "deb_test: SKIPPED: $*" >&2; exit 77; }
fail() { echo "deb_test: FAILED: $*" >&2; exit 1; }
step() { echo "deb_test: $*" >&2; }

[[ $(id -u) -eq 0 ]] || skip "needs root (installs a package)"
command -v dpkg >/dev/null && command -v apt-get >/dev/null && command -v cpack >/dev/null ||
  skip "needs dpkg, apt-get and cpack"
exec 9>/var/lock/lambdaflow-deb-test.lock
flock -w 600 9 || fail "another deb_test holds /var/lock/lambdaflow-deb-test.lock"
if [[ $(dpkg-query -W -f='${Status}' lambdaflow 2>/dev/null || true) == *" installed" ]]; then
  skip "a lambdaflow package is installed on this machine already; remove it first (apt-get purge lambdaflow)"
fi

work=$(mktemp -d /tmp/lf-deb-test-XXXXXX)
installed=0
server=
cleanup() {
  if [[ -n $server ]]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  if ((installed)); then apt-get purge -y -q -o DPkg::Lock::Timeout=300 lambdaflow >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# ---- cmake --install into a scratch root
step "cmake --install into a scratch root"
DESTDIR=$work/root cmake --install "$build" --prefix /usr >/dev/null
for f in usr/bin/lambdaflow usr/share/lambdaflow/examples/views.sql etc/lambdaflow/lambdaflow.toml \
         etc/lambdaflow/views.sql lib/systemd/system/lambdaflow.service; do
  [[ -f $work/root/$f ]] || fail "cmake --install did not install /$f"
done
unit=$work/root/lib/systemd/system/lambdaflow.service
grep -qx 'ExecStart=/usr/bin/lambdaflow run --config /etc/lambdaflow/lambdaflow.toml' "$unit" ||
  fail "the unit's ExecStart: $(grep ExecStart "$unit")"
for line in User=lambdaflow StateDirectory=lambdaflow NoNewPrivileges=yes ProtectSystem=strict; do
  grep -qx "$line" "$unit" || fail "the unit lacks $line"
done

# ---- the .deb
step "cpack -G DEB"
(cd "$work" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/pkg" >"$work/cpack.log" 2>&1) ||
  { cat "$work/cpack.log" >&2; fail "cpack"; }
deb=$(ls "$work"/pkg/lambdaflow_*.deb)
[[ $(dpkg-deb -f "$deb" Package) == lambdaflow ]] || fail "package name"
depends=$(dpkg-deb -f "$deb" Depends)
[[ $depends == *libc6* ]] || fail "Depends has no shared-library dependencies: '$depends'"
contents=$(dpkg-deb -c "$deb")
[[ $contents == *" ./lib/systemd/system/lambdaflow.service"* ]] || fail "the .deb has no unit"
[[ $(dpkg-deb -I "$deb" conffiles) == *"/etc/lambdaflow/lambdaflow.toml"* ]] || fail "the config is not a conffile"

step "apt-get install $(basename "$deb")"
installed=1
apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 "$deb" >"$work/apt.log" 2>&1 ||
  { cat "$work/apt.log" >&2; fail "apt-get install"; }
getent passwd lambdaflow >/dev/null || fail "no user lambdaflow"
[[ $(stat -c '%U:%G %a' /var/lib/lambdaflow) == "lambdaflow:lambdaflow 750" ]] ||
  fail "/var/lib/lambdaflow is $(stat -c '%U:%G %a' /var/lib/lambdaflow)"
[[ $(stat -c '%U:%G %a' /etc/lambdaflow/lambdaflow.toml) == "root:lambdaflow 640" ]] ||
  fail "/etc/lambdaflow/lambdaflow.toml is $(stat -c '%U:%G %a' /etc/lambdaflow/lambdaflow.toml)"
if command -v systemctl >/dev/null; then
  [[ -L /etc/systemd/system/multi-user.target.wants/lambdaflow.service ]] || fail "the unit is not enabled"
fi
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify /lib/systemd/system/lambdaflow.service || fail "systemd-analyze verify lambdaflow.service"
fi
version=$(/usr/bin/lambdaflow --version)
[[ $version =~ ^lambdaflow\ [0-9]+\.[0-9]+\.[0-9]+\ \((commit\ [0-9a-f]+(-dirty)?|built\ outside) ]] ||
  fail "lambdaflow --version: '$version'"
step "postinst again (idempotent)"
/var/lib/dpkg/info/lambdaflow.postinst configure || fail "postinst configure a second time"

# ---- the server, as the service runs it (README "Install": without systemd)
step "runuser -u lambdaflow -- lambdaflow run --config /etc/lambdaflow/lambdaflow.toml"
(cd /var/lib/lambdaflow && exec runuser -u lambdaflow -- /usr/bin/lambdaflow run \
   --config /etc/lambdaflow/lambdaflow.toml --listen 127.0.0.1:0) >"$work/run.out" 2>"$work/run.err" &
server=$!
url=
for _ in $(seq 100); do
  url=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$work/run.out")
  [[ -n $url ]] && break
  kill -0 "$server" 2>/dev/null || { cat "$work/run.err" >&2; fail "the server exited"; }
  sleep 0.1
done
[[ -n $url ]] || { cat "$work/run.err" >&2; fail "the server did not say where it listens"; }
[[ $(curl -fsS "$url/healthz") == *'"ok"'* ]] || fail "/healthz"
/usr/bin/lambdaflow produce --quiet --to "$url" --count 1000 2>"$work/produce.err" ||
  { cat "$work/produce.err" >&2; fail "produce --to"; }
n=
for _ in $(seq 100); do
  n=$(/usr/bin/lambdaflow query --server "$url" --format tsv "SELECT SUM(orders) AS n FROM revenue_by_product" \
      2>/dev/null | sed -n 2p)
  [[ $n == 1000 ]] && break
  sleep 0.1
done
[[ $n == 1000 ]] || fail "the query counts '$n' orders, not 1000"
[[ -f /var/lib/lambdaflow/FORMAT && $(stat -c %U /var/lib/lambdaflow/FORMAT) == lambdaflow ]] ||
  fail "the data directory is not /var/lib/lambdaflow, written by lambdaflow"
# runuser passes SIGTERM on to the server, and ends as killed by it.
kill -TERM "$server"
wait "$server" || true
server=
grep -q 'stopped cleanly' "$work/run.err" || { cat "$work/run.err" >&2; fail "the server did not stop cleanly on SIGTERM"; }

# ---- purge
step "apt-get purge lambdaflow"
dpkg-deb -e "$deb" "$work/control"
apt-get purge -y -q -o DPkg::Lock::Timeout=300 lambdaflow >"$work/apt.log" 2>&1 ||
  { cat "$work/apt.log" >&2; fail "apt-get purge"; }
installed=0
for p in /usr/bin/lambdaflow /etc/lambdaflow /var/lib/lambdaflow /lib/systemd/system/lambdaflow.service \
         /etc/systemd/system/multi-user.target.wants/lambdaflow.service; do
  [[ ! -e $p ]] || fail "$p is still there after purge"
done
! getent passwd lambdaflow >/dev/null || fail "user lambdaflow is still there after purge"
! getent group lambdaflow >/dev/null || fail "group lambdaflow is still there after purge"
"$work/control/postrm" purge || fail "postrm purge a second time"
step "ok"
