# SPDX-License-Identifier: GPL-2.0
#
# mailbox: build, VM tests and checks.  `make help` lists the targets.
#
# Kernel-side builds go through Kbuild (the top-level Kbuild builds
# module/mailbox.ko).  User-space output goes to build/.  Everything that
# runs inside the test VM is linked statically.

TOP	:= $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
B	:= $(TOP)/build
S	:= $(TOP)/scripts

# The kernel the VM boots and the module is built for: by default the one
# Debian's linux-image-amd64 depends on, with its matching headers.  Looked
# up lazily (after scripts/deps.sh may have installed it) and only once.
ifeq ($(origin KVER),undefined)
KVER = $(eval KVER := $$(shell dpkg-query -W -f='$$$${Depends}' linux-image-amd64 \
	2>/dev/null | sed -n 's/^linux-image-\([^ ,]*\).*/\1/p'))$(KVER)
endif
KDIR	?= /usr/src/linux-headers-$(KVER)
VMLINUZ	?= /boot/vmlinuz-$(KVER)

# Debian's PREEMPT_RT kernel (linux-image-rt-amd64) and its copy of the
# module, built against the matching rt headers; looked up like KVER.
RT_KVER = $(eval RT_KVER := $$(shell dpkg-query -W -f='$$$${Depends}' \
	linux-image-rt-amd64 2>/dev/null | \
	sed -n 's/^linux-image-\([^ ,]*\).*/\1/p'))$(RT_KVER)
RT_KDIR		= /usr/src/linux-headers-$(RT_KVER)
RT_VMLINUZ	= /boot/vmlinuz-$(RT_KVER)
RT_MOD		:= $(B)/rt/mod

# Debian's 6.12 LTS from bookworm-backports, fetched and unpacked (not
# installed) by scripts/kernels.sh, and its copy of the module.
LTS_KDIR	:= $(B)/kernels/6.12/headers
LTS_VMLINUZ	:= $(B)/kernels/6.12/vmlinuz
LTS_MOD		:= $(B)/6.12/mod

# Debug kernel: Linux 7.3 with KASAN, lockdep, kmemleak, ...
# (scripts/build-debug-kernel.sh) and its copy of the module.
DEBUG_KDIR	:= $(B)/linux-debug
DEBUG_VMLINUZ	:= $(DEBUG_KDIR)/arch/x86/boot/bzImage
DEBUG_MOD	:= $(B)/debug/mod

KSRC_TAR	:= /usr/src/linux-source-6.1.tar.xz

# VM limits (seconds): whole VM run, and each selftest binary inside it.
VM_TIMEOUT	?= 1500
# The debug kernel (KASAN, lockdep, kmemleak) runs the same tests several
# times slower.
DEBUG_VM_TIMEOUT ?= 2700
TEST_TIMEOUT	?= 300
# Extra kernel command line for every VM run, and for `make bench`.
VM_APPEND	?=
BENCH_APPEND	?= idle=poll clocksource=tsc tsc=reliable
# The debug kernel boots with 4-level page tables.  QEMU's `-cpu max` offers
# LA57; 7.3 then decides the paging mode from a CPU feature bit that
# identify_cpu() clears and sets again at boot, and an interrupt in that
# window made KASAN check the wrong shadow (a "wild-memory-access" splat in
# do_raw_spin_lock at 0.005 s, seen on a starved host).  Nothing the module
# does depends on the paging mode.
DEBUG_APPEND	?= no5lvl
BENCH_ARGS	?=

CC		?= cc
AR		?= ar
CFLAGS		?= -O2 -g
USER_CFLAGS	:= -std=gnu11 -Wall -Wextra -Wno-unused-parameter \
		   -I$(TOP)/uapi -I$(TOP)/userlib/include
TEST_CFLAGS	:= -std=gnu11 -Wall -I$(B)/kselftest \
		   -I$(TOP)/uapi -I$(TOP)/userlib/include -I$(TOP)/selftests

LIB_SRCS	:= $(wildcard $(TOP)/userlib/src/*.c)
LIB_MAP		:= $(wildcard $(TOP)/userlib/libmailbox.map)
LIB_A		:= $(B)/libmailbox.a
LIB_SO		:= $(B)/libmailbox.so
LIB_SONAME	:= libmailbox.so.1
LIB_STATIC_OBJS	:= $(LIB_SRCS:$(TOP)/userlib/src/%.c=$(B)/userlib/static/%.o)
LIB_SHARED_OBJS	:= $(LIB_SRCS:$(TOP)/userlib/src/%.c=$(B)/userlib/shared/%.o)

# libmailbox-mq: the POSIX mq_* functions on mailbox ports, built on
# libmailbox.  Its sources test pointers that glibc's <mqueue.h> declares
# non-null (POSIX callers may pass NULL), so gcc must not assume them set.
MQ_SRCS		:= $(wildcard $(TOP)/userlib/mq/*.c)
MQ_MAP		:= $(TOP)/userlib/libmailbox-mq.map
MQ_A		:= $(B)/libmailbox-mq.a
MQ_SO		:= $(B)/libmailbox-mq.so
MQ_SONAME	:= libmailbox-mq.so.1
MQ_REAL		:= libmailbox-mq.so.$(VERSION)
MQ_CFLAGS	:= -U_FORTIFY_SOURCE -fno-delete-null-pointer-checks -Wno-nonnull-compare
MQ_STATIC_OBJS	:= $(MQ_SRCS:$(TOP)/userlib/mq/%.c=$(B)/userlib/mq-static/%.o)
MQ_SHARED_OBJS	:= $(MQ_SRCS:$(TOP)/userlib/mq/%.c=$(B)/userlib/mq-shared/%.o)

# selftests/*_test.c are test programs; other selftests/*.c are helpers
# linked into every test.  A test too large for one file keeps the rest
# in selftests/NAME/ (NAME_test.c's own sources, linked into it alone).
TEST_SRCS	:= $(wildcard $(TOP)/selftests/*_test.c)
TEST_HELPERS	:= $(filter-out $(TEST_SRCS),$(wildcard $(TOP)/selftests/*.c))
TESTS		:= $(TEST_SRCS:$(TOP)/selftests/%.c=$(B)/selftests/%)
TEST_OWN	= $(wildcard $(TOP)/selftests/$(patsubst %_test,%,$(1))/*.c)
# One compile makes such a test, and its .d keeps only the last source's
# headers: a test with sources of its own depends on them and on every
# header of selftests/ too.
TEST_DIR	= $(wildcard $(TOP)/selftests/$(patsubst %_test,%,$(notdir $(1)))/*.[ch])
$(foreach t,$(TESTS),$(if $(call TEST_OWN,$(notdir $(t))),$(eval $(t): \
	$(call TEST_DIR,$(t)) $(wildcard $(TOP)/selftests/*.h))))
KSFT_H		:= $(B)/kselftest/kselftest_harness.h

EXAMPLES	:= $(patsubst $(TOP)/examples/%.c,$(B)/examples/%,$(wildcard $(TOP)/examples/*.c))
# tools/*.c are one-file tools; the *.c of each folder tools/NAME/ are the
# files of one tool, build/tools/NAME, their objects (and dependency files)
# in build/tools/NAME-objs/.
TOOLS		:= $(patsubst $(TOP)/tools/%.c,$(B)/tools/%,$(wildcard $(TOP)/tools/*.c))
TOOL_DIRS	:= $(filter-out mbx-bridge natsbench,$(sort $(patsubst $(TOP)/tools/%/,%,\
		   $(dir $(wildcard $(TOP)/tools/*/*.c)))))
TOOLS		+= $(TOOL_DIRS:%=$(B)/tools/%)
tool_objs	= $(patsubst $(TOP)/tools/$(1)/%.c,$(B)/tools/$(1)-objs/%.o, \
		    $(wildcard $(TOP)/tools/$(1)/*.c))
# tools/mbx-bridge/*.c: the NATS bridge, linked against the shared libnats
# (Debian ships no static one); the bridge tests copy its libraries into
# the VMs.  tools/natsbench/: mbx-natsbench, the measuring end of
# bench-bridge.  Both have rules of their own, not the folder rule.
BRIDGE_SRCS	:= $(wildcard $(TOP)/tools/mbx-bridge/*.c)
BRIDGE_OBJS	:= $(BRIDGE_SRCS:$(TOP)/tools/mbx-bridge/%.c=$(B)/tools/mbx-bridge-objs/%.o)
TOOLS		+= $(if $(BRIDGE_SRCS),$(B)/tools/mbx-bridge)
TOOLS		+= $(B)/tools/mbx-natsbench

# `make install`: DESTDIR and PREFIX as usual.  The module and the udev
# rule go where the kernel and udev look, whatever PREFIX says; the module
# under the release of the kernel in KDIR.
VERSION		:= 1.0
PREFIX		?= /usr/local
BINDIR		?= $(PREFIX)/bin
LIBDIR		?= $(PREFIX)/lib
INCLUDEDIR	?= $(PREFIX)/include
MANDIR		?= $(PREFIX)/share/man
PKGCONFIGDIR	?= $(LIBDIR)/pkgconfig
UDEVRULESDIR	?= /lib/udev/rules.d
SYSTEMDUNITDIR	?= /lib/systemd/system
DOCDIR		?= $(PREFIX)/share/doc/mailbox
MOD_KVER	= $(or $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"/\1/p' \
		    $(KDIR)/include/generated/utsrelease.h 2>/dev/null),$(KVER))
MODDIR		= /lib/modules/$(MOD_KVER)/extra
LIB_REAL	:= libmailbox.so.$(VERSION)
INSTALL		?= install

# Our own sources for checkpatch: everything we wrote, nothing else.
STYLE_FILES	= $(shell cd $(TOP) && find module uapi userlib selftests tools examples \
		    -name '*.[ch]' -not -name '*.mod.c' 2>/dev/null | sort)
CHECKPATCH	:= $(B)/checkpatch/checkpatch.pl
SHELL_FILES	= $(wildcard $(TOP)/scripts/*.sh $(TOP)/examples/*.sh $(TOP)/tools/*.sh \
		    $(TOP)/tools/*/*.sh $(TOP)/tools/*/test/*.sh) $(TOP)/.ci/run

# Source files of the kernel side, copied into separate trees for the debug,
# W=1 and sparse builds so that those never clobber module/*.o.
MOD_COPY = mkdir -p $(1) && cd $(TOP) && find Kbuild module uapi \
	\( -name '*.[ch]' -o -name Kbuild -o -name Makefile \) \
	-not -name '*.mod.c' -print0 | cpio -pdmu0 --quiet $(1)
SPLAT_COPY = mkdir -p $(1) && cp -p $(TOP)/selftests/splat/Kbuild \
	$(TOP)/selftests/splat/*.c $(1)/

Q := @
SHELL := /bin/bash

.PHONY: all deps module lib selftests examples tools splat distclean \
	check check-debug check-rt check-6.12 ci demo bench debug-kernel debug-module \
	debug-splat rt-module rt-splat kernels kernel-6.12 6.12-module 6.12-splat \
	style sparse w1 sparse-all w1-all clean help install uninstall install-test \
	dkms-check headers-check man-check harness-check

all: module lib selftests examples tools

help:
	@echo 'make [all]         module (against KDIR) + libmailbox + selftests + examples + tools'
	@echo 'make check         selftests in a VM on the stock kernel ($(notdir $(VMLINUZ)))'
	@echo 'make check-6.12    selftests on Debian'\''s 6.12 LTS (bookworm-backports, fetched into build/kernels)'
	@echo 'make check-debug   selftests on the debug kernel, Linux 7.3 (KASAN, lockdep, kmemleak, ...)'
	@echo 'make check-rt      selftests on Debian'\''s PREEMPT_RT kernel (6.1)'
	@echo 'make ci            deps + build + check, check-6.12, check-debug, check-rt, check-bridge + checks, totals last'
	@echo 'make demo          examples/demo.sh in a VM'
	@echo 'make bench         build/tools/mbxbench in a VM ($(BENCH_APPEND))'
	@echo 'make kernels       fetch 6.12 and linux-source-7.3 into build/kernels (private apt, no install)'
	@echo 'make debug-kernel  build (or reuse) the 7.3 debug kernel in build/linux-debug'
	@echo 'make check-bridge  mbx-bridge between VMs on a loopback nats-server (soak-bridge: 100 000 messages)'
	@echo 'make soak          the long runs: stress-long, topic-soak (1 000 000 messages through a topic), soak-bridge'
	@echo 'make bench-bridge  raw libnats against the bridge path, core and JetStream, 64 B and 64 KiB'
	@echo 'make style         checkpatch --strict on our C sources, shellcheck on scripts'
	@echo 'make sparse        sparse (C=2) on the module (against KDIR)'
	@echo 'make w1            W=1 module build against KDIR, fails on any warning'
	@echo 'make sparse-all / w1-all   the same against every kernel present (stock, rt, 6.12, 7.3)'
	@echo 'make install       module, udev rule, libmailbox, libmailbox-mq, headers, pkg-config, mbxctl, man pages'
	@echo '                   (DESTDIR=, PREFIX=$(PREFIX)); make uninstall removes them'
	@echo 'make install-test  install into a temporary DESTDIR, build an example with pkg-config'
	@echo 'make dkms-check    dkms add/build/remove against every kernel present (stock, rt, 6.12, 7.3)'
	@echo 'make headers-check the two headers alone in C99/C11/C++11/C++17, -Werror'
	@echo 'make man-check     groff -ww and mandoc -T lint on every man page'
	@echo 'make harness-check the splat patterns and TAP counting of the VM scripts, on crafted consoles'
	@echo 'make clean         remove build output (the debug kernel and build/kernels stay cached)'
	@echo 'make distclean     also remove the cached debug kernel and fetched kernels'
	@echo 'Variables: KDIR=$(KDIR) VM_TIMEOUT=$(VM_TIMEOUT) TEST_TIMEOUT=$(TEST_TIMEOUT) VM_APPEND=...'

deps:
	$(Q)$(S)/deps.sh

# --- kernel module ----------------------------------------------------------

module: deps
	$(MAKE) -C $(KDIR) M=$(TOP) modules

splat: deps
	$(call SPLAT_COPY,$(B)/splat/stock)
	$(MAKE) -C $(KDIR) M=$(B)/splat/stock modules

debug-kernel: deps
	$(S)/build-debug-kernel.sh $(B)

debug-module: debug-kernel
	$(call MOD_COPY,$(DEBUG_MOD))
	$(MAKE) -C $(DEBUG_KDIR) M=$(DEBUG_MOD) modules

kernels: deps
	$(S)/kernels.sh all

kernel-6.12: deps
	$(S)/kernels.sh 6.12

6.12-module: kernel-6.12
	$(call MOD_COPY,$(LTS_MOD))
	$(MAKE) -C $(LTS_KDIR) M=$(LTS_MOD) modules

6.12-splat: kernel-6.12
	$(call SPLAT_COPY,$(B)/splat/6.12)
	$(MAKE) -C $(LTS_KDIR) M=$(B)/splat/6.12 modules

rt-module: deps
	$(call MOD_COPY,$(RT_MOD))
	$(MAKE) -C $(RT_KDIR) M=$(RT_MOD) modules

rt-splat: deps
	$(call SPLAT_COPY,$(B)/splat/rt)
	$(MAKE) -C $(RT_KDIR) M=$(B)/splat/rt modules

debug-splat: debug-kernel
	$(call SPLAT_COPY,$(B)/splat/debug)
	$(MAKE) -C $(DEBUG_KDIR) M=$(B)/splat/debug modules

# --- user space ---------------------------------------------------------------

lib: $(LIB_A) $(LIB_SO) $(MQ_A) $(MQ_SO)

$(B)/userlib/static/%.o: $(TOP)/userlib/src/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(USER_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/userlib/shared/%.o: $(TOP)/userlib/src/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(USER_CFLAGS) -fPIC -MMD -MP -c -o $@ $<

$(LIB_A): $(LIB_STATIC_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(LIB_SO): $(LIB_SHARED_OBJS) $(LIB_MAP)
	$(CC) $(CFLAGS) -shared -Wl,-soname,$(LIB_SONAME) \
		$(if $(LIB_MAP),-Wl$(comma)--version-script=$(LIB_MAP)) \
		-o $(B)/$(LIB_SONAME) $(LIB_SHARED_OBJS)
	ln -sf $(LIB_SONAME) $@

comma := ,

$(B)/userlib/mq-static/%.o: $(TOP)/userlib/mq/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(USER_CFLAGS) $(MQ_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/userlib/mq-shared/%.o: $(TOP)/userlib/mq/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(USER_CFLAGS) $(MQ_CFLAGS) -DMBX_MQ_SHARED -fPIC -MMD -MP -c -o $@ $<

$(MQ_A): $(MQ_STATIC_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(MQ_SO): $(MQ_SHARED_OBJS) $(MQ_MAP) $(LIB_SO)
	$(CC) $(CFLAGS) -shared -Wl,-soname,$(MQ_SONAME) \
		-Wl,--version-script=$(MQ_MAP) -o $(B)/$(MQ_SONAME) \
		$(MQ_SHARED_OBJS) -L$(B) -lmailbox -lpthread
	ln -sf $(MQ_SONAME) $@

$(KSFT_H): | deps
	@mkdir -p $(@D)
	tar -xJf $(KSRC_TAR) -C $(@D) --strip-components=4 \
		linux-source-6.1/tools/testing/selftests/kselftest_harness.h \
		linux-source-6.1/tools/testing/selftests/kselftest.h
	@touch $@

selftests: $(TESTS)

$(B)/selftests/%: $(TOP)/selftests/%.c $(TEST_HELPERS) $(LIB_A) $(KSFT_H)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(TEST_CFLAGS) -MMD -MP -MF $@.d -static -o $@ \
		$< $(call TEST_OWN,$*) $(TEST_HELPERS) $(TEST_LIBS_$*) $(LIB_A) \
		-lpthread || { rm -f $@; exit 1; }

# The mq tests (mq_test, mq_notify_test, mq_conf_test) link libmailbox-mq
# statically.  Each has an LD_PRELOAD twin, *_preload_test, the same
# source built as a plain glibc program (dynamic, -lrt, no libmailbox-mq)
# that runs itself with LD_PRELOAD=libmailbox-mq.so.
MQ_TESTS	:= mq_test mq_notify_test mq_conf_test
MQ_PRELOAD_TESTS := $(patsubst %_test,%_preload_test,$(MQ_TESTS))
$(foreach t,$(MQ_TESTS),$(eval TEST_LIBS_$(t) := $(MQ_A)))
$(MQ_TESTS:%=$(B)/selftests/%): $(MQ_A)

$(MQ_PRELOAD_TESTS:%=$(B)/selftests/%): $(B)/selftests/%: $(TOP)/selftests/%.c \
		$(TEST_HELPERS) $(LIB_A) $(MQ_SO) $(KSFT_H)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(TEST_CFLAGS) -MMD -MP -MF $@.d -o $@ \
		$< $(TEST_HELPERS) $(LIB_A) -lrt -lpthread || { rm -f $@; exit 1; }

examples: $(EXAMPLES)

$(B)/examples/%: $(TOP)/examples/%.c $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(USER_CFLAGS) -MMD -MP -MF $@.d -static \
		-o $@ $< $(LIB_A) -lpthread

tools: $(TOOLS)

$(B)/tools/%: $(TOP)/tools/%.c $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(USER_CFLAGS) -MMD -MP -MF $@.d -static \
		-o $@ $< $(LIB_A) -lpthread -lm

# The rules of the tool in folder tools/$(1)/.
define TOOL_DIR_RULES
$(B)/tools/$(1)-objs/%.o: $(TOP)/tools/$(1)/%.c
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS) $$(USER_CFLAGS) -MMD -MP -c -o $$@ $$<

$(B)/tools/$(1): $(call tool_objs,$(1)) $$(TOOL_EXTRA_OBJS_$(1)) $$(LIB_A)
	$$(CC) $$(CFLAGS) -static -o $$@ $(call tool_objs,$(1)) $$(TOOL_EXTRA_OBJS_$(1)) \
		$$(LIB_A) -lpthread -lm
endef

# The mbx-mq transport (tr_mbxmq.c) runs libmailbox-mq's code beside the C
# library's mq_* of posix-mq: it and the library's sources are compiled
# with every mq_* name renamed, into objects of mbxbench's own.
MQ_NAMES	:= mq_open __mq_open_2 mq_close mq_unlink mq_send mq_timedsend \
		   mq_receive mq_timedreceive mq_getattr mq_setattr mq_notify
BENCH_MQ_RENAME	:= $(foreach n,$(MQ_NAMES),-D$(n)=mbxbench_$(n))
TOOL_EXTRA_OBJS_mbxbench := $(MQ_SRCS:$(TOP)/userlib/mq/%.c=$(B)/tools/mbxbench-mq/%.o)

$(B)/tools/mbxbench-objs/tr_mbxmq.o: USER_CFLAGS += $(BENCH_MQ_RENAME)

$(B)/tools/mbxbench-mq/%.o: $(TOP)/userlib/mq/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(USER_CFLAGS) $(MQ_CFLAGS) $(BENCH_MQ_RENAME) -MMD -MP -c -o $@ $<

$(foreach t,$(TOOL_DIRS),$(eval $(call TOOL_DIR_RULES,$(t))))

# build/tools/NAME.d of a folder tool is left from when it was one file.
-include $(wildcard $(B)/userlib/*/*.d $(B)/selftests/*.d $(B)/examples/*.d \
	$(filter-out $(TOOL_DIRS:%=$(B)/tools/%.d),$(wildcard $(B)/tools/*.d)) \
	$(B)/tools/*-objs/*.d $(B)/tools/mbxbench-mq/*.d)

$(B)/tools/mbx-bridge-objs/%.o: $(TOP)/tools/mbx-bridge/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(USER_CFLAGS) $$(pkg-config --cflags libnats) -MMD -MP -c -o $@ $<

$(B)/tools/mbx-bridge: $(BRIDGE_OBJS) $(LIB_A)
	$(CC) $(CFLAGS) -o $@ $(BRIDGE_OBJS) $(LIB_A) $$(pkg-config --libs libnats) -lpthread

# The host-side regression test of the importer's pull (check-bridge).
BRIDGE_PULL_TEST := $(B)/tools/mbx-bridge-pull-test
$(BRIDGE_PULL_TEST): $(TOP)/tools/mbx-bridge/test/pull_test.c $(B)/tools/mbx-bridge-objs/pull.o
	$(CC) $(CFLAGS) $(USER_CFLAGS) $$(pkg-config --cflags libnats) -MMD -MP -MF $@.d \
		-o $@ $< $(B)/tools/mbx-bridge-objs/pull.o $$(pkg-config --libs libnats) -lpthread

# The host-side regression test of the importer's record of what it sent.
BRIDGE_SEEN_TEST := $(B)/tools/mbx-bridge-seen-test
$(BRIDGE_SEEN_TEST): $(TOP)/tools/mbx-bridge/test/seen_test.c $(B)/tools/mbx-bridge-objs/seen.o
	$(CC) $(CFLAGS) $(USER_CFLAGS) $$(pkg-config --cflags libnats) -MMD -MP -MF $@.d \
		-o $@ $< $(B)/tools/mbx-bridge-objs/seen.o

# The host-side regression test of the importer's record of message ids.
BRIDGE_IDS_TEST := $(B)/tools/mbx-bridge-ids-test
$(BRIDGE_IDS_TEST): $(TOP)/tools/mbx-bridge/test/ids_test.c $(B)/tools/mbx-bridge-objs/ids.o
	$(CC) $(CFLAGS) $(USER_CFLAGS) $$(pkg-config --cflags libnats) -MMD -MP -MF $@.d \
		-o $@ $< $(B)/tools/mbx-bridge-objs/ids.o

# The host-side regression test of what a core-mode importer counts lost.
BRIDGE_GAPS_TEST := $(B)/tools/mbx-bridge-gaps-test
$(BRIDGE_GAPS_TEST): $(TOP)/tools/mbx-bridge/test/gaps_test.c $(B)/tools/mbx-bridge-objs/gaps.o
	$(CC) $(CFLAGS) $(USER_CFLAGS) $$(pkg-config --cflags libnats) -MMD -MP -MF $@.d \
		-o $@ $< $(B)/tools/mbx-bridge-objs/gaps.o

$(B)/tools/mbx-natsbench: $(TOP)/tools/natsbench/natsbench.c $(B)/tools/mbx-bridge-objs/pull.o $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(USER_CFLAGS) $$(pkg-config --cflags libnats) -MMD -MP -MF $@.d \
		-o $@ $< $(B)/tools/mbx-bridge-objs/pull.o $(LIB_A) $$(pkg-config --libs libnats) -lpthread

-include $(wildcard $(B)/tools/mbx-bridge-objs/*.d)

# --- VM runs ------------------------------------------------------------------
# Selftests that fail to compile do not stop the run: their stale binary is
# removed (see above) and scripts/selftests.sh counts each as a failure.

check: deps
	$(MAKE) module splat lib examples tools
	$(MAKE) -k selftests || echo "*** some selftests failed to build (counted as failures)"
	$(S)/selftests.sh -n stock -k $(VMLINUZ) -m $(TOP)/module/mailbox.ko \
		-s $(B)/splat/stock/mbx_splat.ko -t $(VM_TIMEOUT) -T $(TEST_TIMEOUT) \
		-a "$(VM_APPEND)"

check-debug: deps
	$(MAKE) debug-module debug-splat lib examples tools
	$(MAKE) -k selftests || echo "*** some selftests failed to build (counted as failures)"
	$(S)/selftests.sh -n debug -K -k $(DEBUG_VMLINUZ) \
		-m $(DEBUG_MOD)/module/mailbox.ko -s $(B)/splat/debug/mbx_splat.ko \
		-t $(DEBUG_VM_TIMEOUT) -T $(TEST_TIMEOUT) \
		-a "$(DEBUG_APPEND) $(VM_APPEND)"

check-6.12: deps
	$(MAKE) 6.12-module 6.12-splat lib examples tools
	$(MAKE) -k selftests || echo "*** some selftests failed to build (counted as failures)"
	$(S)/selftests.sh -n 6.12 -k $(LTS_VMLINUZ) -m $(LTS_MOD)/module/mailbox.ko \
		-s $(B)/splat/6.12/mbx_splat.ko -t $(VM_TIMEOUT) -T $(TEST_TIMEOUT) \
		-a "$(VM_APPEND)"

check-rt: deps
	$(MAKE) rt-module rt-splat lib examples tools
	$(MAKE) -k selftests || echo "*** some selftests failed to build (counted as failures)"
	$(S)/selftests.sh -n rt -k $(RT_VMLINUZ) -m $(RT_MOD)/module/mailbox.ko \
		-s $(B)/splat/rt/mbx_splat.ko -t $(VM_TIMEOUT) -T $(TEST_TIMEOUT) \
		-a "$(VM_APPEND)"

# Everything, on every kernel; the combined totals line comes last.
ci: deps
	$(S)/ci.sh

# The demo is examples/demo.sh (vm-run.sh copies it to /opt/mailbox/scripts):
# without it there is no demo, and the target fails.
demo: deps
	@test -x $(TOP)/examples/demo.sh || \
		{ echo "demo: examples/demo.sh is missing or not executable" >&2; exit 1; }
	$(MAKE) module lib examples tools
	$(S)/vm-run.sh -k $(VMLINUZ) -m $(TOP)/module/mailbox.ko -t 300 \
		-a "$(VM_APPEND)" -l $(B)/demo/console.log -- /opt/mailbox/scripts/demo.sh

# mbxbench prints its tables and CSVs between marker lines; BENCH_CUT copies
# one marked block of the console log to build/bench/$(2).
BENCH_CUT = tr -d '\r' <$(B)/bench/console.log | \
	sed -n '/^@@mbxbench $(1) begin$$/,/^@@mbxbench $(1) end$$/{//!p;}' >$(B)/bench/$(2)
QEMU_VERSION = $(shell qemu-system-x86_64 --version 2>/dev/null | sed -n '1s/^QEMU emulator version //p')

bench: deps
	$(MAKE) module lib tools
	@test -x $(B)/tools/mbxbench || { echo "bench: build/tools/mbxbench does not exist yet (tools/mbxbench/)"; exit 1; }
	@mkdir -p $(B)/bench
	$(S)/vm-run.sh -k $(VMLINUZ) -m $(TOP)/module/mailbox.ko -t $(VM_TIMEOUT) \
		-a "$(BENCH_APPEND) $(VM_APPEND)" -l $(B)/bench/console.log -- \
		"mbxbench -Q '$(QEMU_VERSION)' -H '$$(nproc) CPUs, load average $$(cut -d' ' -f1-3 /proc/loadavg) at start' $(BENCH_ARGS)"; \
	rc=$$?; \
	$(call BENCH_CUT,table,results.txt); \
	$(call BENCH_CUT,csv,results.csv); \
	$(call BENCH_CUT,ratios csv,ratios.csv); \
	echo "host load average at the end: $$(cut -d' ' -f1-3 /proc/loadavg)" >>$(B)/bench/results.txt; \
	echo "bench: $(B)/bench/results.txt, results.csv, ratios.csv"; \
	exit $$rc

# The long configurations of selftests/stress_test.c (STRESS_MSGS messages
# under chaos), selftests/topic_ledger_test.c (TOPIC_MSGS messages through
# a topic under kill -9) and selftests/fuzz_test.c (FUZZ_CALLS random
# calls), one VM each, console in build/vm/{stress-long,topic-soak,
# fuzz-long}.log.  LONG_KERNEL=debug runs
# them on the debug kernel with a kmemleak scan; STRESS_ENV / FUZZ_ENV add
# variables inside the VM (e.g. FUZZ_ENV=MBX_FUZZ_SEED=123).
LONG_KERNEL	?= stock
LONG_TIMEOUT	?= 3600
STRESS_MSGS	?= 1000000
TOPIC_MSGS	?= 1000000
FUZZ_CALLS	?= 1000000
STRESS_ENV	?=
FUZZ_ENV	?=
LONG_VM = $(if $(filter debug,$(LONG_KERNEL)),-K -k $(DEBUG_VMLINUZ) \
	-m $(DEBUG_MOD)/module/mailbox.ko,-k $(VMLINUZ) -m $(TOP)/module/mailbox.ko)
LONG_SECS = $$(( $(LONG_TIMEOUT) - 600 ))
LONG_APPEND = $(if $(filter debug,$(LONG_KERNEL)),$(DEBUG_APPEND)) $(VM_APPEND)

# The NATS bridge (tools/mbx-bridge/) between VMs on a loopback nats-server:
# check-bridge is the bounded CI suite (BRIDGE_MSGS ledger messages per
# case, BRIDGE_JOBS cases at a time), soak-bridge the 100 000-message
# ledgers, one case at a time.  Results and totals in
# build/bridge/.
BRIDGE_MSGS	?= 3000
BRIDGE_JOBS	?= 2
.PHONY: check-bridge soak-bridge bench-bridge
check-bridge: deps
	$(MAKE) module lib tools $(BRIDGE_PULL_TEST) $(BRIDGE_SEEN_TEST) $(BRIDGE_IDS_TEST) \
		$(BRIDGE_GAPS_TEST)
	$(S)/bridge-tests.sh -n $(BRIDGE_MSGS) -j $(BRIDGE_JOBS)

soak-bridge: deps
	$(MAKE) module lib tools
	$(S)/bridge-tests.sh -n 100000 -t 1800 -j 1 js-ledger js-faults core-ledger

# Raw libnats against the bridge path on one nats-server, in one VM:
# build/bench/bridge.txt and bridge-ratios.csv.
bench-bridge: deps
	$(MAKE) module lib tools
	$(S)/bridge-bench.sh

.PHONY: soak stress-long fuzz-long topic-soak
# The long runs: the chaos stress, the topic ledger and the bridge ledgers.
soak: stress-long topic-soak soak-bridge

topic-soak: deps
	$(MAKE) $(if $(filter debug,$(LONG_KERNEL)),debug-module,module) lib
	$(MAKE) $(B)/selftests/topic_ledger_test
	$(S)/vm-run.sh $(LONG_VM) -t $(LONG_TIMEOUT) -a "$(LONG_APPEND)" \
		-l $(B)/vm/topic-soak.log -- \
		"MBX_TOPIC_MSGS=$(TOPIC_MSGS) MBX_TOPIC_SECS=$(LONG_SECS) /opt/mailbox/selftests/topic_ledger_test"

stress-long: deps
	$(MAKE) $(if $(filter debug,$(LONG_KERNEL)),debug-module,module) lib
	$(MAKE) $(B)/selftests/stress_test
	$(S)/vm-run.sh $(LONG_VM) -t $(LONG_TIMEOUT) -a "$(LONG_APPEND)" \
		-l $(B)/vm/stress-long.log -- \
		"$(STRESS_ENV) MBX_STRESS_MSGS=$(STRESS_MSGS) MBX_STRESS_SECS=$(LONG_SECS) /opt/mailbox/selftests/stress_test"

fuzz-long: deps
	$(MAKE) $(if $(filter debug,$(LONG_KERNEL)),debug-module,module) lib
	$(MAKE) $(B)/selftests/fuzz_test
	$(S)/vm-run.sh $(LONG_VM) -t $(LONG_TIMEOUT) -a "$(LONG_APPEND)" \
		-l $(B)/vm/fuzz-long.log -- \
		"$(FUZZ_ENV) MBX_FUZZ_CALLS=$(FUZZ_CALLS) MBX_FUZZ_SECS=$(LONG_SECS) /opt/mailbox/selftests/fuzz_test"

# --- static checks ------------------------------------------------------------

$(CHECKPATCH): | deps
	@mkdir -p $(@D)
	tar -xJf $(KSRC_TAR) -C $(@D) --strip-components=2 \
		linux-source-6.1/scripts/checkpatch.pl \
		linux-source-6.1/scripts/spelling.txt \
		linux-source-6.1/scripts/const_structs.checkpatch
	@touch $@

# User-space code has neither the kernel's u32/u64 nor BIT(), so
# PREFER_KERNEL_TYPES and BIT_MACRO are ignored outside module/ and the
# helper module; libnats names are CamelCase (tools/mbx-bridge/, natsbench/);
# module/compat.h alone tests LINUX_VERSION_CODE, which is
# what it is for; the splat module's BUG() is its purpose (the oops
# detector's proof); nothing else is ignored.
style: $(CHECKPATCH) deps
	@cd $(TOP) && fail=0; for f in $(STYLE_FILES); do \
		case $$f in module/compat.h) ign="--ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON" ;; \
		module/*) ign= ;; \
		selftests/splat/*) ign="--ignore AVOID_BUG" ;; \
		tools/mbx-bridge/*|tools/natsbench/*) ign="--ignore PREFER_KERNEL_TYPES,BIT_MACRO,CAMELCASE" ;; \
		*) ign="--ignore PREFER_KERNEL_TYPES,BIT_MACRO" ;; esac; \
		out=$$($(CHECKPATCH) --no-tree --strict --quiet --show-types $$ign -f $$f 2>&1) || \
			{ fail=1; printf '%s\n' "$$out"; }; \
	done; \
	if [ $$fail = 0 ]; then echo "style: $(words $(STYLE_FILES)) C files clean"; \
	else echo "style: checkpatch found problems"; fi; \
	shellcheck -S warning $(SHELL_FILES) || { fail=1; echo "style: shellcheck found problems"; }; \
	rm -f .checkpatch-camelcase.*; exit $$fail

# sparse and W=1 run on copies of the sources (see MOD_COPY), one per
# kernel (build/sparse/RELEASE, build/w1/RELEASE), and fail when any
# diagnostic names one of our files.  KDIR picks the kernel; sparse-all and
# w1-all run them against every kernel present (ALL_KDIRS).
KTAG		= $(or $(subst +,_,$(notdir $(realpath $(KDIR)))),unknown)
ALL_KDIRS	= $(patsubst %/Makefile,%,$(wildcard $(KDIR)/Makefile $(RT_KDIR)/Makefile \
		    $(LTS_KDIR)/Makefile $(if $(wildcard $(DEBUG_KDIR)/.mbx-stamp),$(DEBUG_KDIR)/Makefile)))

sparse: deps
	$(call MOD_COPY,$(B)/sparse/$(KTAG))
	$(call SPLAT_COPY,$(B)/sparse/$(KTAG)/splat)
	@set -o pipefail; { $(MAKE) -C $(KDIR) M=$(B)/sparse/$(KTAG) C=2 modules && \
	   $(MAKE) -C $(KDIR) M=$(B)/sparse/$(KTAG)/splat C=2 modules; } 2>&1 | \
	   tee $(B)/sparse/$(KTAG)/sparse.log
	@! grep -E '^[^ ]*(module|uapi|splat)/[^ ]*:[0-9]+:[0-9]+: (warning|error)' \
		$(B)/sparse/$(KTAG)/sparse.log >/dev/null || { echo "sparse: diagnostics above"; exit 1; }
	@echo "sparse: clean against $(KDIR)"

w1: deps
	$(call MOD_COPY,$(B)/w1/$(KTAG))
	$(call SPLAT_COPY,$(B)/w1/$(KTAG)/splat)
	@set -o pipefail; { $(MAKE) -C $(KDIR) M=$(B)/w1/$(KTAG) W=1 modules && \
	   $(MAKE) -C $(KDIR) M=$(B)/w1/$(KTAG)/splat W=1 modules; } 2>&1 | tee $(B)/w1/$(KTAG)/w1.log
	@! grep -iE 'warning|error' $(B)/w1/$(KTAG)/w1.log >/dev/null || \
		{ echo "w1: warnings above"; exit 1; }
	@echo "w1: clean against $(KDIR)"

sparse-all w1-all: deps
	@fail=0; for k in $(ALL_KDIRS); do \
		$(MAKE) --no-print-directory $(@:-all=) KDIR=$$k || fail=1; \
	done; exit $$fail

man-check:
	$(TOP)/docs/check-man.sh

# The VM runner and the result counting on crafted consoles (no VM).
harness-check:
	$(S)/harness-check.sh

headers-check: lib
	$(S)/headers-check.sh $(B)/headers-check

# --- install ------------------------------------------------------------------

install: module lib tools
	$(INSTALL) -d $(DESTDIR)$(MODDIR) $(DESTDIR)$(UDEVRULESDIR) \
		$(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR) \
		$(DESTDIR)$(INCLUDEDIR)/linux $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man7
	$(INSTALL) -m 644 $(TOP)/module/mailbox.ko $(DESTDIR)$(MODDIR)/
	$(INSTALL) -m 644 $(TOP)/udev/60-mailbox.rules $(DESTDIR)$(UDEVRULESDIR)/
	$(INSTALL) -m 755 $(B)/tools/mbxctl $(DESTDIR)$(BINDIR)/
	$(INSTALL) -m 644 $(LIB_A) $(DESTDIR)$(LIBDIR)/
	$(INSTALL) -m 755 $(B)/$(LIB_SONAME) $(DESTDIR)$(LIBDIR)/$(LIB_REAL)
	ln -sf $(LIB_REAL) $(DESTDIR)$(LIBDIR)/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $(DESTDIR)$(LIBDIR)/libmailbox.so
	$(INSTALL) -m 644 $(MQ_A) $(DESTDIR)$(LIBDIR)/
	$(INSTALL) -m 755 $(B)/$(MQ_SONAME) $(DESTDIR)$(LIBDIR)/$(MQ_REAL)
	ln -sf $(MQ_REAL) $(DESTDIR)$(LIBDIR)/$(MQ_SONAME)
	ln -sf $(MQ_SONAME) $(DESTDIR)$(LIBDIR)/libmailbox-mq.so
	$(INSTALL) -d $(DESTDIR)$(INCLUDEDIR)/mailbox
	$(INSTALL) -m 644 $(TOP)/userlib/include/mailbox/mqueue.h $(DESTDIR)$(INCLUDEDIR)/mailbox/
	$(INSTALL) -m 644 $(TOP)/userlib/include/mailbox.h $(DESTDIR)$(INCLUDEDIR)/
	$(INSTALL) -m 644 $(TOP)/uapi/linux/mailbox.h $(DESTDIR)$(INCLUDEDIR)/linux/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
		$(TOP)/userlib/libmailbox.pc.in >$(DESTDIR)$(PKGCONFIGDIR)/libmailbox.pc
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
		$(TOP)/userlib/libmailbox-mq.pc.in >$(DESTDIR)$(PKGCONFIGDIR)/libmailbox-mq.pc
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/libmailbox.pc $(DESTDIR)$(PKGCONFIGDIR)/libmailbox-mq.pc
	$(INSTALL) -m 644 $(TOP)/docs/man1/*.1 $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 644 $(TOP)/docs/man3/*.3 $(DESTDIR)$(MANDIR)/man3/
	$(INSTALL) -m 644 $(TOP)/docs/*.7 $(DESTDIR)$(MANDIR)/man7/
	$(INSTALL) -d $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(DOCDIR)
	$(INSTALL) -m 755 $(B)/tools/mbx-bridge $(DESTDIR)$(BINDIR)/
	$(INSTALL) -m 644 $(TOP)/docs/man8/mbx-bridge.8 $(DESTDIR)$(MANDIR)/man8/
	sed 's|/usr/local/bin|$(BINDIR)|g' $(TOP)/tools/mbx-bridge/mbx-bridge.service \
		>$(DESTDIR)$(SYSTEMDUNITDIR)/mbx-bridge.service
	$(INSTALL) -m 644 $(TOP)/tools/mbx-bridge/mbx-bridge.conf.example $(DESTDIR)$(DOCDIR)/
	@$(POST_INSTALL)

# After (un)installing on the live system: module index, linker cache, udev.
# Into a DESTDIR: only the module index of the staged tree, if it has one
# (without the warnings about the kernel's own lists, which it lacks).
POST_INSTALL = if [ -n "$(DESTDIR)" ]; then \
		if [ -d "$(DESTDIR)/lib/modules/$(MOD_KVER)" ]; then \
			echo "depmod -b $(DESTDIR) $(MOD_KVER)"; \
			out=$$(depmod -b "$(DESTDIR)" $(MOD_KVER) 2>&1); rc=$$?; \
			printf '%s\n' "$$out" | \
				grep -v 'could not open modules\.\(order\|builtin\)' | grep . >&2; \
			[ $$rc -eq 0 ]; \
		fi; \
	else \
		echo "depmod -a $(MOD_KVER); ldconfig; udevadm control --reload-rules"; \
		depmod -a $(MOD_KVER) && ldconfig && \
		{ ! command -v udevadm >/dev/null || udevadm control --reload-rules 2>/dev/null || true; }; \
	fi

uninstall:
	rm -f $(DESTDIR)$(MODDIR)/mailbox.ko $(DESTDIR)$(UDEVRULESDIR)/60-mailbox.rules \
		$(DESTDIR)$(BINDIR)/mbxctl $(DESTDIR)$(LIBDIR)/libmailbox.a \
		$(DESTDIR)$(BINDIR)/mbx-bridge $(DESTDIR)$(MANDIR)/man8/mbx-bridge.8 \
		$(DESTDIR)$(SYSTEMDUNITDIR)/mbx-bridge.service \
		$(DESTDIR)$(DOCDIR)/mbx-bridge.conf.example \
		$(DESTDIR)$(LIBDIR)/$(LIB_REAL) $(DESTDIR)$(LIBDIR)/$(LIB_SONAME) \
		$(DESTDIR)$(LIBDIR)/libmailbox.so $(DESTDIR)$(PKGCONFIGDIR)/libmailbox.pc \
		$(DESTDIR)$(INCLUDEDIR)/mailbox.h $(DESTDIR)$(INCLUDEDIR)/linux/mailbox.h \
		$(DESTDIR)$(LIBDIR)/libmailbox-mq.a $(DESTDIR)$(LIBDIR)/$(MQ_REAL) \
		$(DESTDIR)$(LIBDIR)/$(MQ_SONAME) $(DESTDIR)$(LIBDIR)/libmailbox-mq.so \
		$(DESTDIR)$(PKGCONFIGDIR)/libmailbox-mq.pc $(DESTDIR)$(INCLUDEDIR)/mailbox/mqueue.h \
		$(patsubst $(TOP)/docs/%,$(DESTDIR)$(MANDIR)/%,$(wildcard $(TOP)/docs/man1/*.1 \
			$(TOP)/docs/man3/*.3)) \
		$(patsubst $(TOP)/docs/%,$(DESTDIR)$(MANDIR)/man7/%,$(wildcard $(TOP)/docs/*.7))
	@rmdir $(DESTDIR)$(INCLUDEDIR)/linux $(DESTDIR)$(INCLUDEDIR)/mailbox \
		$(DESTDIR)$(MODDIR) $(DESTDIR)$(PKGCONFIGDIR) \
		2>/dev/null || true
	@$(POST_INSTALL)

# Installs into a temporary DESTDIR, builds an example against it with
# pkg-config only, runs it in the VM from the installed files, uninstalls.
install-test: module lib tools
	KVER=$(KVER) MOD_KVER=$(MOD_KVER) VERSION=$(VERSION) VMLINUZ=$(VMLINUZ) \
		$(S)/install-test.sh

# dkms add/build/remove of this tree as mailbox/$(VERSION) (dkms.conf),
# against every kernel present: the installed stock and rt headers, and the
# 6.12 headers and 7.3 debug tree under build/ (given as KVER:DIR).
UTS_OF = $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"/\1/p' $(1)/include/generated/utsrelease.h 2>/dev/null)
DKMS_KERNELS = $(KVER) \
	$(if $(wildcard $(RT_KDIR)/Makefile),$(RT_KVER)) \
	$(if $(wildcard $(LTS_KDIR)/Makefile),$(call UTS_OF,$(LTS_KDIR)):$(LTS_KDIR)) \
	$(if $(wildcard $(DEBUG_KDIR)/.mbx-stamp),$(call UTS_OF,$(DEBUG_KDIR)):$(DEBUG_KDIR))

dkms-check: deps
	$(S)/dkms-check.sh $(VERSION) $(DKMS_KERNELS)

clean:
	-$(MAKE) -C $(KDIR) M=$(TOP) clean >/dev/null 2>&1
	rm -rf $(B)/userlib $(B)/selftests $(B)/examples $(B)/tools $(B)/kselftest \
		$(B)/checkpatch $(B)/splat $(B)/debug $(B)/sparse $(B)/w1 $(B)/vm \
		$(B)/stock $(B)/6.12 $(B)/rt $(B)/demo $(B)/bench $(B)/libmailbox.* \
		$(B)/libmailbox-mq.* $(B)/ci \
		$(B)/headers-check $(B)/install-test

distclean: clean
	rm -rf $(B)
