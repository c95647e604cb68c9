#!/bin/bash
# Backup with .pxarexclude files and --exclude: the restored tree holds exactly what the patterns keep,
# the .pxarexclude files themselves are archived, and --exclude patterns are recorded in .pxarexclude-cli.
. "$(dirname "$0")/lib.sh"

tapir datastore create exstore "$T/ds" >/dev/null
s=$T/src
mkdir -p "$s/build" "$s/src/build" "$s/src/gen/deep" "$s/logs" "$s/cache/x"
for f in a.txt a.o build/out.bin src/main.c src/main.o src/keep.o src/build/obj src/gen/x.c src/gen/deep/y.c \
	logs/1.log logs/important.log cache/x/blob top.tmp src/b.tmp; do
	echo "$f" >"$s/$f"
done
mkdir "$s/src/build2"; echo f >"$s/src/build2/file"
echo dir-named-like-a-file >"$s/src/notdir"
# root: *.o anywhere, /build anchored at the root (dirs only), logs except important.log
printf '# root patterns\n*.o\n/build/\nlogs/*.log\n!logs/important.log\n' >"$s/.pxarexclude"
# src: re-include keep.o, drop gen/ (anchored here), notdir/ only matches directories
printf '!keep.o\n/gen\nnotdir/\n' >"$s/src/.pxarexclude"
echo 'must be skipped: tapir writes its own' >"$s/.pxarexclude-cli"

tapir backup --store exstore --type host --id ex --time 2026-01-01T00:00:00Z \
	--exclude '*.tmp' --exclude '/cache/' root.pxar:"$s" >/dev/null
tapir restore --store exstore host/ex/2026-01-01T00:00:00Z root.pxar "$T/r"
(cd "$T/r" && find . -mindepth 1 | sort) >"$T/got"
cat >"$T/want" <<'LIST'
./.pxarexclude
./.pxarexclude-cli
./a.txt
./logs
./logs/important.log
./src
./src/.pxarexclude
./src/build
./src/build/obj
./src/build2
./src/build2/file
./src/keep.o
./src/main.c
./src/notdir
LIST
diff "$T/want" "$T/got" || fail "restored tree differs from what the patterns keep"
cmp "$s/.pxarexclude" "$T/r/.pxarexclude" || fail ".pxarexclude not archived as is"
[ "$(cat "$T/r/.pxarexclude-cli")" = "$(printf '*.tmp\n/cache/')" ] || fail ".pxarexclude-cli: $(cat "$T/r/.pxarexclude-cli")"
[ "$(stat -c '%a %u %g %Y' "$T/r/.pxarexclude-cli")" = "600 0 0 0" ] || fail ".pxarexclude-cli metadata: $(stat -c '%a %u %g %Y' "$T/r/.pxarexclude-cli")"
# the catalog lists the same entries, .pxarexclude-cli last in the root
tapir catalog dump --store exstore host/ex/2026-01-01T00:00:00Z >"$T/cat"
grep -q 'src/main.c' "$T/cat" || fail "catalog: $(cat "$T/cat")"
! grep -E 'main\.o|/deep|\.tmp|/1\.log|/cache|a\.o|out\.bin' "$T/cat" || fail "catalog lists excluded entries"
last_root=$(grep -E '/root.pxar.didx/[^/]+( |$)' "$T/cat" | tail -n 1)
case $last_root in *.pxarexclude-cli*) ;; *) fail "last root entry in the catalog: $last_root ($(cat "$T/cat"))" ;; esac
tapir verify --store exstore >/dev/null

# without --exclude there is no .pxarexclude-cli, and the per-directory files still apply
tapir backup --store exstore --type host --id ex2 --time 2026-01-01T00:00:00Z root.pxar:"$s" >/dev/null
tapir restore --store exstore host/ex2/2026-01-01T00:00:00Z root.pxar "$T/r2"
[ ! -e "$T/r2/.pxarexclude-cli" ] || fail ".pxarexclude-cli without CLI patterns"
[ -e "$T/r2/top.tmp" ] && [ -e "$T/r2/cache/x/blob" ] && [ ! -e "$T/r2/a.o" ] || fail "second backup: $(cd "$T/r2" && find . | sort)"
expect_fail "exclude pattern 'a\[b': unclosed '\['" tapir backup --store exstore --type host --id ex3 --exclude 'a[b' root.pxar:"$s"
echo ok
