# ringws: one non-recursive Makefile. Everything is built under $(BUILD)/.
#   make          the library (build/libringws.a, build/libringws.so), ringwsd,
#                 the example plugins and the embedding example (build/embed)
#   make test     installs test dependencies, builds, runs every test:
#                 unit tests, the same under ASan+UBSan, the fuzz corpus
#                 replayed, and each libFuzzer target for FUZZ_SECONDS
#   make fuzz     each libFuzzer target for FUZZ_LONG_SECONDS
#   make run      installs what is missing (as root), builds, runs ringwsd
#   make bench    builds ringload and the baselines, runs bench/run

BUILD ?= build
CC ?= cc
FUZZ_CC ?= clang
CFLAGS ?= -O2 -g
FUZZ_SECONDS ?= 30
FUZZ_LONG_SECONDS ?= 600

WARN := -Wall -Wextra -Werror
BASE := -std=gnu11 -D_GNU_SOURCE -Iinclude -Iengine -fPIC
DEP := -MMD -MP
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

LIB_SRC := $(wildcard engine/protocol/*.c engine/runtime/*.c)
LIB_LIBS := -luring -lpthread -ldeflate -lwolfssl
DAEMON_SRC := $(wildcard engine/daemon/*.c)
DAEMON_OBJ := $(DAEMON_SRC:%.c=$(BUILD)/obj/%.o)
PLUGIN_SRC := $(wildcard examples/*.c)
PLUGINS := $(PLUGIN_SRC:examples/%.c=$(BUILD)/plugins/%.so)
TEST_PLUGIN_SRC := $(wildcard tests/integration/plugins/*.c)
TEST_PLUGINS := $(TEST_PLUGIN_SRC:tests/integration/plugins/%.c=$(BUILD)/test-plugins/%.so)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
ASAN_OBJ := $(LIB_SRC:%.c=$(BUILD)/asan/obj/%.o)
FUZZLIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/fuzz/obj/%.o)

TEST_SRC := $(wildcard tests/unit/*_test.c)
TEST_HELPERS := $(filter-out %_test.c,$(wildcard tests/unit/*.c))
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(BUILD)/test/%)
ASAN_TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(BUILD)/asan/test/%)

FUZZ_SRC := $(wildcard tests/fuzz/*_fuzz.c)
FUZZ_NAMES := $(FUZZ_SRC:tests/fuzz/%_fuzz.c=%)
FUZZ_BIN := $(FUZZ_NAMES:%=$(BUILD)/fuzz/%_fuzz)
REPLAY_BIN := $(FUZZ_NAMES:%=$(BUILD)/replay/%_fuzz)

.SECONDARY:

.PHONY: all deps test-deps unit asan replay fuzz-short fuzz test run clean bench bench-bin

all: deps $(BUILD)/libringws.a $(BUILD)/libringws.so $(BUILD)/ringwsd $(PLUGINS) $(BUILD)/embed \
	$(BUILD)/ringload $(BUILD)/ringcat

deps:
	@sh tools/deps.sh build

test-deps:
	@sh tools/deps.sh test

# --- the library --------------------------------------------------------

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(BASE) $(WARN) $(DEP) $(CFLAGS) -c $< -o $@

$(BUILD)/libringws.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libringws.so: $(LIB_OBJ) engine/libringws.map
	$(CC) -shared -Wl,--version-script=engine/libringws.map -Wl,-soname,libringws.so.0 \
		$(CFLAGS) -o $@ $(LIB_OBJ) $(LIB_LIBS)

# --- ringwsd and plugins ---------------------------------------------------

$(BUILD)/ringwsd: $(DAEMON_OBJ) $(BUILD)/libringws.a
	$(CC) $(CFLAGS) -o $@ $(DAEMON_OBJ) $(BUILD)/libringws.a $(LIB_LIBS) -ldl

# plugins see only include/ and link against nothing of ours
$(BUILD)/plugins/%.so: examples/%.c include/ringws.h include/ringws_plugin.h
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -Iinclude $(WARN) $(CFLAGS) -fPIC -shared -o $@ $<

# the embedding example: a program of its own, seeing only include/ as any
# program that links the library would
$(BUILD)/embed: examples/embed/embed.c include/ringws.h $(BUILD)/libringws.a
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -Iinclude $(WARN) $(CFLAGS) -o $@ $< $(BUILD)/libringws.a $(LIB_LIBS)

$(BUILD)/test-plugins/%.so: tests/integration/plugins/%.c include/ringws.h include/ringws_plugin.h
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -Iinclude $(WARN) $(CFLAGS) -fPIC -shared -o $@ $<

# --- ringcat: the command-line client and server, on the public API only ---

RINGCAT_SRC := $(wildcard tools/ringcat*.c)

$(BUILD)/ringcat: $(RINGCAT_SRC) tools/ringcat.h include/ringws.h $(BUILD)/libringws.a
	$(CC) -std=gnu11 -D_GNU_SOURCE -Iinclude $(WARN) $(DEP) $(CFLAGS) -o $@ $(RINGCAT_SRC) \
		$(BUILD)/libringws.a $(LIB_LIBS)

# --- ringload and the benchmarks (bench/run drives them) -----------------

RINGLOAD_SRC := $(wildcard bench/ringload*.c)
BENCH_BIN := $(BUILD)/ringload $(BUILD)/bench/raw_uring_echo $(BUILD)/bench/raw_epoll_echo \
	$(BUILD)/bench/micro_mask_utf8

$(BUILD)/ringload: $(RINGLOAD_SRC) $(BUILD)/libringws.a
	$(CC) $(BASE) $(WARN) $(DEP) $(CFLAGS) -o $@ $(RINGLOAD_SRC) $(BUILD)/libringws.a $(LIB_LIBS) -lm

$(BUILD)/bench/raw_uring_echo: bench/raw_uring_echo.c bench/raw_common.c bench/raw_common.h
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -o $@ bench/raw_uring_echo.c bench/raw_common.c \
		-luring -lpthread

$(BUILD)/bench/raw_epoll_echo: bench/raw_epoll_echo.c bench/raw_common.c bench/raw_common.h
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -o $@ bench/raw_epoll_echo.c bench/raw_common.c \
		-lpthread

$(BUILD)/bench/micro_mask_utf8: bench/micro_mask_utf8.c $(BUILD)/libringws.a
	@mkdir -p $(@D)
	$(CC) $(BASE) $(WARN) $(DEP) $(CFLAGS) -o $@ $< $(BUILD)/libringws.a $(LIB_LIBS)

bench-bin: all $(BENCH_BIN)
	@sh tools/deps.sh bench

bench: bench-bin
	BUILD=$(BUILD) sh bench/run

# --- unit tests (Criterion), plain and under ASan+UBSan -----------------

$(BUILD)/test/%: tests/unit/%.c $(TEST_HELPERS) $(BUILD)/libringws.a
	@mkdir -p $(@D)
	$(CC) $(BASE) $(WARN) $(DEP) $(CFLAGS) -Itests/unit $< $(TEST_HELPERS) \
		$(BUILD)/libringws.a $(LIB_LIBS) -lcriterion -o $@

$(BUILD)/asan/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(BASE) $(WARN) $(DEP) -O1 -g $(SAN) -c $< -o $@

$(BUILD)/asan/libringws.a: $(ASAN_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/asan/test/%: tests/unit/%.c $(TEST_HELPERS) $(BUILD)/asan/libringws.a
	@mkdir -p $(@D)
	$(CC) $(BASE) $(WARN) $(DEP) -O1 -g $(SAN) -Itests/unit $< $(TEST_HELPERS) \
		$(BUILD)/asan/libringws.a $(LIB_LIBS) -lcriterion -o $@

unit: test-deps $(TEST_BIN)
	@RESULTS=$(BUILD)/results sh tests/run-unit.sh unit $(TEST_BIN)

asan: test-deps $(ASAN_TEST_BIN)
	@ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		RESULTS=$(BUILD)/results sh tests/run-unit.sh asan $(ASAN_TEST_BIN)

# --- integration tests: ringwsd driven by real peers --------------------
# Node ws and Python websockets (tests/integration/setup.sh makes them
# ready) and a raw C client for the conformance cases no real peer sends.

INTEG_SRC := $(wildcard tests/integration/*_test.c)
INTEG_HELPERS := $(filter-out %_test.c,$(wildcard tests/integration/*.c))
INTEG_BIN := $(INTEG_SRC:tests/integration/%.c=$(BUILD)/integration/%)
INTEG_DEFS := -DRWS_TOP='"$(CURDIR)"' -DRWS_BUILD='"$(abspath $(BUILD))"'

# -lz: autobahn_pmd_test deflates and inflates with zlib (zlib1g-dev)
$(BUILD)/integration/%_test: tests/integration/%_test.c $(INTEG_HELPERS)
	@mkdir -p $(@D)
	$(CC) $(BASE) $(WARN) $(DEP) $(CFLAGS) $(INTEG_DEFS) -Itests/integration $< \
		$(INTEG_HELPERS) -lcriterion -lpthread -lz -o $@

# client_interop_test runs the library's client in-process against real
# servers (peer_server.mjs/.py, peer_proxy.mjs): it links the library too
$(BUILD)/integration/client_interop_test: tests/integration/client_interop_test.c $(INTEG_HELPERS) \
		$(BUILD)/libringws.a
	@mkdir -p $(@D)
	$(CC) $(BASE) $(WARN) $(DEP) $(CFLAGS) $(INTEG_DEFS) -Itests/integration $< \
		$(INTEG_HELPERS) $(BUILD)/libringws.a $(LIB_LIBS) -lcriterion -lpthread -lz -o $@

# the Autobahn-style fuzzing server that autobahn_client_test runs WebSocket
# clients against: a program of its own that shares nothing with the library
FZ_SRC := $(wildcard tests/integration/fuzzserver/*.c)

$(BUILD)/integration/fuzzserver: $(FZ_SRC) tests/integration/fuzzserver/fz.h
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -o $@ $(FZ_SRC)

.PHONY: integration
integration: test-deps $(BUILD)/ringwsd $(BUILD)/ringload $(BUILD)/ringcat $(BUILD)/embed $(PLUGINS) $(TEST_PLUGINS) \
	$(BUILD)/integration/fuzzserver $(INTEG_BIN)
	@BUILD=$(BUILD) sh tests/integration/setup.sh || \
		{ echo "integration 0 1" >> $(BUILD)/results; exit 1; }
	@RESULTS=$(BUILD)/results sh tests/run-unit.sh integration $(INTEG_BIN)

# --- fuzzing (libFuzzer, clang) and corpus replay (any compiler) --------

$(BUILD)/fuzz/obj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(BASE) $(WARN) $(DEP) -O1 -g $(SAN) -fsanitize=fuzzer-no-link -c $< -o $@

$(BUILD)/fuzz/%_fuzz: tests/fuzz/%_fuzz.c $(FUZZLIB_OBJ)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(BASE) $(WARN) -O1 -g $(SAN) -fsanitize=fuzzer $< $(FUZZLIB_OBJ) $(LIB_LIBS) -o $@

$(BUILD)/replay/%_fuzz: tests/fuzz/%_fuzz.c tests/fuzz/replay.c $(ASAN_OBJ)
	@mkdir -p $(@D)
	$(CC) $(BASE) $(WARN) -O1 -g $(SAN) $< tests/fuzz/replay.c $(ASAN_OBJ) $(LIB_LIBS) -o $@

replay: test-deps $(REPLAY_BIN)
	@BUILD=$(BUILD) sh tests/fuzz/run.sh replay $(FUZZ_NAMES)

fuzz-short: test-deps $(FUZZ_BIN)
	@BUILD=$(BUILD) sh tests/fuzz/run.sh fuzz $(FUZZ_SECONDS) $(FUZZ_NAMES)

fuzz: test-deps $(FUZZ_BIN)
	@BUILD=$(BUILD) sh tests/fuzz/run.sh fuzz $(FUZZ_LONG_SECONDS) $(FUZZ_NAMES)

# --- the whole suite -----------------------------------------------------

# every stage runs even if an earlier one failed; the summary decides
test: test-deps all
	@rm -f $(BUILD)/results
	@st=0; RESULTS=$(BUILD)/results sh tests/check-layers.sh || st=1; \
	for t in unit integration asan replay fuzz-short; do \
		$(MAKE) --no-print-directory $$t || st=1; \
	done; \
	sh tests/summary.sh $(BUILD)/results && [ $$st -eq 0 ]

RUN_ARGS ?= --listen 127.0.0.1:8080 --route /=$(BUILD)/plugins/echo.so --route /chat=$(BUILD)/plugins/chat.so

run: all
	@echo "ringwsd: connect to ws://127.0.0.1:8080/ (echo) and" \
		"ws://127.0.0.1:8080/chat?token=anything (chat); Ctrl-C stops it"
	$(BUILD)/ringwsd $(RUN_ARGS)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
