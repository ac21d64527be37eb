# VM test tier (tests/vm/run.sh): the binaries for the qemu initramfs.
# Included by the top-level Makefile.  Nothing here is a prerequisite of
# `all` or `test-build` and nothing runs at parse time, so a host without
# qemu builds the project exactly as before.
VM_OUT := $(OUTPUT)/vm

.PHONY: vm-bins test-vm

$(VM_OUT):
	mkdir -p $@

# cgguard in the VM is the host binary itself, dynamically linked:
# mkinitramfs.sh copies its ELF interpreter and every library `ldd` lists.
# A static link (`gcc -static ... -lbpf -lelf -lz -lyaml`) stopped being
# possible when cgguard gained libmicrohttpd (gnutls, p11-kit: no static
# archive in Debian); that library is gone again, but the link list has
# grown (libnl-3, libnftables, libseccomp, json-c).  Copying
# the binary also means the VM runs exactly what the host tiers test, with
# whatever the main link rule adds, and no second library list to keep in
# step.
$(VM_OUT)/cgguard: cgguard | $(VM_OUT)
	cp $< $@

# The traffic tool needs nothing but libc: static, one file.
$(VM_OUT)/cgg_traffic: tests/tools/cgg_traffic.c | $(VM_OUT)
	$(CC) -O2 -g -Wall -Wextra -static $< -o $@

vm-bins: $(VM_OUT)/cgguard $(VM_OUT)/cgg_traffic

# Convenience: `make test-vm` == `tests/run.sh vm` (run.sh builds vm-bins).
test-vm:
	./tests/run.sh vm
