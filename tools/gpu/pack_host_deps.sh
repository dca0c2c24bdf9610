#!/usr/bin/env bash
# Run HERE (the Debian build machine), not on the GPU machine: packs the pcre2 and utf8proc
# headers and static libraries, with pkg-config files relative to their own folder, into
# DEST (default .carry/hostdeps), so the GPU machine (which lacks libpcre2-dev/libutf8proc-dev
# and has no network) can build the tokenizer and everything above it. run_engine_gpu.sh puts
# DEST/lib/pkgconfig first on PKG_CONFIG_PATH. Static libs: nothing to install there.
# sentencepiece, curl and zlib dev files exist on the GPU machine (DESIGN.md §4), so they are
# not packed. Usage: tools/gpu/pack_host_deps.sh [DEST]
set -euo pipefail
cd "$(dirname "$0")/../.."
DEST=${1:-.carry/hostdeps}
LIBDIR=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
SRC=/usr/lib/$LIBDIR
for f in /usr/include/pcre2.h /usr/include/utf8proc.h "$SRC/libpcre2-8.a" "$SRC/libutf8proc.a"; do
  [ -f "$f" ] || { echo "missing $f (apt-get install libpcre2-dev libutf8proc-dev)" >&2; exit 1; }
done
rm -rf "$DEST"
mkdir -p "$DEST/include" "$DEST/lib/pkgconfig"
cp /usr/include/pcre2.h /usr/include/utf8proc.h "$DEST/include/"
cp "$SRC/libpcre2-8.a" "$SRC/libutf8proc.a" "$DEST/lib/"
pc() {  # pc NAME VERSION LIB EXTRA_CFLAGS
  cat >"$DEST/lib/pkgconfig/$1.pc" <<PC
prefix=\${pcfiledir}/../..
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: $1
Description: $1 (static, packed by tools/gpu/pack_host_deps.sh)
Version: $2
Libs: -L\${libdir} -l$3
Cflags: -I\${includedir} $4
PC
}
pc libpcre2-8 "$(pkg-config --modversion libpcre2-8)" pcre2-8 ""
pc libutf8proc "$(pkg-config --modversion libutf8proc)" utf8proc "-DUTF8PROC_STATIC"
du -sh "$DEST"
find "$DEST" -type f | sort
