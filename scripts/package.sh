#!/usr/bin/env bash
# Builds the release binary with the Swift runtime linked in (--static-swift-stdlib) and packages
# it as one .deb and one tarball that need no Swift toolchain, only Debian's libcurl and ncurses.
#
#   scripts/package.sh                 # build, then write out/package/cicada_VERSION_ARCH.deb
#                                      # and out/package/cicada-VERSION-linux-ARCH.tar.xz
#   scripts/package.sh --out DIR       # write them into DIR instead
#   scripts/package.sh --no-build      # package the binary already in .build-static
#
# Both hold the same tree: bin/cicada (stripped), bash/zsh/fish completions from the argument
# parser, a man page (swift-argument-parser's generate-manual tool, from the same command
# definitions as --help), the example scenarios with their prompts file, and the README.
# The .deb installs it under /usr (scenarios in /usr/share/cicada/scenarios); its Depends: comes
# from dpkg-shlibdeps over the binary, so it names exactly the packages whose libraries the
# binary loads (Debian 12: libc6, libcurl4, libncursesw6, libtinfo6, zlib1g, libstdc++6, libgcc-s1).
# Needs: the Swift toolchain, libcurl4-openssl-dev, libncurses-dev, zlib1g-dev, dpkg-dev (dpkg-shlibdeps),
# binutils (strip), gzip. The build folder .build-static is separate from the debug .build.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
OUT="$ROOT/out/package"
BUILD=1
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="$(mkdir -p "$2" && cd "$2" && pwd)"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "package.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
mkdir -p "$OUT"
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
SCRATCH="$ROOT/.build-static"
# --disable-local-rpath: no RUNPATH $ORIGIN, so /usr/bin/cicada never looks for libraries in /usr/bin.
SWIFT_FLAGS=(-c release --static-swift-stdlib --disable-local-rpath --scratch-path "$SCRATCH")

# 1. The binary.
if [ "$BUILD" = 1 ]; then
  echo "package.sh: swift build ${SWIFT_FLAGS[*]} --product cicada" >&2
  swift build "${SWIFT_FLAGS[@]}" --product cicada >&2
fi
BIN="$(swift build "${SWIFT_FLAGS[@]}" --show-bin-path)/cicada"
[ -x "$BIN" ] || { echo "package.sh: no binary at $BIN (run without --no-build)" >&2; exit 1; }
VERSION="$("$BIN" --version)"
ARCH="$(dpkg --print-architecture)"
echo "package.sh: cicada $VERSION for $ARCH" >&2

# 2. The man page: swift-argument-parser's generate-manual tool (the tool its GenerateManual
#    plugin runs) reads `cicada --experimental-dump-help` and writes mdoc. The plugin itself is not
#    used: it rebuilds every product in release mode without --static-swift-stdlib (`swift package`
#    has no such flag), which here recompiled the package (~10 min) and relinked cicada against
#    the toolchain's shared runtime. Built alone, in debug, the tool takes well under a minute.
swift build --scratch-path "$SCRATCH" --product generate-manual >&2
MANDATE="$(git log -1 --format=%cs 2>/dev/null || date -u +%F)"
MANDIR="$STAGE/man"
mkdir -p "$MANDIR"
"$SCRATCH/debug/generate-manual" "$BIN" --date "$MANDATE" --output-directory "$MANDIR" >&2
[ -s "$MANDIR/cicada.1" ] || { echo "package.sh: generate-manual wrote no cicada.1" >&2; exit 1; }

# 3. The tree, laid out once under usr/ for the .deb and reused for the tarball.
PKG="$STAGE/deb"
U="$PKG/usr"
install -d "$U/bin" "$U/share/man/man1" "$U/share/cicada/scenarios/prompts" "$U/share/cicada/models/cicada-tiny" "$U/share/doc/cicada" \
  "$U/share/bash-completion/completions" "$U/share/zsh/vendor-completions" "$U/share/fish/vendor_completions.d"
install -m 0755 "$BIN" "$U/bin/cicada"
strip --strip-unneeded "$U/bin/cicada"
"$U/bin/cicada" --generate-completion-script bash > "$U/share/bash-completion/completions/cicada"
"$U/bin/cicada" --generate-completion-script zsh > "$U/share/zsh/vendor-completions/_cicada"
"$U/bin/cicada" --generate-completion-script fish > "$U/share/fish/vendor_completions.d/cicada.fish"
gzip -9n < "$MANDIR/cicada.1" > "$U/share/man/man1/cicada.1.gz"
install -m 0644 scenarios/*.yaml "$U/share/cicada/scenarios/"
install -m 0644 scenarios/prompts/* "$U/share/cicada/scenarios/prompts/"
# The engine's tokenizer as a Hugging Face folder, for clients (AIPerf --tokenizer); the binary has its own copy.
install -m 0644 models/cicada-tiny/*.json "$U/share/cicada/models/cicada-tiny/"
install -m 0644 README.md "$U/share/doc/cicada/README.md"
gzip -9n < "$ROOT/docs/SCENARIOS.md" > "$U/share/doc/cicada/SCENARIOS.md.gz"
chmod -R u=rwX,go=rX "$U"

# 4. The .deb. Depends: from the libraries the binary really links (dpkg-shlibdeps reads its
#    NEEDED entries and the symbols files of the packages that provide them).
mkdir -p "$STAGE/shlibs/debian"
printf 'Source: cicada\n\nPackage: cicada\nArchitecture: any\n' > "$STAGE/shlibs/debian/control"
DEPENDS="$(cd "$STAGE/shlibs" && dpkg-shlibdeps -O "$U/bin/cicada" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')"
[ -n "$DEPENDS" ] || { echo "package.sh: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
INSTALLED_KB="$(du -sk "$U" | cut -f1)"
install -d "$PKG/DEBIAN"
cat > "$PKG/DEBIAN/control" <<EOF
Package: cicada
Version: $VERSION
Architecture: $ARCH
Maintainer: Cicada maintainers <maintainers@users.noreply.r-seed-ac3f2c63.example>
Installed-Size: $INSTALLED_KB
Depends: $DEPENDS
Section: net
Priority: optional
Description: load tester for LLM and model-inference servers
 Locust-style YAML scenarios, an open (arrival-rate) model without coordinated
 omission, exact HdrHistogram percentiles, k6-style thresholds with CI exit codes,
 Locust-compatible reports, a live ncurses dashboard, and an embedded inference
 engine (dynamic batching, result cache, a modelled GPU) for runs with no server.
 The Swift runtime is linked in: no Swift toolchain is needed.
 Example scenarios are in /usr/share/cicada/scenarios.
EOF
DEB="$OUT/cicada_${VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group -Zxz --build "$PKG" "$DEB" >&2

# 5. The tarball: the same tree with usr/ as cicada-VERSION-linux-ARCH/ (bin/, share/), owned by root.
NAME="cicada-$VERSION-linux-$ARCH"
mv "$U" "$STAGE/$NAME"
TGZ="$OUT/$NAME.tar.xz"
tar -C "$STAGE" --owner=0 --group=0 --numeric-owner --sort=name -cJf "$TGZ" "$NAME"

echo "$DEB"
echo "$TGZ"
