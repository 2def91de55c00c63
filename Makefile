# ec2-runner-pool: make, make check, make demo, make install.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec/ec2-runner-pool
MANPREFIX ?= $(PREFIX)/share/man
DESTDIR ?=

CC ?= cc
CFLAGS ?= -O2 -g
PKGS = libcurl libcrypto libcjson expat
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lcurl -lcrypto -lcjson -lexpat)

WARN = -Wall -Wextra -Werror
ifeq ($(DEVELOPER),1)
WARN += -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
	-Wold-style-definition -Wpointer-arith -Wwrite-strings -Wvla \
	-Wundef -Wcast-align -Wnull-dereference -Wimplicit-fallthrough
endif
ifneq ($(SANITIZE),)
CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZE)
endif
ALL_CFLAGS = -std=c99 -D_DEFAULT_SOURCE $(WARN) $(PKG_CFLAGS) $(CFLAGS)

LIB_SRC = $(wildcard lib/*.c)
LIB_OBJ = $(LIB_SRC:.c=.o)
LIB = lib/libpool.a
TOOLS = $(patsubst %.c,%,$(wildcard bin/*.c))
UNIT = $(patsubst %.c,%,$(wildcard tests/unit/*.c))
MAN1 = $(wildcard man/*.1)
MAN7 = $(wildcard man/*.7)

all: $(TOOLS)

lib/%.o: lib/%.c lib/*.h
	@echo "CC $@"; $(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@rm -f $@; echo "AR $@"
	@ar rcs $@ $(LIB_OBJ)

bin/%: bin/%.c $(LIB) lib/*.h
	@echo "CCLD $@"; $(CC) $(ALL_CFLAGS) -Ilib -o $@ $< $(LIB) $(LDFLAGS) $(PKG_LIBS)

tests/unit/%: tests/unit/%.c tests/unit/unit.h $(LIB) lib/*.h
	@echo "CCLD $@"; $(CC) $(ALL_CFLAGS) -Ilib -o $@ $< $(LIB) $(LDFLAGS) $(PKG_LIBS)

SUITE ?= tests/cloud/aws-sigv4-test-suite

unit: $(UNIT)
	@set -e; for t in $(UNIT); do echo "== $$t"; ./$$t $(SUITE); done

BATS ?= bats
# the slowest files first (end to end, each a minute or more of agents
# booting): run several at a time, the short ones fill in around them
SLOW = tests/0401-pool-lifecycle.bats tests/0411-spot-fallback.bats \
	tests/0402-pool-expiry.bats tests/0404-runner-version.bats \
	tests/0403-pool-race.bats tests/0405-agent-service.bats \
	tests/0406-job-isolation.bats tests/0010-cloud-double.bats
TESTS ?= $(filter $(wildcard tests/*.bats),$(SLOW)) \
	$(filter-out $(SLOW),$(wildcard tests/*.bats))
# bats fails a test still running after this many seconds (bats >= 1.7; it
# stops the test with ps or pkill, from procps), so that no test can hang
# `make check`.  The slowest, 0403's race of 10 provisions, took 58 s on 2
# busy cores, and its own waits give up long before 300 s.  Empty: no limit.
BATS_TEST_TIMEOUT ?= 300
# test files run this many at a time (bats --jobs, which needs GNU
# parallel; the tests of one file stay in order): most of a test's time is
# spent waiting for agents and polls, not on the CPU.  1: one at a time.
BATS_JOBS ?= 4
BATS_PARALLEL = $(if $(filter-out 0 1,$(BATS_JOBS)),$(if $(shell command -v parallel),\
	--jobs $(BATS_JOBS) --no-parallelize-within-files))
check: all unit
	BATS_TEST_TIMEOUT=$(BATS_TEST_TIMEOUT) $(BATS) $(BATS_PARALLEL) $(TESTS)

demo: all
	sh tests/demo.sh

# the model check of the claim protocol at larger bounds than make check's
# (tests/0920-model.bats), one quoted bound each; prints the states explored
MODEL_BOUNDS ?= "--instances 1 --runs 2 --crashes 0 --lag 1" \
	"--instances 2 --runs 1 --crashes 1 --lag 0"
model:
	for b in $(MODEL_BOUNDS); do \
		python3 tests/model/claims.py --protocol withdraw-request $$b || exit 1; \
	done

# libFuzzer targets (tests/fuzz/*.c) over lib/, built with clang, ASan and
# UBSan; each runs FUZZ_TIME seconds from its seed corpus and fails on any
# crash, leak or timeout (the input is kept in tests/fuzz/work/TARGET/).
FUZZ_CC ?= clang
FUZZ_TIME ?= 300
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ = $(patsubst %.c,%,$(wildcard tests/fuzz/*.c))

tests/fuzz/%: tests/fuzz/%.c $(LIB_SRC) lib/*.h
	@echo "FUZZ $@"; $(FUZZ_CC) -std=c99 -D_DEFAULT_SOURCE $(WARN) $(PKG_CFLAGS) \
		$(FUZZ_FLAGS) -Ilib -o $@ $< $(LIB_SRC) $(PKG_LIBS)

fuzz: $(FUZZ)
	@set -e; for f in $(FUZZ); do n=$${f##*/}; w=tests/fuzz/work/$$n; \
		mkdir -p $$w; echo "== $$n, $(FUZZ_TIME) s"; \
		./$$f -max_total_time=$(FUZZ_TIME) -timeout=10 -rss_limit_mb=2048 \
			-artifact_prefix=$$w/ -print_final_stats=1 \
			$$w tests/fuzz/corpus/$$n 2>$$w/log || { tail -n 40 $$w/log; exit 1; }; \
		grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)' $$w/log; \
	done

# the modes run (0755); the rest of libexec/ is read: sourced (common.sh),
# run with sh (inputs) or shipped in user data (agent-sigv4.sh, agent.sh,
# agent-boot.sh)
MODES = libexec/provision libexec/release libexec/refresh libexec/check
LIBEXEC_DATA = $(filter-out $(MODES),$(wildcard libexec/*))

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR) \
		$(DESTDIR)$(MANPREFIX)/man1 $(DESTDIR)$(MANPREFIX)/man7
	install -m 755 $(TOOLS) $(DESTDIR)$(BINDIR)
	sed 's|^installed_libexec=.*|installed_libexec=$(LIBEXECDIR)|' ec2-runner-pool \
		>$(DESTDIR)$(BINDIR)/ec2-runner-pool
	chmod 755 $(DESTDIR)$(BINDIR)/ec2-runner-pool
	install -m 755 $(MODES) $(DESTDIR)$(LIBEXECDIR)
	install -m 644 $(LIBEXEC_DATA) $(DESTDIR)$(LIBEXECDIR)
	install -m 644 $(MAN1) $(DESTDIR)$(MANPREFIX)/man1
	install -m 644 $(MAN7) $(DESTDIR)$(MANPREFIX)/man7

clean:
	rm -f $(LIB) $(LIB_OBJ) $(TOOLS) $(UNIT) $(FUZZ)

.PHONY: all unit check demo fuzz install clean model
.SECONDARY: $(LIB_OBJ)
