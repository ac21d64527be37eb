# VM test tier (tests/vm/run.sh): statically linked binaries for the qemu
# initramfs.  Included by the top-level Makefile, which defines OUTPUT,
# CMD_OBJS, LIB_OBJS, CFLAGS and LDLIBS.  Nothing here is a prerequisite of
# `all` or `test-build`, and every $(shell) below sits in a recursively
# expanded variable used only in these recipes, so a host without qemu or
# static libraries parses and builds the project exactly as before.
VM_OUT := $(OUTPUT)/vm

# Static link: `gcc -static` needs every library's private dependencies
# spelled out.  pkg-config --static supplies libbpf's (-lelf -lz); LDLIBS
# keeps whatever the main build links (-lyaml, and anything added later).
# libelf.a needs -lzstd only where elfutils was built with zstd (not on
# Debian 12's 0.188; newer ones are), so ask the archive itself.
# VM_PKGS / VM_EXTRA_LDLIBS: for libraries the main build gains later.
VM_PKGS         ?= libbpf
VM_EXTRA_LDLIBS ?=
VM_LIBELF_A      = $(shell $(CC) -print-file-name=libelf.a)
VM_LDLIBS        = $(LDLIBS) \
	$(shell pkg-config --static --libs $(VM_PKGS) 2>/dev/null || echo -lbpf -lelf -lz) \
	$(if $(shell nm $(VM_LIBELF_A) 2>/dev/null | grep -m1 ' U ZSTD_'),-lzstd) \
	$(VM_EXTRA_LDLIBS)

.PHONY: vm-bins test-vm

$(VM_OUT):
	mkdir -p $@

# The same objects as the host binary (CMD_SRCS + LIB_SRCS): the VM tests
# exactly the code the host runs, only linked differently.  glibc warns that
# getpwnam() & co. need shared NSS libraries at run time; the VM has none
# and cgguard's VM cases do not use them.
$(VM_OUT)/cgguard: $(CMD_OBJS) $(LIB_OBJS) | $(VM_OUT)
	$(CC) $(CFLAGS) -static $^ $(VM_LDLIBS) -o $@

$(VM_OUT)/cgg_traffic: tests/tools/cgg_traffic.c | $(VM_OUT)
	$(CC) -O2 -g -Wall -Wextra -static $< -o $@

vm-bins: $(VM_OUT)/cgguard $(VM_OUT)/cgg_traffic

# Convenience: `make test-vm` == `tests/run.sh vm` (run.sh builds vm-bins).
test-vm:
	./tests/run.sh vm
