#!/bin/sh
# SPDX-License-Identifier: MIT
# test_man.sh - the man pages are lint-clean and do not fall behind the code
#
#   tests/test_man.sh [STRAIT_PROXY [STRAIT_NETSETUP]]
#
# (defaults: build/strait-proxy, build/strait-netsetup). Checks:
#   - mandoc -Tlint and groff -ww -man -z (ps and utf8 devices) say
#     nothing about any of man/*.1 and man/*.8;
#   - every flag `strait-proxy -h` prints is documented in
#     man/strait-proxy.1, and every flag its OPTIONS section documents
#     exists; the same for strait-netsetup, whose commands (from its
#     --help) must each be an item of the page's COMMANDS and whose
#     options are those every `strait-netsetup VERB --help` lists, plus
#     --help and -v/--version;
#   - each page's .TH names the version its program prints;
#   - every STRAIT_* variable the code reads (a "STRAIT_..." string in
#     proxy/, netsetup/, common/: proxy/cfg.h, proxy/isolation.h,
#     netsetup/main.c today) is in the page of its program, and every
#     STRAIT_* a page names is in the code.
# Prints one line, "man: N passed, N failed", on stdout (what failed, on
# stderr) and exits non-zero on any failure.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
proxy=${1:-$top/build/strait-proxy}
netsetup=${2:-$top/build/strait-netsetup}
ppage=$top/man/strait-proxy.1
npage=$top/man/strait-netsetup.8
passed=0
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { passed=$((passed + 1)); }
fail() { # $1 = test, $2... = why
	t=$1
	shift
	echo "man: FAIL $t: $*" >&2
	failed=$((failed + 1))
}

# The page's text with roff escapes for dashes, fonts and breaks removed,
# so "\-host\-ip" reads "-host-ip"
plain() {
	sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\&//g' -e 's/\\c//g' "$1"
}

# Flags ("-x" or "--x") in text on stdin, one a line, sorted
flags_in() {
	grep -oE '(^|[][ ,|])--?[a-z][a-z0-9-]*' | sed -E 's/^[][ ,|]//' |
		sort -u
}

# The tag lines of a section's .TP items: $1 = page, $2 = section
tags() {
	plain "$1" | awk -v sec=".SH $2" '
		$0 == sec { on = 1; next }
		/^\.SH / { on = 0 }
		on && tag { print; tag = 0; next }
		on && /^\.TP/ { tag = 1 }'
}

# Flags the tags of a section's .TP items name: $1 = page, $2 = section
tag_flags() {
	tags "$1" "$2" | flags_in
}

# $1 = test, $2 = page, $3 = file of flags: each on a macro line, alone
flags_documented() {
	missing=""
	while read -r f; do
		plain "$2" | grep -E '^\.' |
			grep -qE "(^|[^A-Za-z0-9-])$f([^A-Za-z0-9-]|\$)" ||
			missing="$missing $f"
	done <"$3"
	if [ -n "$missing" ]; then
		fail "$1" "not in $(basename "$2"):$missing"
	else
		ok
	fi
}

# $1 = test, $2 = page, $3 = file of flags the program knows, $4 = section
flags_exist() {
	extra=$(tag_flags "$2" "$4" | grep -vxF -f "$3" | tr '\n' ' ')
	if [ -n "$extra" ]; then
		fail "$1" "$(basename "$2") documents unknown flags: $extra"
	else
		ok
	fi
}

# --- lint --------------------------------------------------------------
for page in "$top"/man/*.[18]; do
	[ -e "$page" ] || { fail lint "no man pages in $top/man"; break; }
	name=$(basename "$page")
	if ! command -v mandoc >/dev/null 2>&1; then
		fail "mandoc $name" "mandoc not installed (apt-get install mandoc)"
	elif out=$(mandoc -Tlint "$page" 2>&1) && [ -z "$out" ]; then
		ok
	else
		fail "mandoc $name" "$out"
	fi
	if ! command -v groff >/dev/null 2>&1; then
		fail "groff $name" "groff not installed (apt-get install groff-base)"
	elif out=$(groff -ww -man -z "$page" 2>&1 &&
		groff -ww -man -z -Tutf8 "$page" 2>&1) && [ -z "$out" ]; then
		ok
	else
		fail "groff $name" "$out"
	fi
done

# --- strait-proxy: flags -----------------------------------------------
# From the usage block (up to the first blank line) and the option list
# (lines "  -flag ARG   text": only what precedes the description)
if help=$("$proxy" -h 2>&1); then
	printf '%s\n' "$help" | awk '
		NR == 1, /^$/ { print; next }
		/^  -[a-z]/ {
			s = substr($0, 3); i = index(s, "  ")
			print (i ? substr(s, 1, i - 1) : s)
		}' | flags_in >"$tmp/pflags"
	if [ "$(wc -l <"$tmp/pflags")" -lt 10 ]; then
		fail "strait-proxy flags" "only $(wc -l <"$tmp/pflags") flags" \
			"read from $proxy -h"
	else
		flags_documented "strait-proxy -h flags" "$ppage" "$tmp/pflags"
		flags_exist "strait-proxy.1 flags" "$ppage" "$tmp/pflags" OPTIONS
	fi
else
	fail "strait-proxy flags" "$proxy -h failed (build it first): $help"
fi

# --- strait-netsetup: commands and options -----------------------------
# The commands are the top-level help's items ("  up      text"); the
# options are those of every command's own help ("strait-netsetup VERB
# --help": its usage lines and the option lines "  --opt ARG   text",
# only what precedes the description), and the top-level help's own
# (--help, -v, --version). Flags a description mentions in passing (the
# proxy's -use-listen-fd in exec's) are not the program's.
if help=$("$netsetup" --help 2>&1); then
	printf '%s\n' "$help" | sed -nE 's/^  ([a-z]+)  +[^ ].*/\1/p' |
		sort -u >"$tmp/ncmds"
	printf '%s\n' "$help" | grep -v '^  [a-z]' | flags_in >"$tmp/nflags"
	missing=""
	tags "$npage" COMMANDS >"$tmp/ntags"
	while read -r c; do
		grep -qE "^\.BR? $c( |\$)" "$tmp/ntags" || missing="$missing $c"
	done <"$tmp/ncmds"
	if [ "$(wc -l <"$tmp/ncmds")" -lt 6 ]; then
		fail "strait-netsetup commands" "only" \
			"$(wc -l <"$tmp/ncmds") read from $netsetup --help"
	elif [ -n "$missing" ]; then
		fail "strait-netsetup commands" "not in strait-netsetup.8:$missing"
	else
		ok
	fi
	bad=""
	while read -r c; do
		if ! vhelp=$("$netsetup" "$c" --help 2>&1); then
			bad="$bad $c"
			continue
		fi
		printf '%s\n' "$vhelp" | awk '
			/^Usage: / || /^       strait-netsetup / { print; next }
			/^  -/ {
				s = substr($0, 3); i = index(s, "  ")
				if (i) s = substr(s, 1, i - 1)
				i = index(s, ": ")
				print (i ? substr(s, 1, i - 1) : s)
			}' | flags_in >>"$tmp/nflags"
	done <"$tmp/ncmds"
	sort -u -o "$tmp/nflags" "$tmp/nflags"
	if [ -n "$bad" ]; then
		fail "strait-netsetup VERB --help" "failed for:$bad"
	elif [ "$(wc -l <"$tmp/nflags")" -lt 12 ]; then
		fail "strait-netsetup options" "only $(wc -l <"$tmp/nflags")" \
			"flags read from the helps of $netsetup"
	else
		ok
	fi
	flags_documented "strait-netsetup options" "$npage" "$tmp/nflags"
	flags_exist "strait-netsetup.8 options" "$npage" "$tmp/nflags" OPTIONS
else
	fail "strait-netsetup options" "$netsetup --help failed: $help"
fi

# --- the version in each page's .TH is the program's -------------------
# $1 = page, $2 = program's version line ("NAME version X")
version_matches() {
	want=$(printf '%s\n' "$2" | sed -n 's/.* version \([^ ]*\)$/\1/p')
	have=$(sed -n 's/^\.TH .*"strait \([^"]*\)".*/\1/p' "$1")
	if [ -n "$want" ] && [ "$want" = "$have" ]; then
		ok
	else
		fail "version" "$(basename "$1") says \"$have\", the program" \
			"\"$2\""
	fi
}
version_matches "$ppage" "$("$proxy" -version 2>&1)"
version_matches "$npage" "$("$netsetup" --version 2>&1)"

# --- environment variables ----------------------------------------------
# $1 = page, rest = source files whose "STRAIT_..." strings it must name
vars_documented() {
	page=$1
	shift
	cat "$@" | grep -ohE '"STRAIT_[A-Z0-9_]+' | tr -d '"' | sort -u \
		>"$tmp/vars"
	missing=""
	while read -r v; do
		grep -qE "(^|[^A-Z0-9_])$v([^A-Z0-9_]|\$)" "$page" ||
			missing="$missing $v"
	done <"$tmp/vars"
	if [ -n "$missing" ]; then
		fail "variables" "not in $(basename "$page"):$missing"
	else
		ok
	fi
}
vars_documented "$ppage" "$top"/proxy/*.[ch] "$top"/common/*.[ch]
vars_documented "$npage" "$top"/netsetup/*.[ch] "$top"/common/*.[ch]

# and no page names a variable the code does not read
known=$(cat "$top"/proxy/*.[ch] "$top"/netsetup/*.[ch] "$top"/common/*.[ch] |
	grep -ohE '"STRAIT_[A-Z0-9_]+' | tr -d '"' | sort -u)
extra=$(cat "$ppage" "$npage" | grep -oE 'STRAIT_[A-Z0-9_]+' | sort -u |
	grep -vxF "$known" | tr '\n' ' ')
if [ -n "$extra" ]; then
	fail "variables" "documented but not in the code: $extra"
else
	ok
fi

echo "man: $passed passed, $failed failed"
[ "$failed" = 0 ]
