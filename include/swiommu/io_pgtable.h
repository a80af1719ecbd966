/* SPDX-License-Identifier: MIT */
/*
 * swiommu's additions to io-pgtable: the hardware walker (what an IOMMU reads from the tables in simulated
 * RAM, independent of the driver-side iova_to_phys()), a text dump of a table, the Linux 6.6-6.12
 * block-splitting unmap as an option, table statistics and the kernel's page-size choice.
 */
#ifndef _SWIOMMU_IO_PGTABLE_H
#define _SWIOMMU_IO_PGTABLE_H

#include <linux/types.h>
#include <linux/io-pgtable.h>

/* What a device access asks of the walker (swiommu_io_pgtable_translate()'s @access). */
#define SWIOMMU_PGTABLE_ACCESS_READ	(1U << 0)
#define SWIOMMU_PGTABLE_ACCESS_WRITE	(1U << 1)
#define SWIOMMU_PGTABLE_ACCESS_EXEC	(1U << 2)	/* an instruction fetch */
#define SWIOMMU_PGTABLE_ACCESS_PRIV	(1U << 3)	/* a privileged (supervisor) transaction */

/**
 * enum swiommu_pgtable_fault_type - why a walk did not produce an output address.
 * @SWIOMMU_PGTABLE_FAULT_NONE: no fault; the translation is valid.
 * @SWIOMMU_PGTABLE_FAULT_TRANSLATION: an invalid descriptor, or an input address outside the table's range.
 * @SWIOMMU_PGTABLE_FAULT_PERMISSION: the leaf does not allow this access.
 * @SWIOMMU_PGTABLE_FAULT_ADDRESS_SIZE: a table or output address beyond the configured output size.
 * @SWIOMMU_PGTABLE_FAULT_ACCESS_FLAG: the leaf's access flag is clear (hardware AF update is not modelled).
 * @SWIOMMU_PGTABLE_FAULT_EXTERNAL: a table address that is not simulated RAM (an external abort on the
 *	walk; a swiommu addition to the architecture's four kinds).
 *
 * Faults are checked in the Arm architecture's priority order: translation, address size, access flag,
 * permission.
 */
enum swiommu_pgtable_fault_type {
	SWIOMMU_PGTABLE_FAULT_NONE = 0,
	SWIOMMU_PGTABLE_FAULT_TRANSLATION,
	SWIOMMU_PGTABLE_FAULT_PERMISSION,
	SWIOMMU_PGTABLE_FAULT_ADDRESS_SIZE,
	SWIOMMU_PGTABLE_FAULT_ACCESS_FLAG,
	SWIOMMU_PGTABLE_FAULT_EXTERNAL,
};

/**
 * struct swiommu_pgtable_fault - a fault record, as an IOMMU reports one.
 * @type: what went wrong.
 * @level: the table level whose descriptor caused it (ARM LPAE 0-3, v7s 1-2, DART 1-2; for an input
 *	address out of range, 0 for LPAE and 1 for v7s and DART).
 * @iova: the input address.
 * @access: the SWIOMMU_PGTABLE_ACCESS_* flags of the access.
 */
struct swiommu_pgtable_fault {
	enum swiommu_pgtable_fault_type type;
	int level;
	unsigned long iova;
	unsigned int access;
};

/**
 * struct swiommu_pgtable_translation - what the walker found.
 * @phys: the output address (valid when @fault.type is SWIOMMU_PGTABLE_FAULT_NONE).
 * @size: bytes the leaf maps (its page, block, section or supersection size).
 * @level: the level of the leaf.
 * @prot: what the leaf grants an access of this privilege, as IOMMU_* flags: IOMMU_READ, IOMMU_WRITE,
 *	IOMMU_NOEXEC (execution denied), IOMMU_CACHE (write-back cacheable memory type), IOMMU_MMIO
 *	(device memory type), IOMMU_PRIV (unprivileged accesses are denied).
 * @pte: the leaf descriptor as the walker read it (for a fault: the descriptor at @fault.level, or 0).
 * @fault: the fault record.
 */
struct swiommu_pgtable_translation {
	phys_addr_t phys;
	size_t size;
	int level;
	unsigned int prot;
	u64 pte;
	struct swiommu_pgtable_fault fault;
};

/**
 * swiommu_io_pgtable_translate() - walk a table as the IOMMU hardware does.
 * @fmt: the table format the hardware implements.
 * @cfg: the configuration alloc_io_pgtable_ops() returned: the walker uses only what hardware is programmed
 *	with: the format's registers (TTBR/TCR/MAIR, VTTBR/VTCR, v7s TTBR/PRRR/NMRR, Mali TRANSTAB/MEMATTR,
 *	DART TTBRs), @cfg->oas and @cfg->pgsize_bitmap where the format has no register for them (v7s, DART),
 *	the hardware traits among the quirks (ARM_TTBR1, NO_PERMS, ARM_MTK_EXT, ARM_MTK_TTBR_EXT,
 *	ARM_S2FWB) and @cfg->coherent_walk (with the register's cacheability: a non-coherent walk reads
 *	memory's view of RAM, so it sees a descriptor only after it was cleaned from the CPU cache).
 * @iova: the input address.
 * @access: SWIOMMU_PGTABLE_ACCESS_* flags.
 * @out: the result; filled on success and on a fault.
 *
 * Independent of the driver-side code: it decodes the registers and descriptors itself.
 *
 * Return: 0 with the translation in @out, -EFAULT with the fault record in @out->fault, -EINVAL for
 * NULL pointers, an unknown format or registers that describe no valid table, or -ENODEV when the
 * machine is down.
 */
int swiommu_io_pgtable_translate(enum io_pgtable_fmt fmt, const struct io_pgtable_cfg *cfg,
				 unsigned long iova, unsigned int access,
				 struct swiommu_pgtable_translation *out);

/**
 * struct swiommu_pgtable_walker - a walker with its registers latched, as an IOMMU latches its context
 *	registers when they are programmed: translations then skip decoding them. Opaque; valid until
 *	swiommu_exit().
 * @latched: the walker's state.
 */
struct swiommu_pgtable_walker {
	u64 latched[48];
};

/**
 * swiommu_io_pgtable_walker_init() - latch the registers of @cfg for @fmt into @walker.
 * @walker: storage for the latched walker.
 * @fmt: the table format the hardware implements.
 * @cfg: the configuration (as for swiommu_io_pgtable_translate()); read now, not kept.
 *
 * Return: 0, -EINVAL for NULL pointers, an unknown format or registers that describe no valid table, or
 * -ENODEV when the machine is down.
 */
int swiommu_io_pgtable_walker_init(struct swiommu_pgtable_walker *walker, enum io_pgtable_fmt fmt,
				   const struct io_pgtable_cfg *cfg);

/**
 * swiommu_io_pgtable_walker_translate() - swiommu_io_pgtable_translate() with latched registers.
 * @walker: a walker from swiommu_io_pgtable_walker_init().
 * @iova: the input address.
 * @access: SWIOMMU_PGTABLE_ACCESS_* flags.
 * @out: the result; filled on success and on a fault.
 *
 * Return: 0, -EFAULT with the fault record in @out->fault, -EINVAL for NULL pointers or a @walker that was
 * never initialised, or -ENODEV when the machine is down or was restarted since the walker was latched.
 */
int swiommu_io_pgtable_walker_translate(const struct swiommu_pgtable_walker *walker, unsigned long iova,
					unsigned int access, struct swiommu_pgtable_translation *out);

/**
 * swiommu_io_pgtable_dump() - describe a table as text: a header line, then one line per valid descriptor
 *	("L2[003] 0x0000000000600000-0x00000000007fffff 0x00e0000880200f41 block -> 0x880200000 ..."),
 *	indented by level, as the CPU sees the tables.
 * @ops: live ops from alloc_io_pgtable_ops().
 * @buf: where to write, NUL-terminated and truncated to @size (may be NULL when @size is 0).
 * @size: bytes available at @buf.
 *
 * Return: the length of the whole text (as snprintf(): call with @size 0 to learn it), or -EINVAL for ops
 * that are not live.
 */
long swiommu_io_pgtable_dump(struct io_pgtable_ops *ops, char *buf, size_t size);

/**
 * swiommu_io_pgtable_split_blocks() - choose how a partial unmap of a block is handled.
 * @ops: live ops, or NULL to set the default for tables allocated from now on (initially false).
 * @split: false: refuse with a WARN and 0 bytes, as Linux 6.17 does; true: split the block into a
 *	next-level table and unmap the part asked for, as Linux 6.6-6.12 did (arm_lpae_split_blk_unmap,
 *	arm_v7s_split_blk_unmap and arm_v7s_split_cont). DART has no blocks.
 *
 * Return: 0, or -EINVAL for ops that are not live.
 */
int swiommu_io_pgtable_split_blocks(struct io_pgtable_ops *ops, bool split);

/**
 * struct swiommu_io_pgtable_stats - the memory a table uses and the cache maintenance it did.
 * @table_bytes: simulated RAM held by table pages (whole pages, as iommu_alloc_pages_node_sz() rounds up;
 *	v7s level-2 tables are 1 KiB kmalloc objects).
 * @tables: tables allocated (the top level included).
 * @side_bytes: memory outside the tables: the struct io_pgtable and the format's private data.
 * @syncs: dma_sync_single_for_device()/dma_map_single() cleans issued for a non-coherent walker.
 */
struct swiommu_io_pgtable_stats {
	u64 table_bytes;
	u64 tables;
	u64 side_bytes;
	u64 syncs;
};

/**
 * swiommu_io_pgtable_get_stats() - read a table's statistics.
 * @ops: live ops.
 * @stats: where to store them.
 *
 * Return: 0, or -EINVAL for NULL @stats or ops that are not live.
 */
int swiommu_io_pgtable_get_stats(struct io_pgtable_ops *ops, struct swiommu_io_pgtable_stats *stats);

/**
 * swiommu_io_pgtable_pgsize() - the page size the IOMMU core picks for the next chunk of a mapping
 *	(Linux 6.17's iommu_pgsize()): the largest size of @pgsize_bitmap that fits @size and the alignment of
 *	@iova and @paddr, and how many such pages to map before a larger size becomes possible.
 * @pgsize_bitmap: the supported page sizes.
 * @iova: where the chunk starts.
 * @paddr: its physical address.
 * @size: bytes left to map.
 * @count: where to store the page count, or NULL.
 *
 * Return: the page size, or 0 when no size fits (Linux BUG()s; swiommu refuses).
 */
size_t swiommu_io_pgtable_pgsize(unsigned long pgsize_bitmap, unsigned long iova, phys_addr_t paddr,
				 size_t size, size_t *count);

/*
 * The functions behind io_pgtable_ops, per format family (call them through the ops). They behave as
 * described at alloc_io_pgtable_ops().
 */
int swiommu_arm_lpae_map_pages(struct io_pgtable_ops *ops, unsigned long iova, phys_addr_t paddr,
			       size_t pgsize, size_t pgcount, int prot, gfp_t gfp, size_t *mapped);
size_t swiommu_arm_lpae_unmap_pages(struct io_pgtable_ops *ops, unsigned long iova, size_t pgsize,
				    size_t pgcount, struct iommu_iotlb_gather *gather);
phys_addr_t swiommu_arm_lpae_iova_to_phys(struct io_pgtable_ops *ops, unsigned long iova);
int swiommu_arm_lpae_pgtable_walk(struct io_pgtable_ops *ops, unsigned long iova, void *wd);
int swiommu_arm_v7s_map_pages(struct io_pgtable_ops *ops, unsigned long iova, phys_addr_t paddr,
			      size_t pgsize, size_t pgcount, int prot, gfp_t gfp, size_t *mapped);
size_t swiommu_arm_v7s_unmap_pages(struct io_pgtable_ops *ops, unsigned long iova, size_t pgsize,
				   size_t pgcount, struct iommu_iotlb_gather *gather);
phys_addr_t swiommu_arm_v7s_iova_to_phys(struct io_pgtable_ops *ops, unsigned long iova);
int swiommu_dart_map_pages(struct io_pgtable_ops *ops, unsigned long iova, phys_addr_t paddr,
			   size_t pgsize, size_t pgcount, int prot, gfp_t gfp, size_t *mapped);
size_t swiommu_dart_unmap_pages(struct io_pgtable_ops *ops, unsigned long iova, size_t pgsize,
				size_t pgcount, struct iommu_iotlb_gather *gather);
phys_addr_t swiommu_dart_iova_to_phys(struct io_pgtable_ops *ops, unsigned long iova);

#endif /* _SWIOMMU_IO_PGTABLE_H */
