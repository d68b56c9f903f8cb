# ripple_backup — top-level build (PGXS).
#
#   make                 build the extension, the core library, the CLI and unit tests
#   make install         install the extension and the ripple-backup CLI (root)
#   make test            run every test (unit, pg_regress, TAP); see README.md
#   make demo            a throwaway cluster + local S3 server, one backup, verified
#
# Layers (see docs/architecture.md): src/core is plain C11 with libcurl, OpenSSL and
# zstd and never includes postgres.h; it is built once as a static library that the
# extension, the CLI and the unit tests link.  Each area keeps its file lists in its
# own fragment (src/*/*.mk, test/unit/unit.mk).

EXTENSION    = ripple_backup
EXTVERSION   = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" ripple_backup.control)
PG_CONFIG   ?= pg_config

BUILD        = build
CORE_CC     ?= $(CC)
CORE_WARN    = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2 -Wno-format-truncation
CORE_CFLAGS  = -std=gnu11 -O2 -g -fPIC -pthread $(CORE_WARN) -Isrc/core
CORE_LIBS    = -lcurl -lssl -lcrypto -lzstd -lz -lpthread -lm
ASAN_FLAGS   = -fsanitize=address,undefined -fno-omit-frame-pointer

CORE_SRCS    = $(sort $(wildcard src/core/*.c src/core/s3/*.c))
CORE_HDRS    = $(wildcard src/core/*.h src/core/s3/*.h)
BACKEND_SRCS = $(sort $(wildcard src/backend/*.c))
CLI_SRCS     = $(sort $(wildcard src/cli/*.c))

CORE_OBJS      = $(patsubst src/core/%.c,$(BUILD)/core/%.o,$(CORE_SRCS))
CORE_ASAN_OBJS = $(patsubst src/core/%.c,$(BUILD)/asan/core/%.o,$(CORE_SRCS))
CORE_LIB       = $(BUILD)/libripple_core.a
CORE_ASAN_LIB  = $(BUILD)/libripple_core_asan.a
CLI_BIN        = src/cli/ripple-backup

# --- the extension, through PGXS -------------------------------------------------
MODULE_big   = ripple_backup
OBJS         = ripple_backup.o $(BACKEND_SRCS:.c=.o)
DATA         = $(sort $(wildcard sql/$(EXTENSION)--*.sql))
PG_CPPFLAGS  = -Isrc/core -Isrc/backend
PG_CFLAGS    = -Wall -Wextra -Werror -Wno-unused-parameter -Wno-sign-compare \
               -Wno-missing-field-initializers -Wno-cast-function-type
SHLIB_LINK   = $(CORE_LIB) $(CORE_LIBS)
PROGRAM      =
REGRESS      = $(patsubst sql/%.sql,%,$(filter-out sql/$(EXTENSION)--%,$(sort $(wildcard sql/*.sql))))
REGRESS_OPTS = --inputdir=. --outputdir=$(BUILD)/regress

PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifeq ($(PGXS),)
# A fresh machine has no pg_config yet: the two entry points install what they need
# first (test/setup.sh), then come back here.
.DEFAULT_GOAL := test
else
include $(PGXS)

PG_BINDIR   := $(shell $(PG_CONFIG) --bindir)
PG_PKGLIBDIR:= $(shell $(PG_CONFIG) --pkglibdir)

all: $(CORE_LIB) $(CLI_BIN) unit-tests

$(shlib): $(CORE_LIB)

# PGXS tracks no header dependencies: a changed header (a shared-memory struct,
# a worker's argument block) must rebuild every backend object that may use it.
$(OBJS): $(wildcard src/backend/*.h) $(CORE_HDRS)

# --- src/core as a static library (plain and AddressSanitizer builds) ------------
$(BUILD)/core/%.o: src/core/%.c $(CORE_HDRS)
	@mkdir -p $(dir $@)
	$(CORE_CC) $(CORE_CFLAGS) -c $< -o $@

$(BUILD)/asan/core/%.o: src/core/%.c $(CORE_HDRS)
	@mkdir -p $(dir $@)
	$(CORE_CC) $(CORE_CFLAGS) $(ASAN_FLAGS) -c $< -o $@

$(CORE_LIB): $(CORE_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(CORE_ASAN_LIB): $(CORE_ASAN_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# --- the disaster-recovery CLI (src/core only, never the backend) ----------------
$(CLI_BIN): $(CLI_SRCS) $(CORE_LIB) $(wildcard src/cli/*.h) $(CORE_HDRS)
	$(if $(CLI_SRCS),$(CORE_CC) $(CORE_CFLAGS) -Isrc/cli -o $@ $(CLI_SRCS) $(CORE_LIB) $(CORE_LIBS),@true)

# --- unit tests of src/core (cmocka), plain (for valgrind) and ASan --------------
UNIT_SRCS  = $(sort $(wildcard test/unit/test_*.c))
UNIT_BINS  = $(patsubst test/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRCS))
UNIT_ABINS = $(patsubst test/unit/%.c,$(BUILD)/unit-asan/%,$(UNIT_SRCS))
# Small programs that drive src/core for TAP tests and benchmarks (test/tools/*.c).
TOOL_SRCS  = $(sort $(wildcard test/tools/*.c))
TOOL_BINS  = $(patsubst test/tools/%.c,$(BUILD)/tools/%,$(TOOL_SRCS))

unit-tests: $(UNIT_BINS) $(UNIT_ABINS) $(TOOL_BINS) fuzzers

# libFuzzer harnesses (test/fuzz/*_fuzz.c), built with clang over the core sources.
FUZZ_SRCS  = $(sort $(wildcard test/fuzz/*_fuzz.c))
FUZZ_BINS  = $(patsubst test/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
FUZZ_CC   ?= clang
fuzzers: $(FUZZ_BINS)

$(BUILD)/fuzz/%: test/fuzz/%.c $(CORE_SRCS) $(CORE_HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc/core -o $@ $< $(CORE_SRCS) $(CORE_LIBS)

$(BUILD)/unit/%: test/unit/%.c $(CORE_LIB) $(wildcard test/unit/*.h)
	@mkdir -p $(dir $@)
	$(CORE_CC) $(CORE_CFLAGS) -Wno-unused-parameter -Itest/unit -o $@ $< $(CORE_LIB) -lcmocka $(CORE_LIBS)

$(BUILD)/unit-asan/%: test/unit/%.c $(CORE_ASAN_LIB) $(wildcard test/unit/*.h)
	@mkdir -p $(dir $@)
	$(CORE_CC) $(CORE_CFLAGS) $(ASAN_FLAGS) -Wno-unused-parameter -Itest/unit -o $@ $< $(CORE_ASAN_LIB) -lcmocka $(CORE_LIBS)

$(BUILD)/tools/%: test/tools/%.c $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CORE_CC) $(CORE_CFLAGS) -o $@ $< $(CORE_LIB) $(CORE_LIBS)

# --- install the CLI beside pg_dump's siblings -----------------------------------
install: install-cli
install-cli: $(CLI_BIN)
	$(if $(CLI_SRCS),install -D -m 755 $(CLI_BIN) $(DESTDIR)$(PG_BINDIR)/ripple-backup,@true)
	$(if $(CLI_SRCS),install -d $(DESTDIR)/usr/local/bin && ln -sf $(PG_BINDIR)/ripple-backup $(DESTDIR)/usr/local/bin/ripple-backup,@true)

clean: clean-ripple
clean-ripple:
	rm -rf $(BUILD) $(CLI_BIN) tmp_check test/tmp_check

endif

# --- tests, demo, benchmarks -----------------------------------------------------
# `make test` installs what it needs when run as root (see test/run_tests.sh).
test:
	test/run_tests.sh

demo:
	test/demo.sh

.PHONY: all unit-tests fuzzers install-cli clean-ripple test demo
