#!/usr/bin/env bats
# tests/0900-man.bats: every tool (bin/*.c, and the front door
# ec2-runner-pool) has a man page (man/<tool>.1)
# that lints clean and agrees with the tool's --help: the SYNOPSIS names the
# same options, metavariables and literal words as the usage lines, in the
# same order, and EXIT STATUS lists every code of "Exit status:".
# No cloud is needed; helpers isolates the endpoints all the same.
load helpers
bats_require_minimum_version 1.5.0

MAN_DIR="$REPO_ROOT/man"

# every tool, from the sources, so that a new tool is covered at once; and
# the front door
tools() {
	local c
	for c in "$REPO_ROOT"/bin/*.c; do
		basename "$c" .c
	done
	echo ec2-runner-pool
}

# the command of a tool
cmd() {
	case $1 in
	ec2-runner-pool) printf '%s/%s' "$REPO_ROOT" "$1" ;;
	*) printf '%s/bin/%s' "$REPO_ROOT" "$1" ;;
	esac
}

# the usage lines of --help: from "usage:" to the first empty line
usage_lines() {
	"$(cmd "$1")" --help | awk '/^usage:/ { u = 1 } u && /^$/ { exit } u'
}

# the "Exit status:" paragraph of --help
help_exit() {
	"$(cmd "$1")" --help |
		awk '/^Exit status:/ { e = 1 } e && /^$/ { exit } e'
}

# man page section $2 of page $1, rendered as plain text
man_section() {
	mandoc -Tascii "$1" | sed 's/.\x08//g' |
		awk -v s="$2" '$0 == s { on = 1; next }
			on && /^[A-Z][A-Z ]*$/ { exit } on'
}

# the words of a synopsis, one a line, in order: options (-x, --xyz),
# metavariables (UPPER) and literal words (get, spot, on-demand); the
# "usage:" prefix and the brackets, bars, dots and redirections dropped
synopsis_words() {
	sed 's/^usage://' | tr -s '][|<>().=:, \t' '\n\n\n\n\n\n\n\n\n\n\n' |
		grep -E '^(--?[A-Za-z][A-Za-z0-9-]*|[A-Za-z][A-Za-z0-9_-]*)$' || true
}

# the exit codes of a text: the shared ones only
codes_in() {
	tr -cs '0-9A-Za-z' '\n' | grep -xE '0|1|100|111' | sort -un || true
}

# the codes a page's EXIT STATUS lists as tags of its list
page_codes() {
	man_section "$1" 'EXIT STATUS' |
		sed -nE 's/^     (0|1|100|111)( .*)?$/\1/p' | sort -un
}

# what two word lists disagree on: "only in --help: ..., only in page: ..."
word_diff() {
	local a b
	a=$(printf '%s\n' "$1" | sort -u | comm -23 - <(printf '%s\n' "$2" | sort -u) | tr '\n' ' ')
	b=$(printf '%s\n' "$2" | sort -u | comm -13 <(printf '%s\n' "$1" | sort -u) - | tr '\n' ' ')
	printf 'only in --help: [%s] only in the page: [%s]' "${a% }" "${b% }"
}

@test "man: every tool has a man page" {
	local t fails=""
	for t in $(tools); do
		[ -f "$MAN_DIR/$t.1" ] || fails+="$t: no man page man/$t.1"$'\n'
	done
	[ -f "$MAN_DIR/ec2-runner-pool.7" ] ||
		fails+="ec2-runner-pool: no overview page man/ec2-runner-pool.7"$'\n'
	if [ -n "$fails" ]; then
		printf '%s' "$fails"
		false
	fi
}

@test "man: every page is mandoc -Tlint clean" {
	local p out bad fails=""
	for p in "$MAN_DIR"/*.[1-9]; do
		[ -f "$p" ] || continue
		out=$(mandoc -Tlint "$p" 2>&1) || true
		# not the page's fault: the system's stale mandoc.db, and our own
		# pages that are not installed yet (the page must exist in man/)
		bad=$(printf '%s\n' "$out" | while IFS= read -r l; do
			case $l in
			'' | *'outdated mandoc.db'*) continue ;;
			*'referenced manual not found: Xr '*)
				set -- ${l##*Xr }
				[ -f "$MAN_DIR/$1.$2" ] && continue ;;
			esac
			printf '%s\n' "$l"
		done)
		[ -z "$bad" ] || fails+="$(basename "$p"): mandoc -Tlint:"$'\n'"$bad"$'\n'
	done
	if [ -n "$fails" ]; then
		printf '%s' "$fails"
		false
	fi
}

@test "man: --help exits 0, prints usage on stdout and nothing on stderr" {
	local t fails=""
	for t in $(tools); do
		run --separate-stderr "$(cmd "$t")" --help
		if [ "$status" -ne 0 ]; then
			fails+="$t: --help exited $status, not 0"$'\n'
		elif [ "${lines[0]:-}" = "${lines[0]#"usage: $t"}" ]; then
			fails+="$t: --help stdout does not start with 'usage: $t'"$'\n'
		elif [ -n "$stderr" ]; then
			fails+="$t: --help wrote to stderr: $stderr"$'\n'
		fi
	done
	if [ -n "$fails" ]; then
		printf '%s' "$fails"
		false
	fi
}

@test "man: SYNOPSIS has the options and metavariables of --help, in order" {
	local t page help syn fails=""
	for t in $(tools); do
		page="$MAN_DIR/$t.1"
		[ -f "$page" ] || { fails+="$t: no man page"$'\n'; continue; }
		help=$(usage_lines "$t" | synopsis_words)
		syn=$(man_section "$page" SYNOPSIS | synopsis_words)
		[ -n "$help" ] || { fails+="$t: --help has no usage lines"$'\n'; continue; }
		[ -n "$syn" ] || { fails+="$t: the page has no SYNOPSIS"$'\n'; continue; }
		if [ "$(printf '%s\n' "$help" | grep -E '^-' | sort -u)" != \
		    "$(printf '%s\n' "$syn" | grep -E '^-' | sort -u)" ]; then
			fails+="$t: SYNOPSIS options differ from --help: $(word_diff \
			    "$(printf '%s\n' "$help" | grep -E '^-')" \
			    "$(printf '%s\n' "$syn" | grep -E '^-')")"$'\n'
		elif [ "$(printf '%s\n' "$help" | sort -u)" != \
		    "$(printf '%s\n' "$syn" | sort -u)" ]; then
			fails+="$t: SYNOPSIS metavariables or words differ from --help: $(word_diff "$help" "$syn")"$'\n'
		elif [ "$help" != "$syn" ]; then
			fails+="$t: SYNOPSIS order differs from --help: help: $(echo $help) page: $(echo $syn)"$'\n'
		fi
	done
	if [ -n "$fails" ]; then
		printf '%s' "$fails"
		false
	fi
}

@test "man: EXIT STATUS lists every exit code of --help" {
	local t page want got missing fails=""
	for t in $(tools); do
		page="$MAN_DIR/$t.1"
		[ -f "$page" ] || { fails+="$t: no man page"$'\n'; continue; }
		want=$(help_exit "$t" | codes_in)
		got=$(page_codes "$page")
		[ -n "$want" ] || { fails+="$t: --help has no 'Exit status:' codes"$'\n'; continue; }
		# each code --help lists is a tag of the page's list (a page may
		# also list a code as "not used")
		missing=$(comm -23 <(printf '%s\n' "$want") <(printf '%s\n' "$got"))
		[ -z "$missing" ] ||
			fails+="$t: EXIT STATUS lacks code(s) [$(echo $missing)] that --help lists (--help: [$(echo $want)], page: [$(echo $got)])"$'\n'
	done
	if [ -n "$fails" ]; then
		printf '%s' "$fails"
		false
	fi
}
