# strait: one flat Makefile (see STYLE: passt, redis).
#
#   make                 build/strait-proxy
#   make WERROR=1        warnings are errors (CI)
#   make SAN=address,undefined   sanitizer build in build/san/
#   make SANDBOX=0       no Landlock, no seccomp filter (build/nosandbox/):
#                        for valgrind; SAN=... implies it
#   make LINK=dynamic    strait-proxy loads glibc and libevent at start
#                        (default: a static PIE; see LINK below)
#   make test            install deps, build, unit + black-box tests
#   make demo            the built-in demo in throw-away namespaces
#   make install PREFIX=/usr/local DESTDIR=
#   make deb             a Debian package in $(O)/deb/ (debhelper)

VERSION := 0.1.0
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
MANDIR  ?= $(PREFIX)/share/man
DOCDIR  ?= $(PREFIX)/share/doc/strait
UNITDIR ?= $(PREFIX)/lib/systemd/system
UNITS   := $(wildcard systemd/*.service systemd/*.socket)
CC      ?= cc
PKG_CONFIG ?= pkg-config

# The sandbox (Landlock, seccomp) is a build-time choice, never a run-time
# one that a parent process could make: sanitizers and valgrind need files
# and syscalls of their own at any moment, so their builds leave it out.
# Only the command line turns it off (a SANDBOX in the environment does not).
ifneq ($(origin SANDBOX),command line)
SANDBOX := 1
endif
ifdef SAN
override SANDBOX := 0
endif

ifdef SAN
O ?= build/san
else ifeq ($(SANDBOX),0)
O ?= build/nosandbox
else
O ?= build
endif

WARN := -Wall -Wextra -Wpedantic -Wformat=2 -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wvla -Wcast-align -Wpointer-arith -Wwrite-strings \
	-Wundef -Wnull-dereference -Wimplicit-fallthrough -Wdouble-promotion \
	-Wold-style-definition -Wmissing-declarations
ifeq ($(WERROR),1)
WARN += -Werror
endif

HARDEN := -fstack-protector-strong -fPIE
ifeq ($(shell $(CC) -O2 -dM -E -x c /dev/null 2>/dev/null | grep -c _FORTIFY_SOURCE),0)
ifndef SAN
HARDEN += -D_FORTIFY_SOURCE=2
endif
endif

ifdef SAN
OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=$(SAN) -fno-sanitize-recover=all
LDSAN := -fsanitize=$(SAN)
else
OPT := -O2 -g
LDSAN :=
endif

# libseccomp is for the build only (and the unit tests): seccomp_gen
# builds the filter, the proxy loads the finished program without it.
# A SANDBOX=0 build needs none of it.
PKGS      := libevent_core
NS_PKGS   := libnftables
ifeq ($(SANDBOX),0)
SECCOMP_PKGS :=
else
SECCOMP_PKGS := libseccomp
endif
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) $(SECCOMP_PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
# LINK=static (the default of the sandboxed build): strait-proxy is a
# static PIE, glibc and libevent_core linked in (libc6-dev and libevent-dev
# have the archives). dockerd starts one proxy per published port and
# address family, in series, and waits for each: with nothing for ld.so to
# load and relocate, each start is ~0.8 ms shorter on a VM where a page
# fault costs ~12 us, and 400 proxies take a third less PSS (README,
# "Publishing many ports"). LINK=dynamic loads both at each start. The
# sanitizer and SANDBOX=0 (valgrind) builds link dynamically: both replace
# malloc, which a static binary does not let them do. Only the command line
# sets LINK, as SANDBOX. strait-netsetup is always dynamic (libnftables).
# The static link makes ld warn that libevent's evutil.o refers to
# getaddrinfo, getservbyname and getprotobynumber, which a static glibc
# would load the name service for: strait never calls them (it resolves
# no names, and reads /etc/passwd itself), and tests/test_build.sh fails
# if any object of the proxy refers to one.
ifneq ($(origin LINK),command line)
LINK := $(if $(SAN),dynamic,$(if $(filter 0,$(SANDBOX)),dynamic,static))
endif
ifeq ($(LINK),static)
ifdef SAN
$(error LINK=static: a sanitizer build links dynamically (say LINK=dynamic))
endif
PROXY_LINK := -static-pie
PROXY_LIBS := $(shell $(PKG_CONFIG) --static --libs $(PKGS) 2>/dev/null)
else ifeq ($(LINK),dynamic)
PROXY_LINK := -pie
PROXY_LIBS := $(PKG_LIBS)
else
$(error LINK=$(LINK): say LINK=static or LINK=dynamic)
endif
SECCOMP_LIBS := $(if $(SECCOMP_PKGS),$(shell $(PKG_CONFIG) --libs \
	$(SECCOMP_PKGS) 2>/dev/null))
NS_LIBS    := $(shell $(PKG_CONFIG) --libs $(NS_PKGS) 2>/dev/null)
CMOCKA_CFLAGS := $(shell $(PKG_CONFIG) --cflags cmocka 2>/dev/null)
CMOCKA_LIBS   := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

# A missing library stops the build here, at once, naming it and its
# Debian package (pkg-config's own message is hidden above, and the build
# would end in a link error). Goals that compile nothing, or that install
# the packages first, skip the check.
NOCHECK_GOALS := clean deps deb test test-docker bench bench-quick demo \
	format fuzz uninstall
PKG_DEB := libevent_core:libevent-dev \
	libseccomp:libseccomp-dev libnftables:libnftables-dev cmocka:libcmocka-dev
pkg_missing = $(shell command -v $(PKG_CONFIG) >/dev/null 2>&1 || \
	{ echo pkg-config; exit 0; }; \
	for m in $(1); do $(PKG_CONFIG) --exists $$m || echo $$m; done)
pkg_name = $(if $(filter pkg-config,$(1)),pkg-config (Debian package \
	pkg-config),pkg-config module $(1) (Debian package $(patsubst \
	$(1):%,%,$(filter $(1):%,$(PKG_DEB)))))
pkg_list = $(subst $(space)$(comma),$(comma),$(call pkg_name,$(firstword \
	$(1)))$(foreach m,$(wordlist 2,$(words $(1)),$(1)),$(comma) $(call \
	pkg_name,$(m))))
pkg_error = $(error missing build dependency: $(call pkg_list,$(1)): run \
	scripts/install-deps.sh $(2) (as root))
comma := ,
space := $(subst ,, )
ifneq ($(filter-out $(NOCHECK_GOALS),$(or $(MAKECMDGOALS),all)),)
PKG_MISSING := $(call pkg_missing,$(sort $(PKGS) $(NS_PKGS) $(SECCOMP_PKGS)))
ifneq ($(PKG_MISSING),)
$(call pkg_error,$(PKG_MISSING),build)
endif
ifneq ($(filter unit-bins $(O)/tests/%,$(MAKECMDGOALS)),)
PKG_MISSING := $(call pkg_missing,cmocka)
ifneq ($(PKG_MISSING),)
$(call pkg_error,$(PKG_MISSING),test)
endif
endif
endif

ifeq ($(SANDBOX),0)
SANDBOX_CFLAGS := -DSTRAIT_NO_SANDBOX
else
SANDBOX_CFLAGS := -I$(O)
endif

ALL_CFLAGS := -std=c11 -D_GNU_SOURCE -DSTRAIT_VERSION='"$(VERSION)"' \
	$(SANDBOX_CFLAGS) \
	-Icommon -Iproxy -Inetsetup $(WARN) $(HARDEN) $(OPT) $(PKG_CFLAGS) -MMD -MP \
	$(CPPFLAGS) $(CFLAGS)
LD_HARDEN := -Wl,-z,relro,-z,now -Wl,--as-needed
ALL_LDFLAGS := -pie $(LD_HARDEN) $(LDSAN) $(LDFLAGS)
PROXY_LDFLAGS := $(PROXY_LINK) $(LD_HARDEN) $(LDSAN) $(LDFLAGS)

# Every object depends on the flags it was built with: `make` then `make
# WERROR=1` (or another CC, CFLAGS, SAN, SANDBOX in the same O) rebuilds.
# $(O)/.flags is rewritten only when they changed (git's GIT-CFLAGS), so
# an unchanged build stays up to date, and `make -n` / `make -q` say true.
sq = $(subst ','\'',$(1))
BUILD_FLAGS := $(strip $(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $(PKG_LIBS) $(NS_LIBS) \
	$(SECCOMP_LIBS) $(PROXY_LDFLAGS) $(PROXY_LIBS))
ifneq ($(BUILD_FLAGS),$(strip $(file <$(O)/.flags)))
FLAGS_FORCE := FORCE
endif

COMMON_SRC := common/log.c common/addr.c common/priv.c common/listener.c
PROXY_SRC  := proxy/cfg.c proxy/cfg_env.c proxy/cfg_usage.c \
	proxy/cfg_duration.c proxy/ready.c proxy/tcp_relay.c proxy/tcp_dir.c \
	proxy/slab.c proxy/udp_flow.c proxy/udp_server.c proxy/udp_pace.c \
	proxy/udp_reply.c proxy/udp_gso.c proxy/tcp_server.c proxy/proxyhdr.c \
	proxy/isolation.c proxy/transparent.c proxy/stats.c proxy/stats_show.c \
	proxy/systemd.c
PROXY_MAIN := proxy/main.c
NS_SRC     := netsetup/args.c netsetup/args_exec.c netsetup/args_usage.c \
	netsetup/valid.c netsetup/rules.c netsetup/sysctl.c netsetup/nft.c \
	netsetup/ipt.c netsetup/netexec.c netsetup/state.c netsetup/setup.c \
	netsetup/setup_iface.c netsetup/setup_plan.c netsetup/verdict.c \
	netsetup/hostfw.c netsetup/status.c netsetup/watch.c \
	netsetup/tproute.c netsetup/peers.c
NS_MAIN    := netsetup/main.c

COMMON_OBJ := $(COMMON_SRC:%.c=$(O)/%.o)
PROXY_OBJ  := $(PROXY_SRC:%.c=$(O)/%.o)
NS_OBJ     := $(NS_SRC:%.c=$(O)/%.o)

UNIT_TESTS := test_cfg test_addr test_ready test_tcp_relay test_log \
	test_udp_flow test_valid test_rules test_args test_sysctl test_proxyhdr \
	test_isolation test_priv test_udp_server test_transparent test_state \
	test_hostfw test_watch test_stats test_systemd test_seccomp_rules \
	test_udp_gso
UNIT_BINS  := $(UNIT_TESTS:%=$(O)/tests/%)

.PHONY: FORCE deb all clean install install-strip man-check uninstall test test-docker demo deps unit-bins \
	format bench bench-quick bench-ports bench-tools fuzz fuzz-bins

all: $(O)/strait-proxy $(O)/strait-netsetup

# Fuzz harnesses: replayed over tests/fuzz/corpus by make test (gcc, with
# the sanitizer build); `make fuzz` runs them under libFuzzer with clang,
# the inputs it finds going to build/fuzz/new-NAME, not into the corpus.
FUZZ_BINS := $(O)/fuzz_cfg $(O)/fuzz_addr
fuzz-bins: $(FUZZ_BINS)

$(O)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(PROXY_OBJ) $(NS_OBJ) \
		$(COMMON_OBJ) $(O)/.flags
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(filter %.c %.o,$^) \
		$(PKG_LIBS) $(NS_LIBS)

FUZZ_SECS ?= 60
fuzz:
	@command -v clang >/dev/null || { echo "make fuzz needs clang"; exit 1; }
	@mkdir -p build/fuzz
	for h in cfg addr; do \
		clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
		-Icommon -Iproxy -Inetsetup -o build/fuzz/$$h tests/fuzz/fuzz_$$h.c \
		common/addr.c common/log.c netsetup/valid.c proxy/cfg.c \
		proxy/cfg_env.c proxy/cfg_usage.c proxy/cfg_duration.c && \
		mkdir -p build/fuzz/new-$$h && \
		build/fuzz/$$h -max_total_time=$(FUZZ_SECS) build/fuzz/new-$$h \
		tests/fuzz/corpus/$$h || exit 1; done

# the floor as a C program is built by default (dynamic glibc); where the
# proxy is a static PIE, the same program linked so too, for make bench
# and bench-ports (a sanitizer build cannot link statically)
BENCH_TOOLS := $(O)/loadgen $(O)/echod $(O)/floor \
	$(if $(filter static,$(LINK)),$(O)/floor-static)
bench-tools: $(BENCH_TOOLS)

$(O)/floor: $(O)/bench/floor.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^

$(O)/floor-static: $(O)/bench/floor.o
	$(CC) -static-pie $(LD_HARDEN) $(LDFLAGS) -o $@ $^

$(O)/loadgen: $(O)/bench/loadgen.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lpthread

$(O)/echod: $(O)/bench/echod.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^

$(O)/.flags: $(FLAGS_FORCE)
	@mkdir -p $(dir $@)
	@[ ! -e $@ ] || echo "build flags changed: rebuilding $(O)"
	@printf '%s\n' '$(call sq,$(BUILD_FLAGS))' >$@

$(O)/%.o: %.c $(O)/.flags
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(O)/strait-proxy: $(O)/$(PROXY_MAIN:.c=.o) $(PROXY_OBJ) $(COMMON_OBJ) \
		$(O)/.flags
	$(CC) $(PROXY_LDFLAGS) -o $@ $(filter %.o,$^) $(PROXY_LIBS)

# The seccomp filter is built here, once, not by every proxy at its start:
# seccomp_gen (with libseccomp) writes the BPF program as a C header that
# isolation.c includes and loads with seccomp(2). Changed rules, generator
# or libseccomp flags rebuild the generator, hence the header, hence the
# proxy. The generator runs on the build machine and emits the build
# machine's architecture: the proxy is built natively (as dpkg-buildpackage
# does); cross-compiling is not supported.
ifneq ($(SANDBOX),0)
SECCOMP_GEN_OBJ := $(O)/proxy/seccomp_gen.o $(O)/proxy/seccomp_rules.o

$(O)/seccomp_gen: $(SECCOMP_GEN_OBJ) $(O)/.flags
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(SECCOMP_LIBS)

$(O)/seccomp_bpf.h: $(O)/seccomp_gen
	$(O)/seccomp_gen >$@.tmp && mv $@.tmp $@ || { rm -f $@.tmp; exit 1; }

$(O)/proxy/isolation.o: $(O)/seccomp_bpf.h

# built again with libseccomp for its own pid: the same bytes as loaded
$(O)/tests/test_seccomp_rules: $(O)/proxy/seccomp_rules.o
endif

$(O)/strait-netsetup: $(O)/$(NS_MAIN:.c=.o) $(NS_OBJ) $(COMMON_OBJ) \
		$(O)/.flags
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(NS_LIBS)

# the relay test makes our own allocations fail on demand
$(O)/tests/test_tcp_relay: TEST_LDFLAGS := -Wl,--wrap=malloc,--wrap=event_add
# the UDP server test makes its own event registrations fail, and the
# kernel refuse joined datagrams, on demand
$(O)/tests/test_udp_server: TEST_LDFLAGS := -Wl,--wrap=event_add,--wrap=sendmmsg
# the privilege test makes capget(2) fail, or the parent die, on demand
$(O)/tests/test_priv: TEST_LDFLAGS := -Wl,--wrap=capget,--wrap=setresuid

$(O)/tests/%: tests/unit/%.c $(PROXY_OBJ) $(NS_OBJ) $(COMMON_OBJ) $(O)/.flags
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CMOCKA_CFLAGS) $(ALL_LDFLAGS) $(TEST_LDFLAGS) -o $@ \
		$(filter %.c %.o,$^) \
		$(PKG_LIBS) $(NS_LIBS) $(SECCOMP_LIBS) $(CMOCKA_LIBS)

unit-bins: $(UNIT_BINS)

# Everything `make test` needs comes from Debian's packages; the script
# installs only what is missing, so a second run asks apt nothing.
deps:
	sh scripts/install-deps.sh test

# The plain build (sandbox on) runs the black-box suite and the bench
# smoke pass; the sanitizer build and a SANDBOX=0 build (under valgrind)
# run it with the sandbox built out, and say so.
test: deps
	$(MAKE) WERROR=1 all unit-bins bench-tools
	$(MAKE) WERROR=1 SAN=address,undefined all fuzz-bins
	$(MAKE) WERROR=1 SANDBOX=0 O=build/nosandbox all
	sh scripts/run-tests.sh

# dockerd 20.10 from Debian, in a namespace, publishing through PROXY
# (default: ours; PROXY=/usr/sbin/docker-proxy shows the test describes
# Docker, not strait)
PROXY ?= $(O)/strait-proxy
test-docker:
	sh scripts/install-deps.sh docker
	$(MAKE) WERROR=1 all
	python3 tests/docker/e2e.py $(abspath $(PROXY)) \
		--netsetup $(abspath $(O)/strait-netsetup)

# strait and its peers side by side; never part of make test's pass/fail
# (make test only runs a seconds-long smoke pass to prove it still works)
# (strait-no-sandbox, a SANDBOX=0 build linked as the default one is,
# shows what the sandbox costs)
bench:
	sh scripts/install-deps.sh bench
	$(MAKE) all bench-tools
	$(MAKE) SANDBOX=0 LINK=static O=$(O)/nosandbox-static all
	python3 bench/bench.py --build $(O) --nosandbox $(O)/nosandbox-static

# 200 published ports under the real dockerd (--iptables=false, in a
# namespace): docker run / rm -f wall time, the proxies' PSS, exec-to-ready,
# strait vs docker-proxy vs a C floor that only binds and says ready
bench-ports:
	sh scripts/install-deps.sh docker
	$(MAKE) all bench-tools
	$(MAKE) SANDBOX=0 LINK=static O=$(O)/nosandbox-static all
	$(MAKE) LINK=dynamic O=$(O)/dynamic all
	python3 bench/ports.py --build $(O) --nosandbox $(O)/nosandbox-static \
		--dynamic $(O)/dynamic --floor $(O)/floor \
		--floor-static $(O)/floor-static

bench-quick:
	sh scripts/install-deps.sh bench
	$(MAKE) all bench-tools
	$(MAKE) SANDBOX=0 LINK=static O=$(O)/nosandbox-static all
	python3 bench/bench.py --quick --build $(O) --nosandbox \
		$(O)/nosandbox-static

demo:
	sh scripts/install-deps.sh demo
	$(MAKE) all
	sh scripts/demo.sh $(O)

# strait-proxy in bin (dockerd runs it by path), strait-netsetup in sbin
# (root only), the man pages, the licence; install-strip strips the binaries
INSTALL_STRIP ?=
install: $(O)/strait-proxy $(O)/strait-netsetup
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(DOCDIR)
	install -m 0755 $(INSTALL_STRIP) $(O)/strait-proxy \
		$(DESTDIR)$(BINDIR)/strait-proxy
	install -m 0755 $(INSTALL_STRIP) $(O)/strait-netsetup \
		$(DESTDIR)$(SBINDIR)/strait-netsetup
	install -m 0644 man/strait-proxy.1 $(DESTDIR)$(MANDIR)/man1/strait-proxy.1
	install -m 0644 man/strait-netsetup.8 \
		$(DESTDIR)$(MANDIR)/man8/strait-netsetup.8
	install -m 0644 LICENSE README.md $(DESTDIR)$(DOCDIR)/
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(DOCDIR)/examples
	for u in $(UNITS); do \
		sed -e 's|/usr/local/bin/|$(BINDIR)/|g' \
		    -e 's|/usr/local/sbin/|$(SBINDIR)/|g' $$u \
		    >$(DESTDIR)$(UNITDIR)/$${u#systemd/} || exit 1; done
	install -m 0644 etc/strait/*.example $(DESTDIR)$(DOCDIR)/examples/

install-strip:
	$(MAKE) install INSTALL_STRIP=-s

# A Debian package (debian/: debhelper, dh_installsystemd enabling and
# starting no unit), built by dpkg-buildpackage -b from a copy of the tree
# in $(DEB_O), since it writes the .deb beside the source: the products
# land in $(DEB_O), never beside the repository nor in its tree. The
# package build has Debian's flags and layout, not this make's.
DEB_O ?= $(O)/deb
DEB_UNSET := MAKEFLAGS MFLAGS MAKELEVEL O SAN SANDBOX LINK WERROR CFLAGS \
	CPPFLAGS LDFLAGS PREFIX DESTDIR BINDIR SBINDIR MANDIR DOCDIR UNITDIR \
	INSTALL_STRIP
# O and DEB_O, if in the tree, stay out of the copy (the copy would hold itself)
DEB_EXCLUDE = $(foreach d,$(O) $(DEB_O),--exclude=./$(patsubst \
	$(CURDIR)/%,%,$(abspath $(d))))
deb:
	sh scripts/install-deps.sh deb
	@v=$$(dpkg-parsechangelog -l debian/changelog -S Version) && \
	[ "$$v" = "$(VERSION)" ] || { echo "make deb: debian/changelog is at" \
	"$$v, the Makefile at $(VERSION): add an entry (dch -v $(VERSION))" >&2; \
	exit 1; }
	rm -rf $(DEB_O)/strait-$(VERSION) $(DEB_O)/strait_$(VERSION)_* \
		$(DEB_O)/strait-dbgsym_$(VERSION)_*
	mkdir -p $(DEB_O)/strait-$(VERSION)
	tar -cf - --exclude=./.git --exclude=./build $(DEB_EXCLUDE) \
		--exclude=__pycache__ . | \
		tar -xf - -C $(DEB_O)/strait-$(VERSION)
	cd $(DEB_O)/strait-$(VERSION) && \
		env $(DEB_UNSET:%=-u %) dpkg-buildpackage -b -us -uc
	@echo "make deb: $$(ls $(DEB_O)/strait_$(VERSION)_*.deb)"

# the man pages lint clean and name every flag and variable of the code
man-check: all
	sh tests/test_man.sh $(O)/strait-proxy $(O)/strait-netsetup

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/strait-proxy $(DESTDIR)$(SBINDIR)/strait-netsetup \
		$(DESTDIR)$(MANDIR)/man1/strait-proxy.1 \
		$(DESTDIR)$(MANDIR)/man8/strait-netsetup.8 \
		$(DESTDIR)$(DOCDIR)/LICENSE $(DESTDIR)$(DOCDIR)/README.md \
		$(UNITS:systemd/%=$(DESTDIR)$(UNITDIR)/%) \
		$(addprefix $(DESTDIR)$(DOCDIR)/examples/,$(notdir $(wildcard etc/strait/*.example)))
	rmdir $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) 2>/dev/null || true

format:
	clang-format -i common/*.[ch] proxy/*.[ch] netsetup/*.[ch] tests/unit/*.c \
		tests/fuzz/*.c bench/*.c

clean:
	rm -rf build

-include $(shell find $(O) -name '*.d' 2>/dev/null)
