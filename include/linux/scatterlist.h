/* SPDX-License-Identifier: MIT */
/*
 * Scatter-gather lists, mirroring the kernel's linux/scatterlist.h (Linux 6.17) for swiommu, with
 * CONFIG_NEED_SG_DMA_LENGTH and CONFIG_NEED_SG_DMA_FLAGS set (as on arm64 with an IOMMU and swiotlb).
 * The out-of-line functions are lib/scatterlist.c's.
 */
#ifndef _LINUX_SCATTERLIST_H
#define _LINUX_SCATTERLIST_H

#include <string.h>
#include <sys/types.h>
#include <linux/types.h>
#include <linux/bug.h>
#include <linux/kernel.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <asm/io.h>

/**
 * struct scatterlist - one entry: a CPU range (page, offset, length) and, once mapped, its DMA segment.
 * @page_link: the page pointer, with SG_CHAIN and SG_END in its low bits.
 * @offset: offset of the data in the page.
 * @length: bytes.
 * @dma_address: the DMA address dma_map_sg() gave this segment (sg_dma_address()).
 * @dma_length: the DMA segment's length (sg_dma_len()); 0 ends the mapped segments.
 * @dma_flags: SG_DMA_BUS_ADDRESS, SG_DMA_SWIOTLB.
 */
struct scatterlist {
	unsigned long	page_link;
	unsigned int	offset;
	unsigned int	length;
	dma_addr_t	dma_address;
	unsigned int	dma_length;
	unsigned int	dma_flags;
};

#define sg_dma_address(sg)	((sg)->dma_address)
#define sg_dma_len(sg)		((sg)->dma_length)

/**
 * struct sg_table - a scatterlist and its entry counts.
 * @sgl: the list.
 * @nents: DMA segments after dma_map_sgtable() (may be fewer than @orig_nents after merging).
 * @orig_nents: CPU entries.
 */
struct sg_table {
	struct scatterlist *sgl;
	unsigned int nents;
	unsigned int orig_nents;
};

/**
 * struct sg_append_table - a table being built by sg_alloc_append_table_from_pages().
 * @sgt: the table.
 * @prv: the last populated entry.
 * @total_nents: entries allocated.
 */
struct sg_append_table {
	struct sg_table sgt;
	struct scatterlist *prv;
	unsigned int total_nents;
};

#define SG_CHAIN	0x01UL
#define SG_END		0x02UL
#define SG_PAGE_LINK_MASK (SG_CHAIN | SG_END)

static inline unsigned int __sg_flags(struct scatterlist *sg)
{
	return sg->page_link & SG_PAGE_LINK_MASK;
}

static inline struct scatterlist *sg_chain_ptr(struct scatterlist *sg)
{
	return (struct scatterlist *)(sg->page_link & ~SG_PAGE_LINK_MASK);
}

static inline bool sg_is_chain(struct scatterlist *sg)
{
	return __sg_flags(sg) & SG_CHAIN;
}

static inline bool sg_is_last(struct scatterlist *sg)
{
	return __sg_flags(sg) & SG_END;
}

/* The next entry: @sg + 1, or the first of a chained array; NULL after the last. */
static inline struct scatterlist *sg_next(struct scatterlist *sg)
{
	if (sg_is_last(sg))
		return NULL;
	sg++;
	if (__builtin_expect(sg_is_chain(sg), 0))
		sg = sg_chain_ptr(sg);
	return sg;
}

static inline void sg_assign_page(struct scatterlist *sg, struct page *page)
{
	unsigned long page_link = sg->page_link & (SG_CHAIN | SG_END);

	BUG_ON((unsigned long)page & SG_PAGE_LINK_MASK);
	sg->page_link = page_link | (unsigned long)page;
}

static inline void sg_set_page(struct scatterlist *sg, struct page *page, unsigned int len, unsigned int offset)
{
	sg_assign_page(sg, page);
	sg->offset = offset;
	sg->length = len;
}

static inline struct page *sg_page(struct scatterlist *sg)
{
	return (struct page *)(sg->page_link & ~SG_PAGE_LINK_MASK);
}

/* Point @sg at a linear-map buffer (kmalloc(), page_address(); not vmalloc()). */
static inline void sg_set_buf(struct scatterlist *sg, const void *buf, unsigned int buflen)
{
	sg_set_page(sg, virt_to_page(buf), buflen, offset_in_page(buf));
}

#define for_each_sg(sglist, sg, nr, __i)	\
	for (__i = 0, sg = (sglist); __i < (nr); __i++, sg = sg_next(sg))

/* Every CPU entry of a table (orig_nents). */
#define for_each_sgtable_sg(sgt, sg, i)		\
	for_each_sg((sgt)->sgl, sg, (sgt)->orig_nents, i)

/* Every DMA segment of a mapped table (nents): use sg_dma_address() and sg_dma_len(). */
#define for_each_sgtable_dma_sg(sgt, sg, i)	\
	for_each_sg((sgt)->sgl, sg, (sgt)->nents, i)

static inline void __sg_chain(struct scatterlist *chain_sg, struct scatterlist *sgl)
{
	chain_sg->offset = 0;
	chain_sg->length = 0;
	chain_sg->page_link = ((unsigned long)sgl | SG_CHAIN) & ~SG_END;
}

/* Link @sgl after @prv: @prv's last entry (of @prv_nents) becomes the chain link. */
static inline void sg_chain(struct scatterlist *prv, unsigned int prv_nents, struct scatterlist *sgl)
{
	__sg_chain(&prv[prv_nents - 1], sgl);
}

static inline void sg_mark_end(struct scatterlist *sg)
{
	sg->page_link |= SG_END;
	sg->page_link &= ~SG_CHAIN;
}

static inline void sg_unmark_end(struct scatterlist *sg)
{
	sg->page_link &= ~SG_END;
}

#define SG_DMA_BUS_ADDRESS	(1 << 0)
#define SG_DMA_SWIOTLB		(1 << 1)

static inline bool sg_dma_is_bus_address(struct scatterlist *sg)
{
	return sg->dma_flags & SG_DMA_BUS_ADDRESS;
}

static inline void sg_dma_mark_bus_address(struct scatterlist *sg)
{
	sg->dma_flags |= SG_DMA_BUS_ADDRESS;
}

static inline void sg_dma_unmark_bus_address(struct scatterlist *sg)
{
	sg->dma_flags &= ~SG_DMA_BUS_ADDRESS;
}

static inline bool sg_dma_is_swiotlb(struct scatterlist *sg)
{
	return sg->dma_flags & SG_DMA_SWIOTLB;
}

static inline void sg_dma_mark_swiotlb(struct scatterlist *sg)
{
	sg->dma_flags |= SG_DMA_SWIOTLB;
}

static inline dma_addr_t sg_phys(struct scatterlist *sg)
{
	return page_to_phys(sg_page(sg)) + sg->offset;
}

static inline void *sg_virt(struct scatterlist *sg)
{
	return (char *)page_address(sg_page(sg)) + sg->offset;
}

static inline void sg_init_marker(struct scatterlist *sgl, unsigned int nents)
{
	sg_mark_end(&sgl[nents - 1]);
}

/**
 * sg_nents() - entries in a list, following chains, up to the end mark.
 * @sg: the first entry.
 *
 * Return: the count (0 for a NULL @sg).
 */
int sg_nents(struct scatterlist *sg);

/**
 * sg_nents_for_len() - entries needed to cover @len bytes.
 * @sg: the first entry.
 * @len: bytes.
 *
 * Return: the count, 0 for @len 0, or -EINVAL when the list is shorter than @len.
 */
int sg_nents_for_len(struct scatterlist *sg, u64 len);

/**
 * sg_last() - the last entry of a list of @nents entries (following chains).
 * @s: the first entry.
 * @nents: entries.
 *
 * Return: the entry.
 */
struct scatterlist *sg_last(struct scatterlist *s, unsigned int nents);

/**
 * sg_init_table() - zero @nents entries and mark the last as the end.
 * @sgl: the array.
 * @nents: entries (at least 1).
 */
void sg_init_table(struct scatterlist *sgl, unsigned int nents);

/**
 * sg_init_one() - a one-entry list over a linear-map buffer.
 * @sg: the entry.
 * @buf: the buffer.
 * @buflen: bytes.
 */
void sg_init_one(struct scatterlist *sg, const void *buf, unsigned int buflen);

/**
 * sg_free_table() - free the entries sg_alloc_table() allocated (the table itself stays the caller's).
 * @table: the table; freeing an already freed (zeroed) table does nothing.
 */
void sg_free_table(struct sg_table *table);

/**
 * sg_free_append_table() - free a table built with sg_alloc_append_table_from_pages().
 * @sgt: the append table.
 */
void sg_free_append_table(struct sg_append_table *sgt);

/**
 * sg_alloc_table() - allocate a list of @nents entries, in chained chunks of SG_MAX_SINGLE_ALLOC.
 * @table: filled in: sgl, and nents = orig_nents = @nents.
 * @nents: entries.
 * @gfp_mask: allocation flags.
 *
 * Return: 0; -EINVAL for @nents 0; -ENOMEM when an allocation fails (what was allocated is freed).
 */
int sg_alloc_table(struct sg_table *table, unsigned int nents, gfp_t gfp_mask);

/**
 * sg_alloc_append_table_from_pages() - append pages to a table, merging physically contiguous ones.
 * @sgt: the append table (zeroed before the first call).
 * @pages: page pointers.
 * @n_pages: how many.
 * @offset: offset of the data in the first page.
 * @size: bytes of data.
 * @max_segment: the longest entry (rounded down to PAGE_SIZE; at least PAGE_SIZE).
 * @left_pages: pages that later calls will append (0 on the last call).
 * @gfp_mask: allocation flags.
 *
 * Return: 0; -EINVAL for a @max_segment below PAGE_SIZE, or appending to a table whose last entry does
 * not end on a page boundary; -ENOMEM.
 */
int sg_alloc_append_table_from_pages(struct sg_append_table *sgt, struct page **pages, unsigned int n_pages,
				     unsigned int offset, unsigned long size, unsigned int max_segment,
				     unsigned int left_pages, gfp_t gfp_mask);

/**
 * sg_alloc_table_from_pages_segment() - a table over @pages, physically contiguous runs merged into
 * entries of at most @max_segment bytes.
 * @sgt: the table to fill in.
 * @pages: page pointers.
 * @n_pages: how many.
 * @offset: offset of the data in the first page.
 * @size: bytes of data.
 * @max_segment: the longest entry (rounded down to PAGE_SIZE; at least PAGE_SIZE).
 * @gfp_mask: allocation flags.
 *
 * Return: 0; -EINVAL for a @max_segment below PAGE_SIZE; -ENOMEM.
 */
int sg_alloc_table_from_pages_segment(struct sg_table *sgt, struct page **pages, unsigned int n_pages,
				      unsigned int offset, unsigned long size, unsigned int max_segment,
				      gfp_t gfp_mask);

/**
 * sg_alloc_table_from_pages() - sg_alloc_table_from_pages_segment() with no segment limit.
 * @sgt: the table to fill in.
 * @pages: page pointers.
 * @n_pages: how many.
 * @offset: offset of the data in the first page.
 * @size: bytes of data.
 * @gfp_mask: allocation flags.
 *
 * Return: 0 or -ENOMEM.
 */
static inline int sg_alloc_table_from_pages(struct sg_table *sgt, struct page **pages, unsigned int n_pages,
					    unsigned int offset, unsigned long size, gfp_t gfp_mask)
{
	return sg_alloc_table_from_pages_segment(sgt, pages, n_pages, offset, size, UINT_MAX, gfp_mask);
}

/**
 * sg_copy_buffer() - copy between a linear buffer and the data a list describes.
 * @sgl: the list.
 * @nents: its entries.
 * @buf: the buffer.
 * @buflen: bytes to copy at most.
 * @skip: bytes of the list to skip first.
 * @to_buffer: true copies list -> buffer, false buffer -> list.
 *
 * Return: bytes copied (fewer than @buflen when the list ends first).
 */
size_t sg_copy_buffer(struct scatterlist *sgl, unsigned int nents, void *buf, size_t buflen, off_t skip,
		      bool to_buffer);

/**
 * sg_copy_from_buffer() - copy a buffer into the list's data.
 * @sgl: the list.
 * @nents: its entries.
 * @buf: the source.
 * @buflen: bytes.
 *
 * Return: bytes copied.
 */
size_t sg_copy_from_buffer(struct scatterlist *sgl, unsigned int nents, const void *buf, size_t buflen);

/**
 * sg_copy_to_buffer() - copy the list's data into a buffer.
 * @sgl: the list.
 * @nents: its entries.
 * @buf: the destination.
 * @buflen: bytes.
 *
 * Return: bytes copied.
 */
size_t sg_copy_to_buffer(struct scatterlist *sgl, unsigned int nents, void *buf, size_t buflen);

/**
 * sg_pcopy_from_buffer() - sg_copy_from_buffer() starting @skip bytes into the list.
 * @sgl: the list.
 * @nents: its entries.
 * @buf: the source.
 * @buflen: bytes.
 * @skip: bytes to skip.
 *
 * Return: bytes copied.
 */
size_t sg_pcopy_from_buffer(struct scatterlist *sgl, unsigned int nents, const void *buf, size_t buflen,
			    off_t skip);

/**
 * sg_pcopy_to_buffer() - sg_copy_to_buffer() starting @skip bytes into the list.
 * @sgl: the list.
 * @nents: its entries.
 * @buf: the destination.
 * @buflen: bytes.
 * @skip: bytes to skip.
 *
 * Return: bytes copied.
 */
size_t sg_pcopy_to_buffer(struct scatterlist *sgl, unsigned int nents, void *buf, size_t buflen, off_t skip);

/**
 * sg_zero_buffer() - zero @buflen bytes of the list's data from @skip.
 * @sgl: the list.
 * @nents: its entries.
 * @buflen: bytes.
 * @skip: bytes to skip.
 *
 * Return: bytes zeroed.
 */
size_t sg_zero_buffer(struct scatterlist *sgl, unsigned int nents, size_t buflen, off_t skip);

/* Entries sg_alloc_table() allocates in one piece; longer lists are chained. */
#define SG_MAX_SINGLE_ALLOC	(PAGE_SIZE / sizeof(struct scatterlist))
#define SG_CHUNK_SIZE		128
#define SG_MAX_SEGMENTS		2048

/**
 * struct sg_page_iter - a page-by-page walk of a list.
 * @sg: the entry holding the current page.
 * @sg_pgoffset: the page's index inside that entry.
 * @__nents: entries left (internal).
 * @__pg_advance: pages to advance at the next step (internal).
 */
struct sg_page_iter {
	struct scatterlist *sg;
	unsigned int sg_pgoffset;
	unsigned int __nents;
	int __pg_advance;
};

/**
 * struct sg_dma_page_iter - a page-by-page walk of a list's DMA segments.
 * @base: the walk.
 */
struct sg_dma_page_iter {
	struct sg_page_iter base;
};

/**
 * __sg_page_iter_start() - start a page walk.
 * @piter: the iterator.
 * @sglist: the list.
 * @nents: entries to walk.
 * @pgoffset: pages to skip first.
 */
void __sg_page_iter_start(struct sg_page_iter *piter, struct scatterlist *sglist, unsigned int nents,
			  unsigned long pgoffset);

/**
 * __sg_page_iter_next() - step to the next CPU page.
 * @piter: the iterator.
 *
 * Return: false when the walk is over.
 */
bool __sg_page_iter_next(struct sg_page_iter *piter);

/**
 * __sg_page_iter_dma_next() - step to the next DMA page (by sg_dma_len()).
 * @dma_iter: the iterator.
 *
 * Return: false when the walk is over.
 */
bool __sg_page_iter_dma_next(struct sg_dma_page_iter *dma_iter);

static inline struct page *sg_page_iter_page(struct sg_page_iter *piter)
{
	return nth_page(sg_page(piter->sg), piter->sg_pgoffset);
}

static inline dma_addr_t sg_page_iter_dma_address(struct sg_dma_page_iter *dma_iter)
{
	return sg_dma_address(dma_iter->base.sg) + ((dma_addr_t)dma_iter->base.sg_pgoffset << PAGE_SHIFT);
}

#define for_each_sg_page(sglist, piter, nents, pgoffset)		   \
	for (__sg_page_iter_start((piter), (sglist), (nents), (pgoffset)); \
	     __sg_page_iter_next(piter);)

#define for_each_sg_dma_page(sglist, dma_iter, dma_nents, pgoffset)		\
	for (__sg_page_iter_start(&(dma_iter)->base, sglist, dma_nents, pgoffset); \
	     __sg_page_iter_dma_next(dma_iter);)

#define for_each_sgtable_page(sgt, piter, pgoffset)	\
	for_each_sg_page((sgt)->sgl, piter, (sgt)->orig_nents, pgoffset)

#define for_each_sgtable_dma_page(sgt, dma_iter, pgoffset)	\
	for_each_sg_dma_page((sgt)->sgl, dma_iter, (sgt)->nents, pgoffset)

#endif /* _LINUX_SCATTERLIST_H */
