// SPDX-License-Identifier: MIT
/*
 * dma-debug's CPU trap (swiommu's extension): while a non-coherent device owns a streaming buffer it may
 * write (DMA_FROM_DEVICE, DMA_BIDIRECTIONAL), the host pages under the CPU's view of that buffer are
 * PROT_NONE. A CPU access faults; the SIGSEGV handler records it when it falls inside an armed range,
 * opens the page and single-steps the instruction (x86-64's trap flag); the SIGTRAP that follows closes
 * the page again. Accesses to other bytes of a closed page (a neighbouring kmalloc object) go through the
 * same way, unrecorded. The library's own reads of an armed range run suspended: the page stays open
 * until the suspension ends. Faults on pages this file did not close go to the handler that was there.
 *
 * The tables are small fixed arrays under one spinlock that both the handlers and normal code take; normal
 * code never touches a closed page while holding it, so a handler never waits for its own thread.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>
#include "swiommu_glue.h"

#define TRAP_RANGES	4096
#define TRAP_PAGES	8192
#define TRAP_HITS	256
#define TRAP_PENDING	8

struct trap_range {
	uintptr_t start, end;		/* CPU addresses, [start, end) */
	uintptr_t dev;
	uint64_t key, key_len;		/* what releases it: a DMA address range, or a scatterlist */
	uint64_t dev_addr, size;
	int dir;
	bool used;
};

static struct trap_range ranges[TRAP_RANGES];
static unsigned int range_high;		/* slots below this may be used */
static uintptr_t pages[TRAP_PAGES];	/* closed pages, 0 = empty slot */
static struct swiommu_glue_trap_hit hits[TRAP_HITS];
static unsigned int hit_count;
static unsigned long hits_dropped;
static int trap_lock;
static bool installed;
static uintptr_t page_mask;
static struct sigaction old_segv, old_trap;

static __thread __attribute__((tls_model("initial-exec"))) uintptr_t pending[TRAP_PENDING];
static __thread __attribute__((tls_model("initial-exec"))) unsigned int pending_count;
static __thread __attribute__((tls_model("initial-exec"))) unsigned int suspended;
static __thread __attribute__((tls_model("initial-exec"))) uintptr_t opened[TRAP_PENDING];
static __thread __attribute__((tls_model("initial-exec"))) unsigned int opened_count;

static void lock(void)
{
	while (__atomic_exchange_n(&trap_lock, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&trap_lock, __ATOMIC_RELAXED))
			__builtin_ia32_pause();
}

static void unlock(void)
{
	__atomic_store_n(&trap_lock, 0, __ATOMIC_RELEASE);
}

static bool page_closed(uintptr_t page)
{
	if (!page)	/* 0 marks an empty slot; page 0 is never one of ours */
		return false;
	for (unsigned int i = 0; i < TRAP_PAGES; i++)
		if (pages[i] == page)
			return true;
	return false;
}

static bool page_armed(uintptr_t page)
{
	for (unsigned int i = 0; i < range_high; i++)
		if (ranges[i].used && ranges[i].start < page + page_mask + 1 && page < ranges[i].end)
			return true;
	return false;
}

static int close_page(uintptr_t page)
{
	if (page_closed(page))
		return 0;
	for (unsigned int i = 0; i < TRAP_PAGES; i++) {
		if (pages[i] == 0) {
			if (mprotect((void *)page, page_mask + 1, PROT_NONE))
				return -errno;
			pages[i] = page;
			return 0;
		}
	}
	return -ENOSPC;
}

static void open_page(uintptr_t page)
{
	for (unsigned int i = 0; i < TRAP_PAGES; i++) {
		if (pages[i] == page) {
			mprotect((void *)page, page_mask + 1, PROT_READ | PROT_WRITE);
			pages[i] = 0;
		}
	}
}

static void chain(const struct sigaction *old, int sig, siginfo_t *info, void *ctx)
{
	if (old->sa_flags & SA_SIGINFO) {
		if (old->sa_sigaction) {
			old->sa_sigaction(sig, info, ctx);
			return;
		}
	} else if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
		old->sa_handler(sig);
		return;
	}
	/* The default action: put it back, and let the instruction fault again. */
	signal(sig, SIG_DFL);
}

static void on_segv(int sig, siginfo_t *info, void *ctx)
{
	uintptr_t addr = (uintptr_t)info->si_addr, page = addr & ~page_mask;
	ucontext_t *uc = ctx;

	lock();
	if (!page_closed(page)) {
		unlock();
		chain(&old_segv, sig, info, ctx);
		return;
	}
	if (!suspended) {
		for (unsigned int i = 0; i < range_high; i++) {
			struct trap_range *r = &ranges[i];

			if (!r->used || addr < r->start || addr >= r->end)
				continue;
			if (hit_count < TRAP_HITS) {
				struct swiommu_glue_trap_hit *h = &hits[hit_count];

				h->dev = r->dev;
				h->dev_addr = r->dev_addr;
				h->size = r->size;
				h->dir = r->dir;
				h->offset = addr - r->start;
#if defined(__x86_64__)
				h->ip = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
				h->write = (uc->uc_mcontext.gregs[REG_ERR] & 2) != 0;
#endif
				__atomic_store_n(&hit_count, hit_count + 1, __ATOMIC_RELEASE);
			} else {
				__atomic_store_n(&hits_dropped, hits_dropped + 1, __ATOMIC_RELAXED);
			}
			break;
		}
	}
	mprotect((void *)page, page_mask + 1, PROT_READ | PROT_WRITE);
	if (suspended) {
		if (opened_count < TRAP_PENDING)
			opened[opened_count++] = page;
	} else {
		if (pending_count < TRAP_PENDING)
			pending[pending_count++] = page;
#if defined(__x86_64__)
		uc->uc_mcontext.gregs[REG_EFL] |= 0x100;	/* TF: trap after this one instruction */
#endif
	}
	unlock();
}

static void on_trap(int sig, siginfo_t *info, void *ctx)
{
	ucontext_t *uc = ctx;

	if (!pending_count) {
		chain(&old_trap, sig, info, ctx);
		return;
	}
	lock();
	for (unsigned int i = 0; i < pending_count; i++)
		if (page_closed(pending[i]))
			mprotect((void *)pending[i], page_mask + 1, PROT_NONE);
	pending_count = 0;
#if defined(__x86_64__)
	uc->uc_mcontext.gregs[REG_EFL] &= ~0x100;
#endif
	unlock();
}

int swiommu_glue_trap_install(bool on)
{
#if !defined(__x86_64__) || !defined(__linux__)
	(void)on;
	return -EOPNOTSUPP;
#else
	struct sigaction sa;

	if (on == installed)
		return 0;
	if (!on) {
		swiommu_glue_trap_release_all();
		sigaction(SIGSEGV, &old_segv, NULL);
		sigaction(SIGTRAP, &old_trap, NULL);
		installed = false;
		return 0;
	}
	page_mask = (uintptr_t)sysconf(_SC_PAGESIZE) - 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, &old_segv))
		return -errno;
	sa.sa_sigaction = on_trap;
	if (sigaction(SIGTRAP, &sa, &old_trap)) {
		sigaction(SIGSEGV, &old_segv, NULL);
		return -errno;
	}
	installed = true;
	return 0;
#endif
}

bool swiommu_glue_trap_installed(void)
{
	return installed;
}

int swiommu_glue_trap_arm(uintptr_t start, uint64_t len, uintptr_t dev, uint64_t key, uint64_t key_len,
			  uint64_t dev_addr, uint64_t size, int dir)
{
	int ret = -ENOSPC;

	if (!installed || !len)
		return 0;
	lock();
	for (unsigned int i = 0; i < TRAP_RANGES; i++) {
		struct trap_range *r = &ranges[i];

		if (r->used)
			continue;
		*r = (struct trap_range){ start, start + len, dev, key, key_len, dev_addr, size, dir, true };
		if (i >= range_high)
			range_high = i + 1;
		ret = 0;
		for (uintptr_t p = start & ~page_mask; p < start + len && !ret; p += page_mask + 1)
			ret = close_page(p);
		break;
	}
	unlock();
	return ret;
}

/* Open the pages of the ranges just dropped that no other range still needs. Called locked. */
static void reopen(uintptr_t start, uintptr_t end)
{
	for (uintptr_t p = start & ~page_mask; p < end; p += page_mask + 1)
		if (!page_armed(p))
			open_page(p);
}

unsigned int swiommu_glue_trap_release(uintptr_t dev, uint64_t key)
{
	unsigned int n = 0;

	if (!installed)
		return 0;
	lock();
	for (unsigned int i = 0; i < range_high; i++) {
		struct trap_range *r = &ranges[i];

		if (!r->used || r->dev != dev || key < r->key || key - r->key >= r->key_len)
			continue;
		r->used = false;
		reopen(r->start, r->end);
		n++;
	}
	unlock();
	return n;
}

void swiommu_glue_trap_release_device(uintptr_t dev)
{
	lock();
	for (unsigned int i = 0; i < range_high; i++) {
		if (ranges[i].used && (ranges[i].dev == dev || !dev)) {
			ranges[i].used = false;
			reopen(ranges[i].start, ranges[i].end);
		}
	}
	unlock();
}

void swiommu_glue_trap_release_all(void)
{
	swiommu_glue_trap_release_device(0);
}

unsigned int swiommu_glue_trap_armed(void)
{
	unsigned int n = 0;

	lock();
	for (unsigned int i = 0; i < range_high; i++)
		n += ranges[i].used;
	unlock();
	return n;
}

unsigned int swiommu_glue_trap_drain(struct swiommu_glue_trap_hit *out, unsigned int max, unsigned long *dropped)
{
	unsigned int n;

	if (!__atomic_load_n(&hit_count, __ATOMIC_RELAXED) && !__atomic_load_n(&hits_dropped, __ATOMIC_RELAXED))
		return 0;
	lock();
	n = hit_count < max ? hit_count : max;
	memcpy(out, hits, n * sizeof(*out));
	memmove(hits, hits + n, (hit_count - n) * sizeof(*hits));
	__atomic_store_n(&hit_count, hit_count - n, __ATOMIC_RELAXED);
	if (dropped) {
		*dropped = hits_dropped;
		__atomic_store_n(&hits_dropped, 0, __ATOMIC_RELAXED);
	}
	unlock();
	return n;
}

void swiommu_glue_trap_suspend(void)
{
	suspended++;
}

void swiommu_glue_trap_resume(void)
{
	if (--suspended || !opened_count)
		return;
	lock();
	for (unsigned int i = 0; i < opened_count; i++)
		if (page_closed(opened[i]))
			mprotect((void *)opened[i], page_mask + 1, PROT_NONE);
	opened_count = 0;
	unlock();
}
