# cgguard build: .bpf.c -> .bpf.o -> skeleton -> binary (libbpf-bootstrap
# style).  Everything generated goes to .output/.
OUTPUT    := .output
CLANG     ?= clang
BPFTOOL   ?= bpftool
CC        ?= gcc
PREFIX    ?= /usr/local
ARCH      := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')

LIBBPF_CFLAGS := $(shell pkg-config --cflags libbpf 2>/dev/null)
LIBBPF_LIBS   := $(shell pkg-config --libs libbpf 2>/dev/null || echo -lbpf)
LIBNL_CFLAGS  := $(shell pkg-config --cflags libnl-3.0 2>/dev/null || echo -I/usr/include/libnl3)
CFLAGS    ?= -O2 -g
CFLAGS    += -std=gnu11 -Wall -Wextra -I$(OUTPUT) -Ibpf $(LIBBPF_CFLAGS) $(LIBNL_CFLAGS)
LDLIBS    += $(LIBBPF_LIBS) -lelf -lz -lyaml -lnl-3

BPF_SRCS  := bpf/guard.bpf.c bpf/lsm.bpf.c bpf/sockfilter.bpf.c bpf/sockiter.bpf.c
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.bpf.o,$(BPF_SRCS))
SKELS     := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))

LIB_SRCS  := lib/err.c lib/json.c lib/unixconn.c cgroup/cgroup.c policy/names.c policy/parse.c lib/yamlread.c lib/yamlfast.c lib/bigalloc.c lib/args.c lib/jsonparse.c \
             policy/builtin.c policy/beneath.c policy/compile.c policy/validate.c policy/lookup.c bpf/loader.c bpf/pindir.c \
             bpf/attach.c bpf/upgrade.c \
             bpf/probe.c bpf/sockfilter.c libcgguard/cgguard.c libcgguard/classic.c
# Sockets of a guarded cgroup: sock_diag (libnl-3), verdicts, --kill-denied.
LIB_SRCS  += cgroup/cgtree.c cgroup/sockdiag.c bpf/sockets.c bpf/sockiter.c
# Events: ring buffer reader, decoding, explain.
LIB_SRCS  += bpf/evmaps.c events/decode.c events/reader.c events/explain.c
# cgguard sandbox: Landlock, seccomp, the unprivileged socket's client
SB_SRCS   := lib/ctlclient.c sandbox/plan.c sandbox/apply.c sandbox/delegate.c
SB_OBJS   := $(patsubst %.c,$(OUTPUT)/%.o,$(SB_SRCS))
# The nftables backend: libnftables is dlopen()ed (netfilter-compat/run.c),
# so nothing more is linked; json-c reads its JSON back.
NFT_SRCS  := $(wildcard netfilter-compat/*.c)
NFT_OBJS  := $(patsubst %.c,$(OUTPUT)/%.o,$(NFT_SRCS))
DAEMON_SRCS := $(wildcard daemon/*.c)
CMD_SRCS  := $(wildcard cmd/*.c)
LIB_OBJS  := $(patsubst %.c,$(OUTPUT)/%.o,$(LIB_SRCS))
CMD_OBJS  := $(patsubst %.c,$(OUTPUT)/%.o,$(CMD_SRCS) $(DAEMON_SRCS))

TEST_BINS := $(OUTPUT)/tests/test_policy $(OUTPUT)/tests/test_compile $(OUTPUT)/tests/test_yamlfast \
             $(OUTPUT)/tests/test_verdict $(OUTPUT)/tests/test_sandbox \
             $(OUTPUT)/tests/test_explain $(OUTPUT)/tests/test_nft \
             $(OUTPUT)/tests/test_classic $(OUTPUT)/tests/test_sockfilter
BENCH_BINS := $(OUTPUT)/bench/bench_prog $(OUTPUT)/bench/bench_events

.SECONDARY:
.PHONY: all clean deps test test-build test-unit test-integration bench install demo fuzz fuzz-build \
	libcgguard
all: cgguard libcgguard

deps:
	./tests/deps.sh

$(OUTPUT) $(OUTPUT)/tests $(OUTPUT)/bench:
	mkdir -p $@

$(OUTPUT)/vmlinux.h: | $(OUTPUT)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c bpf/cgguard_abi.h bpf/events_abi.h bpf/maps.bpf.h bpf/events.bpf.h bpf/verdict.bpf.h bpf/conn.bpf.h $(OUTPUT)/vmlinux.h | $(OUTPUT)
	$(CLANG) -g -O2 -Wall -target bpf -D__TARGET_ARCH_$(ARCH) \
		-I$(OUTPUT) -Ibpf $(LIBBPF_CFLAGS) -c $< -o $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

$(OUTPUT)/%.o: %.c $(SKELS) $(wildcard */*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# The libraries are linked statically (libc stays shared): cgguard runs as
# an OCI hook on every container start, and this makes its process start
# as cheap as /bin/true's (2.5 ms vs 3.9 ms here).  The daemon serves
# metrics with its own bounded responder (daemon/http.c), no HTTP library.
cgguard: $(CMD_OBJS) $(LIB_OBJS) $(SB_OBJS) $(NFT_OBJS)
	$(CC) $(CFLAGS) $^ -Wl,-Bstatic -lbpf -lelf -lz -lyaml -ljson-c -lseccomp -lnl-3 \
		-Wl,-Bdynamic -ldl -o $@

$(OUTPUT)/tests/test_policy: tests/unit/test_policy.c $(LIB_OBJS) | $(OUTPUT)/tests
	$(CC) $(CFLAGS) -Ipolicy $^ $(LDLIBS) -lcmocka -o $@
$(OUTPUT)/tests/test_yamlfast: tests/unit/test_yamlfast.c $(LIB_OBJS) | $(OUTPUT)/tests
	$(CC) $(CFLAGS) -Ipolicy $^ $(LDLIBS) -lcmocka -o $@
$(OUTPUT)/tests/test_compile: tests/unit/test_compile.c $(LIB_OBJS) | $(OUTPUT)/tests
	$(CC) $(CFLAGS) -Ipolicy $^ $(LDLIBS) -lcmocka -o $@
$(OUTPUT)/tests/test_classic: tests/unit/test_classic.c $(LIB_OBJS) | $(OUTPUT)/tests
	$(CC) $(CFLAGS) -Ipolicy $^ $(LDLIBS) -lcmocka -o $@
$(OUTPUT)/tests/test_sockfilter: tests/bpf/test_sockfilter.c $(LIB_OBJS) | $(OUTPUT)/tests
	$(CC) $(CFLAGS) $^ $(LDLIBS) -lcmocka -o $@
$(OUTPUT)/tests/test_sandbox: tests/unit/test_sandbox.c $(LIB_OBJS) $(SB_OBJS) | $(OUTPUT)/tests
	$(CC) $(CFLAGS) -Ipolicy $^ $(LDLIBS) -lseccomp -ljson-c -lcmocka -o $@
$(OUTPUT)/tests/test_nft: tests/unit/test_nft.c $(OUTPUT)/netfilter-compat/script.o $(LIB_OBJS) | $(OUTPUT)/tests
	$(CC) $(CFLAGS) -Ipolicy $^ $(LDLIBS) -lcmocka -o $@
$(OUTPUT)/tests/test_verdict: tests/bpf/test_verdict.c $(LIB_OBJS) | $(OUTPUT)/tests
	$(CC) $(CFLAGS) $^ $(LDLIBS) -lcmocka -o $@
$(OUTPUT)/tests/test_explain: tests/bpf/test_explain.c $(LIB_OBJS) | $(OUTPUT)/tests
	$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@
$(OUTPUT)/bench/bench_events: bench/bench_events.c $(LIB_OBJS) | $(OUTPUT)/bench
	$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@
$(OUTPUT)/bench/bench_prog: bench/bench_prog.c $(LIB_OBJS) | $(OUTPUT)/bench
	$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(OUTPUT)/tests/foreign.bpf.o: tests/integration/foreign.bpf.c $(OUTPUT)/vmlinux.h | $(OUTPUT)/tests
	$(CLANG) -g -O2 -target bpf -I$(OUTPUT) $(LIBBPF_CFLAGS) -c $< -o $@
$(OUTPUT)/cgg_traffic: tests/tools/cgg_traffic.c | $(OUTPUT)
	$(CC) -O2 -g -Wall -Wextra $< -o $@
$(OUTPUT)/cgg_conn: tests/tools/cgg_conn.c tests/tools/sockaddr.h | $(OUTPUT)
	$(CC) -O2 -g -Wall -Wextra $< -o $@

# libcgguard: static and shared, one public header, cgguard.pc.  Its
# objects (the policy parser and compiler for the classic path included)
# are built again as PIC with hidden visibility: only cgguard.h's
# CGGUARD_API functions are exported.
LIBCGG_VERSION := 0.1.0
LIBCGG_SRCS := libcgguard/cgguard.c libcgguard/classic.c lib/unixconn.c policy/names.c policy/parse.c \
               lib/yamlread.c lib/yamlfast.c lib/bigalloc.c policy/builtin.c policy/compile.c
LIBCGG_OBJS := $(patsubst %.c,$(OUTPUT)/pic/%.o,$(LIBCGG_SRCS))
LIBCGG      := $(OUTPUT)/libcgguard.a $(OUTPUT)/libcgguard.so.$(LIBCGG_VERSION) \
               $(OUTPUT)/libcgguard.so $(OUTPUT)/cgguard.pc $(OUTPUT)/cgguard-example

$(OUTPUT)/pic/%.o: %.c $(wildcard */*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fPIC -fvisibility=hidden -c $< -o $@
$(OUTPUT)/libcgguard.a: $(LIBCGG_OBJS)
	rm -f $@ && $(AR) rcs $@ $^
$(OUTPUT)/libcgguard.so.$(LIBCGG_VERSION): $(LIBCGG_OBJS)
	$(CC) $(CFLAGS) -shared -Wl,-soname,libcgguard.so.0 -Wl,--no-undefined \
		$^ -lyaml -o $@
$(OUTPUT)/libcgguard.so: $(OUTPUT)/libcgguard.so.$(LIBCGG_VERSION)
	ln -sf libcgguard.so.$(LIBCGG_VERSION) $@
	ln -sf libcgguard.so.$(LIBCGG_VERSION) $(OUTPUT)/libcgguard.so.0
$(OUTPUT)/cgguard.pc: libcgguard/cgguard.pc.in Makefile | $(OUTPUT)
	sed 's|@PREFIX@|$(PREFIX)|; s|@VERSION@|$(LIBCGG_VERSION)|' $< > $@
# The example links the static library, as a user of the .pc would.
$(OUTPUT)/cgguard-example: libcgguard/example.c $(OUTPUT)/libcgguard.a
	$(CC) -O2 -g -Wall -Wextra -Ilibcgguard $< $(OUTPUT)/libcgguard.a -lyaml -o $@
libcgguard: $(LIBCGG)

$(OUTPUT)/cgg_sfcheck: tests/tools/cgg_sfcheck.c $(OUTPUT)/libcgguard.a | $(OUTPUT)
	$(CC) -O2 -g -Wall -Wextra -Ilibcgguard $< $(OUTPUT)/libcgguard.a -lyaml -lbpf -o $@

$(OUTPUT)/cgg_stream: tests/tools/cgg_stream.c tests/tools/sockaddr.h | $(OUTPUT)
	$(CC) -O2 -g -Wall -Wextra $< -o $@

TEST_DATA := $(OUTPUT)/tests/foreign.bpf.o $(OUTPUT)/cgg_traffic $(OUTPUT)/cgg_sfcheck \
             $(OUTPUT)/cgg_conn
TEST_DATA += $(OUTPUT)/cgg_stream
$(OUTPUT)/cgg_probe: tests/tools/cgg_probe.c tests/tools/sockaddr.h | $(OUTPUT)
	$(CC) -O2 -g -Wall -Wextra $< -o $@

TEST_DATA += $(OUTPUT)/cgg_probe

# libFuzzer harnesses (tests/fuzz/): everything they reach is rebuilt with clang,
# ASan and UBSan into $(OUTPUT)/fuzz.  `make fuzz FUZZ_SECONDS=N` runs each for N s.
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS := -g -O1 -std=gnu11 -I$(OUTPUT) -Ibpf $(LIBBPF_CFLAGS) $(LIBNL_CFLAGS) -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_NAMES := policy config ctl oci
FUZZ_BINS := $(patsubst %,$(OUTPUT)/fuzz/fuzz_%,$(FUZZ_NAMES))
FUZZ_LIB := $(patsubst %.c,$(OUTPUT)/fuzz/%.o,$(LIB_SRCS))
# The daemon's reconcile reaches the nft backend (netfilter-compat/).
FUZZ_DAEMON := $(patsubst %.c,$(OUTPUT)/fuzz/%.o,$(DAEMON_SRCS) $(NFT_SRCS))
FUZZ_LIBS := -lbpf -lelf -lz -lyaml -ljson-c -lnl-3 -ldl

$(OUTPUT)/fuzz/%.o: %.c $(SKELS) $(wildcard */*.h)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@
$(OUTPUT)/fuzz/fuzz_policy: tests/fuzz/fuzz_policy.c $(FUZZ_LIB)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $^ $(FUZZ_LIBS) -o $@
$(OUTPUT)/fuzz/fuzz_config $(OUTPUT)/fuzz/fuzz_ctl: $(OUTPUT)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB) $(FUZZ_DAEMON)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $^ $(FUZZ_LIBS) -o $@
$(OUTPUT)/fuzz/fuzz_oci: tests/fuzz/fuzz_oci.c cmd/oci_hook.c $(FUZZ_LIB) $(OUTPUT)/fuzz/cmd/common.o
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(filter-out cmd/oci_hook.c,$^) $(FUZZ_LIBS) -o $@

fuzz-build: $(FUZZ_BINS)
fuzz: fuzz-build
	./tests/fuzz/run.sh $(FUZZ_SECONDS)

# The README's commands: each installs what it needs first.
test:
	./tests/deps.sh
	$(MAKE) test-build
	./tests/run.sh

test-build: cgguard libcgguard $(TEST_BINS) $(TEST_DATA) $(FUZZ_BINS)

test-unit: $(TEST_BINS)
	./tests/run.sh unit

test-integration: cgguard $(TEST_DATA)
	./tests/run.sh integration

bench: cgguard $(BENCH_BINS)
	./bench/run.sh

# PREFIX and DESTDIR are honoured; the hooks.d file points at $(PREFIX)/sbin.
install: cgguard libcgguard
	install -D -m 0755 cgguard $(DESTDIR)$(PREFIX)/sbin/cgguard
	install -D -m 0644 libcgguard/cgguard.h $(DESTDIR)$(PREFIX)/include/cgguard.h
	install -D -m 0644 $(OUTPUT)/libcgguard.a $(DESTDIR)$(PREFIX)/lib/libcgguard.a
	install -D -m 0755 $(OUTPUT)/libcgguard.so.$(LIBCGG_VERSION) $(DESTDIR)$(PREFIX)/lib/libcgguard.so.$(LIBCGG_VERSION)
	ln -sf libcgguard.so.$(LIBCGG_VERSION) $(DESTDIR)$(PREFIX)/lib/libcgguard.so.0
	ln -sf libcgguard.so.$(LIBCGG_VERSION) $(DESTDIR)$(PREFIX)/lib/libcgguard.so
	install -D -m 0644 $(OUTPUT)/cgguard.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/cgguard.pc
	install -D -m 0644 libcgguard/example.c $(DESTDIR)$(PREFIX)/share/doc/cgguard/examples/libcgguard-example.c
	install -D -m 0644 docs/cgguard.8 $(DESTDIR)$(PREFIX)/share/man/man8/cgguard.8
	install -D -m 0644 docs/cgguard-nft.8 $(DESTDIR)$(PREFIX)/share/man/man8/cgguard-nft.8
	install -d $(DESTDIR)/usr/share/containers/oci/hooks.d
	sed 's|/usr/local/sbin|$(PREFIX)/sbin|' deploy/hooks.d/cgguard.json > $(DESTDIR)/usr/share/containers/oci/hooks.d/cgguard.json
	install -D -m 0644 deploy/runc-hooks.json $(DESTDIR)$(PREFIX)/share/doc/cgguard/examples/runc-hooks.json
	install -D -m 0644 deploy/README.md $(DESTDIR)$(PREFIX)/share/doc/cgguard/oci-hooks.md
	install -D -m 0644 docs/usdt.md $(DESTDIR)$(PREFIX)/share/doc/cgguard/usdt.md
	for f in deploy/bpftrace/*.bt deploy/bpftrace/README.md; do install -D -m 0644 "$$f" $(DESTDIR)$(PREFIX)/share/cgguard/bpftrace/$$(basename "$$f"); done
	if [ -f deploy/cgguard.service ]; then \
		sed 's|/usr/local/sbin|$(PREFIX)/sbin|' deploy/cgguard.service > cgguard.service.tmp && \
		install -D -m 0644 cgguard.service.tmp $(DESTDIR)/lib/systemd/system/cgguard.service && rm -f cgguard.service.tmp; fi
	install -d $(DESTDIR)/etc/cgguard/policies
	for f in deploy/policies/*.yaml; do [ -e "$$f" ] && install -D -m 0644 "$$f" $(DESTDIR)$(PREFIX)/share/doc/cgguard/examples/policies/$$(basename "$$f"); done; true

demo:
	./tests/deps.sh
	$(MAKE) cgguard $(OUTPUT)/cgg_traffic
	./tests/demo.sh

-include tests/vm/vm.mk

clean:
	rm -rf $(OUTPUT) cgguard
