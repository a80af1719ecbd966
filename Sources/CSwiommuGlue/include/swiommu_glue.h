/* SPDX-License-Identifier: MIT */
/* What the Swift layers need from C: the log ring, WARN records, initcalls, syscalls, atomics. */
#ifndef _SWIOMMU_GLUE_H
#define _SWIOMMU_GLUE_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/mm_types.h>
#include <linux/platform_device.h>
#include <linux/of.h>
#include <linux/iova.h>

struct swiommu_alloc_site;

/* Append a message (no level prefix) to the log at @level (0-7), printing it if the console level says so. */
void swiommu_glue_log(int level, const char *text);
/* Record a WARN raised by the Swift layers: printed as the kernel prints one, counted, kept. */
void swiommu_glue_warn(const char *file, int line, const char *func, const char *text);
/* Start a new boot: WARN_ON_ONCE may fire again; timestamps restart. */
void swiommu_glue_new_boot(void);

/* Initcalls registered by module_init()/module_exit() constructors. */
int swiommu_glue_run_initcalls(void);
void swiommu_glue_run_exitcalls(void);
unsigned int swiommu_glue_initcall_count(void);

/*
 * Compile a .dts file to a .dtb with dtc. @messages receives dtc's diagnostics (NUL-terminated).
 * Returns 0, -EINVAL when dtc rejected the source, or -errno when dtc cannot run.
 */
int swiommu_glue_compile_dts(const char *dts, const char *dtb, char *messages, size_t len);

/* memfd_create(2), which Swift's Glibc module does not show. Returns the fd or -errno. */
int swiommu_glue_memfd_create(const char *name);

/* The allocation site the caller's alloc_hooks() recorded, or NULL. */
const struct swiommu_alloc_site *swiommu_glue_alloc_site(void);
const char *swiommu_glue_site_file(const struct swiommu_alloc_site *site);
const char *swiommu_glue_site_func(const struct swiommu_alloc_site *site);
int swiommu_glue_site_line(const struct swiommu_alloc_site *site);

/* Offset of the library's list node in struct page (Swift key paths cannot reach into it). */
static inline size_t swiommu_glue_page_node_offset(void)
{
	return offsetof(struct page, swiommu.node);
}

/* SwiommuIOVA.NodePool keeps struct iova at a 16-byte stride, its state and index position beside it. */
_Static_assert(sizeof(struct iova) == 16, "struct iova: pfn_hi and pfn_lo alone");

/* &platform_bus_type (Swift would take the address of a copy). */
static inline const struct bus_type *swiommu_glue_platform_bus(void)
{
	return &platform_bus_type;
}

/*
 * DMA masks of a new platform device, as platform_device_alloc() sets them (setup_pdev_dma_masks): 32 bits,
 * dma_mask pointing at platform_dma_mask. Device tree devices are made the same way (of_device_alloc), so
 * of_platform_device_create_pdata() finds dma_mask set and leaves it.
 */
static inline void swiommu_glue_setup_pdev_dma(struct platform_device *pdev)
{
	pdev->platform_dma_mask = 0xffffffffull;
	pdev->dev.coherent_dma_mask = 0xffffffffull;
	pdev->dev.dma_mask = &pdev->platform_dma_mask;
	pdev->dev.dma_parms = &pdev->dma_parms;
	pdev->dev.dma_pools.next = &pdev->dev.dma_pools;
	pdev->dev.dma_pools.prev = &pdev->dev.dma_pools;
}

/* of_dma_configure's legacy fallback: a device without a DMA mask gets its coherent mask. */
static inline void swiommu_glue_point_dma_mask_at_coherent(struct device *dev)
{
	dev->dma_mask = &dev->coherent_dma_mask;
}

/* &pci_bus_type (Swift would take the address of a copy). */
extern const struct bus_type pci_bus_type;
static inline const struct bus_type *swiommu_glue_pci_bus(void)
{
	return &pci_bus_type;
}

static inline struct fwnode_handle *swiommu_glue_of_fwnode(struct device_node *np)
{
	return &np->fwnode;
}

static inline int swiommu_glue_atomic_add_int(int *p, int v)
{
	return __atomic_add_fetch(p, v, __ATOMIC_SEQ_CST);
}

/* Fault-injection countdowns, one per point (SwiommuBase.FaultPoint); 0 is disarmed. */
#define SWIOMMU_FAULT_POINTS 16
extern long swiommu_glue_fault_countdown[SWIOMMU_FAULT_POINTS] __attribute__((visibility("hidden")));

/*
 * The kernel's fault_attr (lib/fault-inject.c) per point: probability in percent (0: off), interval,
 * times (-1: no limit), space, a seeded random stream, the calls seen and the failures injected.
 */
struct swiommu_glue_fault_attr {
	long probability;
	long interval;
	long times;
	long space;
	unsigned long long random;
	unsigned long count;
	unsigned long injected;
	int verbose;
};
extern struct swiommu_glue_fault_attr swiommu_glue_fault_attrs[SWIOMMU_FAULT_POINTS];
extern int swiommu_glue_fault_attr_armed[SWIOMMU_FAULT_POINTS] __attribute__((visibility("hidden")));

static inline struct swiommu_glue_fault_attr *swiommu_glue_fault_attr_of(int point)
{
	return &swiommu_glue_fault_attrs[point];
}

static inline void swiommu_glue_fault_attr_arm(int point, int armed)
{
	__atomic_store_n(&swiommu_glue_fault_attr_armed[point], armed, __ATOMIC_RELAXED);
}

/* The point names, in SwiommuBase.FaultPoint's order. */
const char *swiommu_glue_fault_point_name(int point);
/* should_fail_ex's attribute path (locked, slow: only when the point has attributes). */
bool swiommu_glue_fault_attr_should_fail(int point);
/* A fail-nth countdown reached zero: count it and say so (fail_dump). */
void swiommu_glue_fault_fired(int point);

/* True when this call at @point must fail: first the fail-nth countdown (as current->fail_nth is
 * consulted first, and alone while it runs), then the point's attributes. */
static inline bool swiommu_glue_fault_should_fail(int point)
{
	long *c = &swiommu_glue_fault_countdown[point];

	if (__builtin_expect(__atomic_load_n(c, __ATOMIC_RELAXED) > 0, 0)) {
		if (__atomic_sub_fetch(c, 1, __ATOMIC_RELAXED) != 0)
			return false;
		swiommu_glue_fault_fired(point);
		return true;
	}
	if (__builtin_expect(__atomic_load_n(&swiommu_glue_fault_attr_armed[point], __ATOMIC_RELAXED) == 0, 1))
		return false;
	return swiommu_glue_fault_attr_should_fail(point);
}

static inline void swiommu_glue_fault_arm(int point, long nth)
{
	__atomic_store_n(&swiommu_glue_fault_countdown[point], nth, __ATOMIC_RELAXED);
}

static inline long swiommu_glue_atomic_load_long(const long *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline void swiommu_glue_atomic_store_long(long *p, long v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static inline long swiommu_glue_atomic_add_long(long *p, long v)
{
	return __atomic_add_fetch(p, v, __ATOMIC_RELAXED);
}

static inline long swiommu_glue_atomic_sub_long(long *p, long v)
{
	return __atomic_sub_fetch(p, v, __ATOMIC_RELAXED);
}

/* Acquire/release pairs for flags and pointers published to threads that take no lock (on x86 and arm64 plain
 * or load-acquire/store-release instructions; ThreadSanitizer sees the ordering, which it cannot see in fences). */
static inline long swiommu_glue_atomic_load_acquire_long(const long *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void swiommu_glue_atomic_store_release_long(long *p, long v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline void *swiommu_glue_atomic_load_acquire_ptr(void *const *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void swiommu_glue_atomic_store_release_ptr(void **p, void *v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* A test-and-test-and-set spinlock for the shortest critical sections (an IOMMU instance's IOTLB). */
static inline void swiommu_glue_spin_lock(int *lock)
{
	while (__atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE)) {
		while (__atomic_load_n(lock, __ATOMIC_RELAXED)) {
#if defined(__x86_64__) || defined(__i386__)
			__builtin_ia32_pause();
#elif defined(__aarch64__)
			__asm__ __volatile__("yield");
#endif
		}
	}
}

static inline void swiommu_glue_spin_unlock(int *lock)
{
	__atomic_store_n(lock, 0, __ATOMIC_RELEASE);
}

/* Bumped whenever a device channel's path through the IOMMUs may have changed (attach, detach, probe,
 * release, domain free, instance (un)registration): cached paths older than it are stale. */
extern long swiommu_glue_route_generation __attribute__((visibility("hidden")));

static inline long swiommu_glue_route_generation_now(void)
{
	return __atomic_load_n(&swiommu_glue_route_generation, __ATOMIC_ACQUIRE);
}

static inline void swiommu_glue_route_generation_bump(void)
{
	__atomic_add_fetch(&swiommu_glue_route_generation, 1, __ATOMIC_RELEASE);
}

/* The calling thread's CPU number (SwiommuBase.ThreadCPU) + 2, or 0 before it has one: a per-thread copy of
 * the number ThreadCPU keeps under a pthread key (whose destructor gives it back at thread exit), read with
 * one load from the thread pointer where pthread_getspecific() is a call. Initial-exec: the library's static
 * TLS is this one word. */
extern __thread long swiommu_glue_thread_cpu __attribute__((visibility("hidden"), tls_model("initial-exec")));

static inline long swiommu_glue_thread_cpu_get(void)
{
	return swiommu_glue_thread_cpu;
}

static inline void swiommu_glue_thread_cpu_set(long value)
{
	swiommu_glue_thread_cpu = value;
}

/* Trace events: a bit per event (SwiommuBase.TraceEvent) in the mask; a disabled event costs this load. */
/* Hidden: the hot paths read it RIP-relative, not through the GOT. */
extern unsigned long long swiommu_glue_trace_mask __attribute__((visibility("hidden")));

static inline bool swiommu_glue_trace_enabled(int event)
{
	return __builtin_expect((__atomic_load_n(&swiommu_glue_trace_mask, __ATOMIC_RELAXED) >> event) & 1, 0);
}

static inline void swiommu_glue_trace_set_mask(unsigned long long mask)
{
	__atomic_store_n(&swiommu_glue_trace_mask, mask, __ATOMIC_RELAXED);
}

static inline unsigned long long swiommu_glue_trace_get_mask(void)
{
	return __atomic_load_n(&swiommu_glue_trace_mask, __ATOMIC_RELAXED);
}

/* Bits above the events' mark other hooks that want the DMA API's calls (bit 63: dma-debug). */
static inline void swiommu_glue_trace_set_bit(int bit, bool on)
{
	if (on)
		__atomic_fetch_or(&swiommu_glue_trace_mask, 1ULL << bit, __ATOMIC_RELAXED);
	else
		__atomic_fetch_and(&swiommu_glue_trace_mask, ~(1ULL << bit), __ATOMIC_RELAXED);
}

/* Whether any event or hook is on: the DMA API's hooks cost this one load while everything is off. */
static inline bool swiommu_glue_hooks_any(void)
{
	return __builtin_expect(__atomic_load_n(&swiommu_glue_trace_mask, __ATOMIC_RELAXED) != 0, 0);
}

/* Record one event: @text is its TP_printk output. */
void swiommu_glue_trace_emit(const char *system, const char *event, const char *text);
/* Open (truncate) @path for ftrace text, writing the header; NULL closes. 0 or -errno. */
int swiommu_glue_trace_open(const char *path);

/* dma-debug's CPU trap (cputrap.c): host pages of device-owned buffers closed with mprotect. */
struct swiommu_glue_trap_hit {
	uintptr_t dev;
	uint64_t dev_addr, size, offset, ip;
	int dir;
	bool write;
};
/* Install (or remove) the SIGSEGV/SIGTRAP handlers: 0, or -EOPNOTSUPP off x86-64 Linux. */
int swiommu_glue_trap_install(bool on);
bool swiommu_glue_trap_installed(void);
/* Close the pages under [start, start+len) until a release of (dev, key in [key, key+key_len)). 0 or -ENOSPC. */
int swiommu_glue_trap_arm(uintptr_t start, uint64_t len, uintptr_t dev, uint64_t key, uint64_t key_len,
			  uint64_t dev_addr, uint64_t size, int dir);
unsigned int swiommu_glue_trap_release(uintptr_t dev, uint64_t key);
void swiommu_glue_trap_release_device(uintptr_t dev);
void swiommu_glue_trap_release_all(void);
unsigned int swiommu_glue_trap_armed(void);
/* Move up to @max recorded accesses to @out; *@dropped gets those the table had no room for. */
unsigned int swiommu_glue_trap_drain(struct swiommu_glue_trap_hit *out, unsigned int max, unsigned long *dropped);
/* The library's own reads of armed memory: pages open until the matching resume. */
void swiommu_glue_trap_suspend(void);
void swiommu_glue_trap_resume(void);

#endif /* _SWIOMMU_GLUE_H */
