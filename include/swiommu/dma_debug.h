/* SPDX-License-Identifier: MIT */
/*
 * dma-debug: the checks of the kernel's kernel/dma/debug.c (CONFIG_DMA_API_DEBUG), in its wording, plus the
 * checks only a simulated machine can make. On by default. Each error is logged as the kernel logs it, a WARN
 * record whose text is "DMA-API: <driver> <device>: <message>", and kept as a record tests can iterate.
 * swiommu's own checks say "swiommu:" after the device: "DMA-API: <driver> <device>: swiommu: ...".
 *
 * Unlike the kernel (which prints only the first error unless dma-api/all_errors is set), every error is
 * reported; the kernel's dma-api/driver_filter is swiommu_dma_debug_set_filter().
 */
#ifndef _SWIOMMU_DMA_DEBUG_H
#define _SWIOMMU_DMA_DEBUG_H

#include <linux/types.h>

struct device;

/* The longest message a record keeps, with its NUL. */
#define SWIOMMU_DMA_DEBUG_MESSAGE_MAX	512
/* The longest device or driver name a record keeps, with its NUL (the kernel's NAME_MAX_LEN). */
#define SWIOMMU_DMA_DEBUG_NAME_MAX	64
/* Records kept: the newest this many (swiommu_dma_debug_errors() counts them all). */
#define SWIOMMU_DMA_DEBUG_RECORDS	256

/**
 * enum swiommu_dma_debug_kind - which check found an error (the message each one prints, after
 * "DMA-API: <driver> <device>: ").
 * @SWIOMMU_DMA_DEBUG_FREE_INVALID: "device driver tries to free an invalid DMA memory address" (an unmap of
 *	DMA_MAPPING_ERROR).
 * @SWIOMMU_DMA_DEBUG_FREE_NOT_ALLOCATED: "device driver tries to free DMA memory it has not allocated
 *	[device address=0x%016llx] [size=%llu bytes]".
 * @SWIOMMU_DMA_DEBUG_FREE_SIZE: "device driver frees DMA memory with different size [device address=...]
 *	[map size=%llu bytes] [unmap size=%llu bytes]".
 * @SWIOMMU_DMA_DEBUG_FREE_FUNCTION: "device driver frees DMA memory with wrong function [device address=...]
 *	[size=...] [mapped as %s] [unmapped as %s]" (types "single", "scatter-gather", "coherent", "resource",
 *	"noncoherent").
 * @SWIOMMU_DMA_DEBUG_FREE_CPU_ADDRESS: "device driver frees DMA memory with different CPU address
 *	[device address=...] [size=...] [cpu alloc address=0x%pa] [cpu free address=0x%pa]" (the kernel's
 *	format: %pa prints its own 0x, so the addresses read "0x0x...").
 * @SWIOMMU_DMA_DEBUG_FREE_SG_COUNT: "device driver frees DMA sg list with different entry count
 *	[map count=%d] [unmap count=%d]".
 * @SWIOMMU_DMA_DEBUG_FREE_DIRECTION: "device driver frees DMA memory with different direction
 *	[device address=...] [size=...] [mapped with %s] [unmapped with %s]".
 * @SWIOMMU_DMA_DEBUG_MAP_ERROR_NOT_CHECKED: "device driver failed to check map error[device address=...]
 *	[size=...] [mapped as %s]" (no dma_mapping_error() between map and unmap; the kernel's text has no
 *	space before the first '[').
 * @SWIOMMU_DMA_DEBUG_SYNC_NOT_ALLOCATED: "device driver tries to sync DMA memory it has not allocated
 *	[device address=...] [size=...]" (also a sync that runs past the end of its mapping: 6.17 looks the
 *	mapping up by containment, so its "syncs DMA memory outside allocated range" cannot fire).
 * @SWIOMMU_DMA_DEBUG_SYNC_DIRECTION: "device driver syncs DMA memory with different direction
 *	[device address=...] [size=...] [mapped with %s] [synced with %s]".
 * @SWIOMMU_DMA_DEBUG_SYNC_READ_ONLY: "device driver syncs device read-only DMA memory for cpu [...]": a
 *	DMA_TO_DEVICE mapping synced for the CPU with another direction.
 * @SWIOMMU_DMA_DEBUG_SYNC_WRITE_ONLY: "device driver syncs device write-only DMA memory to device [...]": a
 *	DMA_FROM_DEVICE mapping synced for the device with another direction.
 * @SWIOMMU_DMA_DEBUG_SYNC_SG_COUNT: "device driver syncs DMA sg list with different entry count
 *	[map count=%d] [sync count=%d]".
 * @SWIOMMU_DMA_DEBUG_MAP_STACK: "device driver maps memory from stack [addr=%p]" (dma_map_single() of the
 *	calling thread's stack).
 * @SWIOMMU_DMA_DEBUG_MAP_TEXT: "device driver maps memory from kernel text or rodata [addr=%p] [len=%lu]"
 *	(dma_map_single() of the program's code or read-only data).
 * @SWIOMMU_DMA_DEBUG_MAP_INVALID: "device driver maps memory from invalid area [addr=%p] [len=%lu]"
 *	(debug_dma_map_single() of memory that is not simulated RAM's linear map).
 * @SWIOMMU_DMA_DEBUG_MAP_VMALLOC: "device driver maps memory from vmalloc area [addr=%p] [len=%lu]" (only
 *	from a direct debug_dma_map_single() call: dma_map_single() rejects vmalloc memory first, with the
 *	WARN "rejecting DMA map of vmalloc memory").
 * @SWIOMMU_DMA_DEBUG_SG_SEGMENT_LENGTH: "mapping sg segment longer than device claims to support [len=%u]
 *	[max=%u]" (dma_get_max_seg_size()).
 * @SWIOMMU_DMA_DEBUG_SG_SEGMENT_BOUNDARY: "mapping sg segment across boundary [start=0x%016llx]
 *	[end=0x%016llx] [boundary=0x%016llx]" (dma_get_seg_boundary()).
 * @SWIOMMU_DMA_DEBUG_OVERLAP: "cacheline tracking EEXIST, overlapping mappings aren't supported": a second
 *	live mapping (not DMA_TO_DEVICE, without DMA_ATTR_SKIP_CPU_SYNC) starting in the same cache line.
 * @SWIOMMU_DMA_DEBUG_OVERLAP_LIMIT: "exceeded 7 overlapping mappings of cacheline %pa": the kernel's
 *	WARN_ONCE, without the driver and device names ("DMA-API: exceeded ..."); once per boot.
 * @SWIOMMU_DMA_DEBUG_PENDING_AT_UNBIND: "device driver has pending DMA allocations while released from
 *	device [count=%d]\nOne of leaked entries details: [device address=...] [size=...] [mapped with %s]
 *	[mapped as %s]" (the driver is gone by then: <driver> is the bus name, "platform").
 * @SWIOMMU_DMA_DEBUG_CPU_WRITE_UNSYNCED: swiommu: "swiommu: device read DMA memory the CPU changed after it
 *	was mapped or synced for the device [device address=...] [size=...] [mapped with %s]": found when the
 *	device reads (a checksum of the CPU's view of the buffer, taken at map and sync_for_device time).
 * @SWIOMMU_DMA_DEBUG_DEVICE_WRITE_CPU_OWNED: swiommu: the device wrote memory it does not own: "swiommu:
 *	device wrote memory that is not mapped for it [device address=...] [size=...]", "swiommu: device wrote
 *	device read-only DMA memory [...] [mapped with DMA_TO_DEVICE]" or "swiommu: device wrote DMA memory the
 *	cpu owns (synced for cpu, not yet for device) [...] [mapped with %s]".
 * @SWIOMMU_DMA_DEBUG_STALE_IOTLB: swiommu: "swiommu: device DMA reached an unmapped address through a stale
 *	IOTLB entry [device address=...] [size=...]": the lazy (flush queue) window.
 * @SWIOMMU_DMA_DEBUG_CPU_READ_UNSYNCED: swiommu: "swiommu: device driver syncs DMA memory for the device
 *	again without syncing it for cpu after the device wrote it [device address=...] [size=...] [mapped
 *	with %s]": on a non-coherent device, the CPU took the device's data back without dma_sync_*_for_cpu()
 *	(it read stale lines); found at that sync_for_device, not when the CPU reads.
 * @SWIOMMU_DMA_DEBUG_CPU_ACCESS_DEVICE_OWNED: swiommu, with swiommu_dma_debug_trap_cpu_access() on: "swiommu:
 *	CPU read of DMA memory the device owns [device address=...] [size=...] [mapped with %s] [offset=%llu]
 *	[ip=0x%llx]: no dma_sync_*_for_cpu() or dma_unmap_*() first" ("CPU write to" for a write): the CPU
 *	itself touched a buffer a non-coherent device may write, caught at the instruction (@ip).
 */
enum swiommu_dma_debug_kind {
	SWIOMMU_DMA_DEBUG_FREE_INVALID,
	SWIOMMU_DMA_DEBUG_FREE_NOT_ALLOCATED,
	SWIOMMU_DMA_DEBUG_FREE_SIZE,
	SWIOMMU_DMA_DEBUG_FREE_FUNCTION,
	SWIOMMU_DMA_DEBUG_FREE_CPU_ADDRESS,
	SWIOMMU_DMA_DEBUG_FREE_SG_COUNT,
	SWIOMMU_DMA_DEBUG_FREE_DIRECTION,
	SWIOMMU_DMA_DEBUG_MAP_ERROR_NOT_CHECKED,
	SWIOMMU_DMA_DEBUG_SYNC_NOT_ALLOCATED,
	SWIOMMU_DMA_DEBUG_SYNC_DIRECTION,
	SWIOMMU_DMA_DEBUG_SYNC_READ_ONLY,
	SWIOMMU_DMA_DEBUG_SYNC_WRITE_ONLY,
	SWIOMMU_DMA_DEBUG_SYNC_SG_COUNT,
	SWIOMMU_DMA_DEBUG_MAP_STACK,
	SWIOMMU_DMA_DEBUG_MAP_TEXT,
	SWIOMMU_DMA_DEBUG_MAP_INVALID,
	SWIOMMU_DMA_DEBUG_MAP_VMALLOC,
	SWIOMMU_DMA_DEBUG_SG_SEGMENT_LENGTH,
	SWIOMMU_DMA_DEBUG_SG_SEGMENT_BOUNDARY,
	SWIOMMU_DMA_DEBUG_OVERLAP,
	SWIOMMU_DMA_DEBUG_OVERLAP_LIMIT,
	SWIOMMU_DMA_DEBUG_PENDING_AT_UNBIND,
	SWIOMMU_DMA_DEBUG_CPU_WRITE_UNSYNCED,
	SWIOMMU_DMA_DEBUG_DEVICE_WRITE_CPU_OWNED,
	SWIOMMU_DMA_DEBUG_STALE_IOTLB,
	SWIOMMU_DMA_DEBUG_CPU_READ_UNSYNCED,
	SWIOMMU_DMA_DEBUG_CPU_ACCESS_DEVICE_OWNED,
};

/**
 * struct swiommu_dma_debug_record - one error dma-debug reported.
 * @dev: the device (NULL for none); it may be gone by the time the record is read.
 * @device: its name (dev_name()), "NULL" for none.
 * @driver: what the message names as its driver (dev_driver_string(): the bus name once unbound).
 * @kind: the check.
 * @address: the device (DMA) address the error is about; for the map-time checks of dma_map_single(), the
 *	CPU address; for the cacheline limit, the cache line number.
 * @size: bytes the error is about (0 when the check has no size).
 * @message: the whole text, as logged ("DMA-API: <driver> <device>: ..."), without a trailing newline.
 */
struct swiommu_dma_debug_record {
	struct device *dev;
	char device[SWIOMMU_DMA_DEBUG_NAME_MAX];
	char driver[SWIOMMU_DMA_DEBUG_NAME_MAX];
	enum swiommu_dma_debug_kind kind;
	u64 address;
	u64 size;
	char message[SWIOMMU_DMA_DEBUG_MESSAGE_MAX];
};

/**
 * swiommu_dma_debug_errors() - errors dma-debug found since boot or the last swiommu_dma_debug_reset()
 * (the kernel's dma-api/error_count: errors the filter hides count too).
 *
 * Return: the count.
 */
unsigned long swiommu_dma_debug_errors(void);

/**
 * swiommu_dma_debug_last() - the message of the last error reported.
 *
 * Return: "DMA-API: <driver> <device>: <message>", valid until the next error or reset; "" when there is
 * none.
 */
const char *swiommu_dma_debug_last(void);

/**
 * swiommu_dma_debug_reset() - forget the errors found and the records (a boot does too). Live mappings
 * stay tracked.
 */
void swiommu_dma_debug_reset(void);

/**
 * swiommu_dma_debug_record_count() - records kept (at most SWIOMMU_DMA_DEBUG_RECORDS, the newest).
 *
 * Return: the count.
 */
unsigned long swiommu_dma_debug_record_count(void);

/**
 * swiommu_dma_debug_record() - copy a record out.
 * @index: 0 for the oldest kept, swiommu_dma_debug_record_count() - 1 for the newest.
 * @record: where it goes.
 *
 * Return: 0; -EINVAL for a NULL @record; -ENOENT for an @index past the last record.
 */
int swiommu_dma_debug_record(unsigned long index, struct swiommu_dma_debug_record *record);

/* swiommu_dma_debug_for_each_record(i, rec): every record kept, oldest first (@i unsigned long, @rec a
 * struct swiommu_dma_debug_record pointer). */
#define swiommu_dma_debug_for_each_record(i, rec) \
	for ((i) = 0; swiommu_dma_debug_record((i), (rec)) == 0; (i)++)

/**
 * swiommu_dma_debug_kind_name() - the name of a kind, as its enumerator without the prefix
 * ("FREE_NOT_ALLOCATED").
 * @kind: the kind.
 *
 * Return: the name; "UNKNOWN" for a value outside the enum.
 */
const char *swiommu_dma_debug_kind_name(enum swiommu_dma_debug_kind kind);

/**
 * swiommu_dma_debug_enable() - switch dma-debug on or off (the kernel's dma_debug=off and its debugfs
 * "disabled"). On by default. Off takes effect at once: mappings are no longer tracked and those tracked are
 * forgotten. On takes effect at once while no machine is up; a machine that booted with dma-debug off (or
 * switched it off) keeps it off until swiommu_exit(), since it cannot know the mappings made meanwhile.
 * @on: the new state.
 *
 * Return: 0; -EBUSY when switching on while a machine is up with dma-debug off (nothing changes).
 */
int swiommu_dma_debug_enable(bool on);

/**
 * swiommu_dma_debug_enabled() - whether dma-debug tracks mappings now (or, with no machine up, will at the
 * next boot).
 *
 * Return: true or false.
 */
bool swiommu_dma_debug_enabled(void);

/**
 * swiommu_dma_debug_set_filter() - report only errors of one driver or device (the kernel's
 * dma-api/driver_filter, which matches driver names; this one also matches dev_name()). Errors of others are
 * counted, not logged or recorded. Errors without a device, and unbind leaks whose driver is gone, pass only
 * a device-name filter.
 * @name: a driver or device name; NULL or "" switches the filter off.
 *
 * Return: 0; -EINVAL for a name of SWIOMMU_DMA_DEBUG_NAME_MAX bytes or more.
 */
int swiommu_dma_debug_set_filter(const char *name);

/**
 * swiommu_dma_debug_set_abort() - call abort() right after logging the next error reported, so that a
 * debugger stops in the driver's call.
 * @on: on or off (off by default).
 */
void swiommu_dma_debug_set_abort(bool on);

/**
 * swiommu_dma_debug_trap_cpu_access() - catch the CPU's own accesses to streaming buffers a non-coherent
 * device owns (swiommu's extension; off by default). From a dma_map_*() (or dma_sync_*_for_device()) of a
 * buffer mapped DMA_FROM_DEVICE or DMA_BIDIRECTIONAL for a non-coherent device until its
 * dma_sync_*_for_cpu() or dma_unmap_*(), the host pages under the CPU's view of the buffer are closed with
 * mprotect(). An access by the CPU faults; a SIGSEGV handler notes it when it falls inside such a buffer,
 * lets the instruction complete (one single-step, then a SIGTRAP closes the page again) and the program
 * goes on reading what it would have read. Each access noted becomes a %SWIOMMU_DMA_DEBUG_CPU_ACCESS_DEVICE_OWNED
 * error when the buffer is synced or unmapped, or when the errors are read (swiommu_dma_debug_errors(),
 * _record_count(), _record(), _last()). Other bytes of a closed page (a neighbouring kmalloc() object)
 * stay usable, only slower. Faults on other pages go to the SIGSEGV handler installed before. Costs: two
 * signals per access to a closed page; nothing while off. Not for programs under a debugger that stops on
 * SIGSEGV/SIGTRAP (gdb: "handle SIGSEGV SIGTRAP nostop noprint pass"), nor under ThreadSanitizer.
 * Works only while dma-debug is on. A sync of part of a buffer opens (and a sync for the device closes)
 * the whole buffer; a scatterlist is named by its first entry, as its syncs and unmap name it.
 * @on: on or off. Off opens every page it closed.
 *
 * Return: 0; -EOPNOTSUPP where the single-step it needs is not built (only x86-64 Linux has it);
 * another negative errno if the handlers cannot be installed.
 */
int swiommu_dma_debug_trap_cpu_access(bool on);

/**
 * swiommu_dma_debug_mappings() - mappings dma-debug tracks (the kernel's nr_total_entries -
 * num_free_entries): streaming maps (one per scatterlist segment), coherent and non-coherent allocations,
 * resources.
 * @dev: the device, or NULL for all.
 *
 * Return: the count; 0 while dma-debug is off.
 */
unsigned long swiommu_dma_debug_mappings(struct device *dev);

#endif /* _SWIOMMU_DMA_DEBUG_H */
