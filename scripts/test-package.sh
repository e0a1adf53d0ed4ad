#!/usr/bin/env bash
# Tests what scripts/package.sh makes as a new user gets it: the .deb unpacked into a fresh folder
# with `dpkg-deb -x` (no dpkg database, no container) and the tarball unpacked into another, each
# run with `env -i PATH=/usr/bin:/bin` and the Swift toolchain's folder hidden under an empty
# tmpfs (a private mount namespace: `unshare -m`, root only; elsewhere only `env -i`, said so).
#
#   scripts/test-package.sh              # build the static binary, package, test (CI runs this)
#   scripts/test-package.sh --no-build   # package the binary already in .build-static, test
#
# Checks: the .deb's fields (version = `cicada --version`, architecture = dpkg's, Depends: names a
# package for every library the binary needs); the binary needs only libc/libm, libcurl,
# libncursesw/libtinfo, libstdc++/libgcc and libz (the shard artifact's HdrHistogram encoding),
# and ldd resolves none of them into the toolchain;
# `cicada --version` and `--help`; the completions and man page; every example scenario
# validates from its installed place (the prompts file travelled with it); a 2 s run of the
# installed quickstart scenario against the embedded engine exits 0 and writes a JSON report.
# Ends with one line 'test-package: N passed, N failed'; exits 1 if any check failed.
set -euo pipefail
cd "$(dirname "$0")/.."
PACKAGE_ARGS=()
[ "${1:-}" = "--no-build" ] && PACKAGE_ARGS=(--no-build)

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
PASSED=0
FAILED=0
ok()   { PASSED=$((PASSED + 1)); echo "ok   $1"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $1"; [ -z "${2:-}" ] || sed 's/^/     /' <<<"$2"; }
check() { # check NAME COMMAND...: passes when the command exits 0
  local name="$1"; shift
  local out
  if out="$("$@" 2>&1)"; then ok "$name"; else fail "$name" "$out"; fi
}

# The toolchain: two folders above the real `swift` (/opt/swift/usr here); its parent folder is
# the one hidden, unless the toolchain is installed into the system's own /usr.
SWIFT="$(readlink -f "$(command -v swift)")"
TOOLCHAIN="$(dirname "$(dirname "$SWIFT")")"       # e.g. /opt/swift/usr
HIDE="$(dirname "$TOOLCHAIN")"                     # e.g. /opt/swift
case "$HIDE" in /|/usr|/usr/local) HIDE="" ;; esac

# 1. Package.
scripts/package.sh --out "$WORK/out" "${PACKAGE_ARGS[@]}" > "$WORK/package.out"
DEB="$(grep '\.deb$' "$WORK/package.out")"
TARBALL="$(grep '\.tar\.xz$' "$WORK/package.out")"
echo "test-package: $(basename "$DEB") $(stat -c %s "$DEB") bytes, $(basename "$TARBALL") $(stat -c %s "$TARBALL") bytes"

# A command with nothing of the toolchain reachable: empty environment, PATH without it, and
# (as root) the toolchain's folder covered by an empty tmpfs in a private mount namespace.
HIDDEN=0
if [ -n "$HIDE" ] && [ "$(id -u)" = 0 ] && unshare -m sh -c "mount -t tmpfs none '$HIDE' && ! ls '$SWIFT'" >/dev/null 2>&1; then
  HIDDEN=1
fi
isolated() {
  if [ "$HIDDEN" = 1 ]; then
    unshare -m sh -c 'hide="$1"; home="$2"; shift 2; mount -t tmpfs none "$hide" && exec env -i PATH=/usr/bin:/bin HOME="$home" LANG=C.UTF-8 "$@"' \
      sh "$HIDE" "$WORK/home" "$@"
  else
    env -i PATH=/usr/bin:/bin HOME="$WORK/home" LANG=C.UTF-8 "$@"
  fi
}
mkdir -p "$WORK/home"
if [ "$HIDDEN" = 1 ]; then
  ok "toolchain folder $HIDE hidden (empty tmpfs, private mount namespace)"
else
  echo "note: not root, no mount namespace or a toolchain in /usr: ${HIDE:-$TOOLCHAIN} stays visible; env -i and ldd are the checks"
fi

# 2. The .deb's fields.
VERSION_FIELD="$(dpkg-deb -f "$DEB" Version)"
ARCH_FIELD="$(dpkg-deb -f "$DEB" Architecture)"
DEPENDS="$(dpkg-deb -f "$DEB" Depends)"
check "Architecture: $ARCH_FIELD is dpkg's" test "$ARCH_FIELD" = "$(dpkg --print-architecture)"

# 3. Unpack into a fresh root, as dpkg would lay it out (no maintainer scripts in this package).
ROOTFS="$WORK/root"
dpkg-deb -x "$DEB" "$ROOTFS"
BIN="$ROOTFS/usr/bin/cicada"
for f in usr/bin/cicada usr/share/man/man1/cicada.1.gz usr/share/bash-completion/completions/cicada \
         usr/share/zsh/vendor-completions/_cicada usr/share/fish/vendor_completions.d/cicada.fish \
         usr/share/cicada/scenarios/quickstart.yaml usr/share/cicada/scenarios/prompts/sample-prompts.txt \
         usr/share/cicada/models/cicada-tiny/tokenizer.json usr/share/cicada/models/cicada-tiny/tokenizer_config.json; do
  if [ -s "$ROOTFS/$f" ]; then ok "package holds /$f"; else fail "package holds /$f"; fi
done
check "no file in the package is owned by anyone but root" sh -c "dpkg-deb -c '$DEB' | awk '\$2 != \"root/root\" {print; bad=1} END {exit bad}'"

# 4. What the binary needs, and where ldd finds it.
NEEDED="$(objdump -p "$BIN" | awk '/NEEDED/ {print $2}' | sort)"
echo "test-package: NEEDED: $(echo $NEEDED)"
ALLOWED='^(libc\.so\.6|libm\.so\.6|ld-linux-[-a-z0-9_]+\.so\.[0-9]+|libcurl\.so\.4|libncursesw\.so\.6|libtinfo\.so\.6|libstdc\+\+\.so\.6|libgcc_s\.so\.1|libz\.so\.1)$'
check "needs only libc, libm, libcurl, libncursesw, libtinfo, libstdc++, libgcc_s, libz" sh -c "! grep -Ev '$ALLOWED' <<'EOF'
$NEEDED
EOF"
LDD="$(env -i PATH=/usr/bin:/bin ldd "$BIN")"
check "ldd resolves every library" sh -c "! grep -q 'not found' <<'EOF'
$LDD
EOF"
check "ldd resolves nothing into the toolchain ($TOOLCHAIN/lib) and no Swift runtime library" sh -c "! grep -E '$TOOLCHAIN/lib/|libswift|libFoundation|lib_Foundation|libdispatch|libBlocksRuntime' <<'EOF'
$LDD
EOF"
check "no RPATH or RUNPATH (libraries come from the system's search path only)" sh -c "! readelf -d '$BIN' | grep -E 'RPATH|RUNPATH'"
# Depends: a package for each library, as Debian names it.
for lib in $NEEDED; do
  # ldd: "libc.so.6 => /lib/.../libc.so.6 (0x...)", or "/lib64/ld-linux-x86-64.so.2 (0x...)".
  path="$(awk -v l="$lib" '$1 == l {print $3} index($1, "/") == 1 && substr($1, length($1) - length(l) + 1) == l {print $1}' <<<"$LDD" | head -1)"
  pkg=""
  for p in "$path" "$(readlink -f "$path")"; do  # dpkg knows the path a package ships (merged /usr)
    [ -n "$pkg" ] || pkg="$(dpkg -S "$p" 2>/dev/null | head -1 | cut -d: -f1 || true)"
  done
  named=0  # Depends: "libc6 (>= 2.35), libstdc++6 (>= 12), ...": the first word of each entry
  while read -r dep _; do [ -n "$pkg" ] && [ "$dep" = "$pkg" ] && named=1; done < <(tr ',' '\n' <<<"$DEPENDS")
  if [ "$named" = 1 ]; then ok "Depends: names $pkg for $lib"
  else fail "Depends: names the package of $lib ($path, package '${pkg:-?}')" "Depends: $DEPENDS"; fi
done
if apt-get install -s "$DEB" > "$WORK/apt.out" 2>&1 && grep -q '^Inst cicada' "$WORK/apt.out"; then
  ok "apt-get resolves the .deb's Depends: (simulated install)"
else
  fail "apt-get resolves the .deb's Depends: (simulated install)" "$(tail -5 "$WORK/apt.out")"
fi

# 5. Run it with nothing of the toolchain reachable.
if [ "$HIDDEN" = 1 ]; then
  check "the toolchain's swift is not reachable in the isolated environment" isolated sh -c "! command -v swift && ! test -e '$SWIFT'"
fi
VERSION_OUT="$(isolated "$BIN" --version 2>&1 || true)"
check "cicada --version prints the .deb's Version ($VERSION_FIELD)" test "$VERSION_OUT" = "$VERSION_FIELD"
check "cicada --help" isolated "$BIN" --help
check "bash completion parses" bash -n "$ROOTFS/usr/share/bash-completion/completions/cicada"
check "bash completion completes subcommands" bash -c "source '$ROOTFS/usr/share/bash-completion/completions/cicada' 2>/dev/null; COMP_WORDS=(cicada ru); COMP_CWORD=1; COMP_LINE='cicada ru'; COMP_POINT=9; _cicada 2>/dev/null; [[ \" \${COMPREPLY[*]} \" == *' run '* ]]"
if command -v groff >/dev/null; then
  check "man page renders without warnings" sh -c "out=\$(zcat '$ROOTFS/usr/share/man/man1/cicada.1.gz' | groff -mandoc -Tutf8 -ww 2>&1 >/dev/null); [ -z \"\$out\" ] || { echo \"\$out\"; exit 1; }"
fi
check "every installed example scenario validates (prompts file beside it)" isolated "$BIN" validate "$ROOTFS"/usr/share/cicada/scenarios/*.yaml
mkdir -p "$WORK/run"
set +e
(cd "$WORK/run" && isolated "$BIN" run "$ROOTFS/usr/share/cicada/scenarios/quickstart.yaml" --headless --quiet -t 2s --json run.json) > "$WORK/run/out.txt" 2>&1
RC=$?
set -e
if [ "$RC" = 0 ]; then ok "2 s run of the installed quickstart scenario (embedded engine) exits 0"
else fail "2 s run of the installed quickstart scenario (embedded engine) exits 0 (got $RC)" "$(tail -20 "$WORK/run/out.txt")"; fi
check "the run wrote a JSON report with requests and no failures" python3 -c "
import json, sys
r = json.load(open('$WORK/run/run.json'))
assert r['schema'] == 'cicada.report/v1', r['schema']
t = r['totals']
assert t['requests'] > 0 and t['failures'] == 0, t
print(t['requests'], 'requests')"

# 6. The tarball: same tree, run from wherever it is unpacked.
mkdir -p "$WORK/tar"
tar -C "$WORK/tar" -xf "$TARBALL"
TBIN="$(echo "$WORK"/tar/cicada-*/bin/cicada)"
TVERSION="$(isolated "$TBIN" --version 2>&1 || true)"
check "tarball's bin/cicada --version, isolated" test "$TVERSION" = "$VERSION_FIELD"
check "tarball's binary is the .deb's binary" cmp "$TBIN" "$BIN"
check "tarball holds the scenarios" test -s "$(dirname "$TBIN")/../share/cicada/scenarios/quickstart.yaml"

echo "test-package: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
