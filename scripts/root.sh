#!/usr/bin/env bash
# scripts/root.sh: make, enter and clean Debian roots (a fresh machine in a folder), for CI
# and the PostgreSQL version matrix.  Runs as root; needs mmdebstrap (installed if missing),
# unshare and chroot.
#
#   scripts/root.sh base NAME SUITE [mmdebstrap options, e.g. --include=git,sudo]
#       Make the base root NAME of Debian SUITE (bookworm, trixie, sid, ...) once, with
#       mmdebstrap --variant=apt, and print its path.  Kept in $SST2_ROOTS/base/NAME and reused
#       while it is complete and was made with the same SUITE and options; otherwise rebuilt
#       (into a temporary folder, renamed when done; the log is $SST2_ROOTS/base/NAME.log).
#       The root trusts the CA certificates this machine trusts and uses its apt proxy and
#       Check-Valid-Until / Check-Date settings.  Its apt lists are not kept: like any fresh
#       machine it needs `apt-get update` before `apt-get install`.
#   scripts/root.sh new NAME COPY
#       A fresh working copy COPY of the base root NAME (any old COPY is removed first);
#       prints its path.  COPY is a name (kept in $SST2_ROOTS/copy/COPY) or an absolute path.
#   scripts/root.sh run COPY [--env K=V]... [--bind HOSTPATH[:ROOTPATH]]... [--] CMD [ARG...]
#       Run CMD as root inside COPY, in /root, with a clean environment (PATH, HOME, LANG,
#       TERM; CI, TZ, OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE and the CA-bundle variables when set
#       here; plus each --env) and this machine's /etc/resolv.conf.  /proc, /sys, a minimal
#       /dev (null zero full random urandom tty, devpts, a tmpfs /dev/shm) and the --bind
#       folders are mounted in a mount and PID namespace of its own: when CMD ends, fails or
#       this command is killed, every process left inside is killed and nothing stays mounted.
#       Exits with CMD's status.
#   scripts/root.sh clean COPY
#       Remove the working copy COPY.
#   scripts/root.sh path NAME|COPY
#       Print where the base NAME (or else the copy COPY) is.
#
# Environment: SST2_ROOTS (default: $SST2_WORK/roots, SST2_WORK defaulting to /tmp/sst2-work);
# SST2_DEBIAN_MIRROR (default http://deb.debian.org/debian) and SST2_SECURITY_MIRROR
# (default http://deb.debian.org/debian-security).
set -euo pipefail

SST2_ROOTS=${SST2_ROOTS:-${SST2_WORK:-/tmp/sst2-work}/roots}
MIRROR=${SST2_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY=${SST2_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
MARK=.sst2-root

say() { printf 'root.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2; }

# The folder of a copy: a name under $SST2_ROOTS/copy, or an absolute path.
copy_dir() {
	case $1 in
	/*) printf '%s\n' "$1" ;;
	*/* | . | .. | '') die "copy name '$1': use a plain name or an absolute path" ;;
	*) printf '%s\n' "$SST2_ROOTS/copy/$1" ;;
	esac
}

base_dir() {
	case $1 in */* | . | .. | '') die "base name '$1': use a plain name" ;; esac
	printf '%s\n' "$SST2_ROOTS/base/$1"
}

need_root() { [ "$(id -u)" = 0 ] || die "$1 needs root (run it with sudo)"; }

# Install mmdebstrap from Debian when this machine lacks it.
ensure_mmdebstrap() {
	command -v mmdebstrap >/dev/null 2>&1 && return 0
	say "installing mmdebstrap (apt-get install mmdebstrap)"
	apt-get update -qq >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >/dev/null </dev/null ||
		die "could not install mmdebstrap: install it with apt-get install mmdebstrap"
}

# apt settings of this machine that a root needs to reach the same archive the same way.
host_aptopts() {
	apt-config dump 2>/dev/null | grep -E '^Acquire::(http|https|ftp)::Proxy |^Acquire::Check-(Valid-Until|Date) ' |
		sed -E 's/^([^ ]+) (.*);$/\1 \2;/' || true
}

# The root trusts what this machine trusts: its local CA certificates join the root's bundle.
trust_host_cas() { # DIR
	local dir=$1
	if [ -d /usr/local/share/ca-certificates ]; then
		mkdir -p "$dir/usr/local/share/ca-certificates"
		cp -a /usr/local/share/ca-certificates/. "$dir/usr/local/share/ca-certificates/"
	fi
	if [ -x "$dir/usr/sbin/update-ca-certificates" ]; then
		chroot "$dir" /usr/sbin/update-ca-certificates >/dev/null 2>&1 || die "update-ca-certificates failed in $dir"
	fi
	# a root without the ca-certificates package still gets this machine's bundle
	if [ ! -s "$dir/etc/ssl/certs/ca-certificates.crt" ] && [ -s /etc/ssl/certs/ca-certificates.crt ]; then
		mkdir -p "$dir/etc/ssl/certs"
		cp /etc/ssl/certs/ca-certificates.crt "$dir/etc/ssl/certs/"
	fi
}

cmd_base() {
	[ $# -ge 2 ] || usage
	need_root base
	local name=$1 suite=$2; shift 2
	local dir; dir=$(base_dir "$name")
	local want="suite=$suite mirror=$MIRROR options=$*"
	mkdir -p "$SST2_ROOTS/base"
	exec 9>"$SST2_ROOTS/base/.$name.lock"
	flock 9
	if [ -f "$dir/$MARK" ] && [ "$(head -n 1 "$dir/$MARK")" = "$want" ]; then
		printf '%s\n' "$dir"; return 0
	fi
	ensure_mmdebstrap
	local mirrors=("deb $MIRROR $suite main")
	case $suite in
	sid | unstable | experimental | rc-buggy) ;;
	*) mirrors+=("deb $MIRROR $suite-updates main" "deb $SECURITY $suite-security main") ;;
	esac
	local aptopts=() opt
	while IFS= read -r opt; do [ -n "$opt" ] && aptopts+=("--aptopt=$opt"); done < <(host_aptopts)
	local tmp="$dir.tmp.$$" log="$dir.log" t0=$SECONDS
	rm -rf "$dir".tmp.*
	say "making the $suite root $name (mmdebstrap $*; log: $log)"
	if ! mmdebstrap --variant=apt --mode=root "${aptopts[@]}" "$@" "$suite" "$tmp" "${mirrors[@]}" \
		</dev/null >"$log" 2>&1; then
		tail -n 30 "$log" >&2
		rm -rf "$tmp"
		die "mmdebstrap failed (log: $log)"
	fi
	trust_host_cas "$tmp"
	printf '%s\nmade %s\n' "$want" "$(date -u +%FT%TZ)" >"$tmp/$MARK"
	rm -rf "$dir"
	mv "$tmp" "$dir"
	say "root $name ready in $((SECONDS - t0)) s: $dir"
	printf '%s\n' "$dir"
}

cmd_new() {
	[ $# = 2 ] || usage
	need_root new
	local base copy
	base=$(base_dir "$1"); copy=$(copy_dir "$2")
	[ -f "$base/$MARK" ] || die "no base root '$1' (make it with: scripts/root.sh base $1 SUITE)"
	[ -f "$copy/$MARK" ] || [ ! -e "$copy" ] || [ -z "$(ls -A "$copy")" ] ||
		die "$copy exists and is not a root: not removing it"
	rm -rf "$copy"
	mkdir -p "$(dirname "$copy")"
	cp -a --reflink=auto "$base" "$copy.tmp.$$"
	mv "$copy.tmp.$$" "$copy"
	printf '%s\n' "$copy"
}

cmd_clean() {
	[ $# = 1 ] || usage
	need_root clean
	local copy; copy=$(copy_dir "$1")
	[ -e "$copy" ] || return 0
	[ -f "$copy/$MARK" ] || die "$copy is not a root made by root.sh: not removing it"
	# nothing stays mounted after `run`, but never follow a mount out of the copy
	if grep -q " $copy/" /proc/self/mounts; then die "something is still mounted under $copy"; fi
	rm -rf --one-file-system "$copy"
}

cmd_path() {
	[ $# = 1 ] || usage
	local b c; b=$(base_dir "$1"); c=$(copy_dir "$1")
	if [ -f "$b/$MARK" ]; then printf '%s\n' "$b"
	elif [ -f "$c/$MARK" ]; then printf '%s\n' "$c"
	else die "no root named $1"; fi
}

# Inside the new namespaces (PID 1 there): mount, then become CMD in the chroot.
# Args: COPY NBINDS [HOST ROOTPATH]... NENV [K=V]... -- CMD...
inner() {
	local c=$1 n=$2 i; shift 2
	mount --make-rprivate /
	mount -t proc -o nosuid,nodev,noexec proc "$c/proc"
	mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$c/sys" 2>/dev/null || mount --rbind -o ro /sys "$c/sys"
	mount -t tmpfs -o mode=755,nosuid tmpfs "$c/dev"
	for d in null zero full random urandom tty; do
		touch "$c/dev/$d"; mount --bind "/dev/$d" "$c/dev/$d"
	done
	mkdir -p "$c/dev/pts" "$c/dev/shm"
	mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$c/dev/pts" 2>/dev/null || true
	ln -s pts/ptmx "$c/dev/ptmx"
	mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$c/dev/shm"
	ln -s /proc/self/fd "$c/dev/fd"
	ln -s /proc/self/fd/0 "$c/dev/stdin"; ln -s /proc/self/fd/1 "$c/dev/stdout"; ln -s /proc/self/fd/2 "$c/dev/stderr"
	[ -L "$c/etc/resolv.conf" ] && rm -f "$c/etc/resolv.conf"
	touch "$c/etc/resolv.conf"
	[ -f /etc/resolv.conf ] && mount --bind -o ro /etc/resolv.conf "$c/etc/resolv.conf"
	for ((i = 0; i < n; i++)); do
		local src=$1 dst=$c$2; shift 2
		if [ -d "$src" ]; then mkdir -p "$dst"; else mkdir -p "$(dirname "$dst")"; touch "$dst"; fi
		mount --rbind "$src" "$dst"
	done
	n=$1; shift
	local envs=()
	for ((i = 0; i < n; i++)); do envs+=("$1"); shift; done
	shift # --
	exec chroot "$c" /usr/bin/env -i "${envs[@]}" /bin/sh -c 'cd "$HOME" 2>/dev/null || cd /; exec "$@"' sh "$@"
}

cmd_run() {
	[ $# -ge 2 ] || usage
	need_root run
	local copy; copy=$(copy_dir "$1"); shift
	[ -f "$copy/$MARK" ] || die "no root at $copy (make one with: scripts/root.sh new BASE COPY)"
	local binds=() envs=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
		LANG=C.UTF-8 TERM="${TERM:-dumb}") v
	for v in CI TZ OPENBLAS_CORETYPE OPENBLAS_L2_SIZE SSL_CERT_FILE SSL_CERT_DIR CURL_CA_BUNDLE \
		NODE_EXTRA_CA_CERTS GIT_SSL_CAINFO REQUESTS_CA_BUNDLE; do
		[ -n "${!v:-}" ] && envs+=("$v=${!v}")
	done
	while [ $# -gt 0 ]; do
		case $1 in
		--env) [ $# -ge 2 ] || usage; envs+=("$2"); shift 2 ;;
		--env=*) envs+=("${1#--env=}"); shift ;;
		--bind) [ $# -ge 2 ] || usage; binds+=("$2"); shift 2 ;;
		--bind=*) binds+=("${1#--bind=}"); shift ;;
		--) shift; break ;;
		*) break ;;
		esac
	done
	[ $# -ge 1 ] || usage
	local bargs=() b
	for b in "${binds[@]}"; do
		local src=${b%%:*} dst=${b#*:}
		[ "$src" = "$b" ] && dst=$src
		[ -e "$src" ] || die "--bind $b: $src does not exist"
		case $dst in /*) ;; *) die "--bind $b: the path in the root must be absolute" ;; esac
		bargs+=("$(realpath "$src")" "$dst")
	done
	local self; self=$(realpath "$0")
	# unshare ignores SIGTERM and SIGINT while its child runs, and PID 1 of the namespace
	# ignores them too: on a signal, kill unshare, whose --kill-child takes the rest along.
	exec 3<&0
	unshare --mount --pid --fork --kill-child=SIGKILL --propagation private -- \
		bash "$self" __inner "$copy" "${#binds[@]}" "${bargs[@]}" "${#envs[@]}" "${envs[@]}" -- "$@" <&3 3<&- &
	RUN_PID=$!
	exec 3<&-
	trap 'kill -KILL $RUN_PID 2>/dev/null; say "killed"; exit 130' INT
	trap 'kill -KILL $RUN_PID 2>/dev/null; say "killed"; exit 143' TERM
	trap 'kill -KILL $RUN_PID 2>/dev/null; exit 129' HUP
	local rc=0
	wait "$RUN_PID" || rc=$?
	return "$rc"
}

[ $# -ge 1 ] || usage
sub=$1; shift
case $sub in
base) cmd_base "$@" ;;
new) cmd_new "$@" ;;
run) cmd_run "$@" ;;
clean) cmd_clean "$@" ;;
path) cmd_path "$@" ;;
__inner) inner "$@" ;;
-h | --help | help) usage ;;
*) usage ;;
esac
