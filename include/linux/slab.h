/* SPDX-License-Identifier: MIT */
/* kmalloc and friends, mirroring the kernel's linux/slab.h (Linux 6.17) for swiommu. */
#ifndef _LINUX_SLAB_H
#define _LINUX_SLAB_H

#include <linux/types.h>
#include <linux/gfp.h>
#include <linux/overflow.h>
#include <swiommu/alloc_tag.h>

/* kmalloc size classes: 8 .. 2 * PAGE_SIZE from caches, larger from the page allocator (kmalloc_large). */
#define KMALLOC_SHIFT_LOW	3
#define KMALLOC_SHIFT_HIGH	(PAGE_SHIFT + 1)
#define KMALLOC_MAX_CACHE_SIZE	(1UL << KMALLOC_SHIFT_HIGH)
#define KMALLOC_MAX_SIZE	(1UL << (MAX_PAGE_ORDER + PAGE_SHIFT))
#define KMALLOC_MIN_SIZE	(1 << KMALLOC_SHIFT_LOW)
#define ZERO_SIZE_PTR		((void *)16)
#define ZERO_OR_NULL_PTR(x)	((unsigned long)(x) <= (unsigned long)ZERO_SIZE_PTR)

/**
 * kmalloc_noprof() - allocate simulated RAM for a kernel object.
 * @size: bytes; 0 gives ZERO_SIZE_PTR, as in the kernel.
 * @flags: GFP flags (__GFP_ZERO zeroes, __GFP_DMA32/__GFP_DMA keep it below 4 GiB).
 *
 * Sizes up to KMALLOC_MAX_CACHE_SIZE come from the caches kmalloc-8 ... kmalloc-8k (with kmalloc-96 and
 * kmalloc-192): power-of-two sizes are naturally aligned, every object at least ARCH_KMALLOC_MINALIGN.
 * Larger sizes take whole pages. Every byte has a simulated physical address (virt_to_phys()).
 * Use kmalloc(), which records the call site for the leak report.
 *
 * Return: the object, ZERO_SIZE_PTR for size 0, or NULL when @size exceeds KMALLOC_MAX_SIZE (with a WARN
 * unless __GFP_NOWARN), memory is exhausted, swiommu is not initialised, or fault injection ("kmalloc")
 * fails the call.
 */
void *kmalloc_noprof(size_t size, gfp_t flags);
#define kmalloc(...)		alloc_hooks(kmalloc_noprof(__VA_ARGS__))
#define kzalloc(_size, _flags)	kmalloc((_size), (_flags) | __GFP_ZERO)
#define kzalloc_noprof(_size, _flags) kmalloc_noprof((_size), (_flags) | __GFP_ZERO)

/**
 * kmalloc_array_noprof() - allocate an array of @n elements of @size bytes.
 * @n: element count.
 * @size: element size.
 * @flags: GFP flags.
 *
 * Return: the array, or NULL when @n * @size overflows, or on kmalloc_noprof()'s failures.
 */
static inline void *kmalloc_array_noprof(size_t n, size_t size, gfp_t flags)
{
	size_t bytes;

	if (__builtin_mul_overflow(n, size, &bytes))
		return NULL;
	return kmalloc_noprof(bytes, flags);
}
#define kmalloc_array(...)	alloc_hooks(kmalloc_array_noprof(__VA_ARGS__))
#define kcalloc(_n, _size, _flags) kmalloc_array((_n), (_size), (_flags) | __GFP_ZERO)

/**
 * krealloc_noprof() - resize an object from kmalloc().
 * @p: the object, or NULL (then it is kmalloc_noprof()).
 * @new_size: the new size; 0 frees @p and returns ZERO_SIZE_PTR.
 * @flags: GFP flags; __GFP_ZERO zeroes the bytes beyond the old size.
 *
 * Return: the object, moved if it had to be, or NULL on failure, leaving @p untouched; an unknown @p is
 * reported with a WARN record and gives NULL.
 */
void *krealloc_noprof(const void *p, size_t new_size, gfp_t flags);
#define krealloc(...)		alloc_hooks(krealloc_noprof(__VA_ARGS__))

/**
 * kfree() - free an object from kmalloc() and friends.
 * @objp: the object; NULL and ZERO_SIZE_PTR are ignored.
 *
 * A double free, a pointer into the middle of an object, or memory that kmalloc did not hand out is
 * reported in the wording of SLUB's consistency checks ("Object already free", "Invalid object pointer",
 * "Attempt to free invalid pointer") with a WARN record, and ignored.
 */
void kfree(const void *objp);

/**
 * ksize() - the usable size of a kmalloc() object (its size class).
 * @objp: the object.
 *
 * Return: the bytes usable, or 0 for NULL, ZERO_SIZE_PTR or an unknown pointer (with a WARN record).
 */
size_t ksize(const void *objp);

/**
 * kmemdup_noprof() - duplicate a buffer into a new kmalloc() object.
 * @src: the bytes to copy.
 * @len: how many.
 * @gfp: GFP flags.
 *
 * Return: the copy, or NULL on kmalloc_noprof()'s failures.
 */
void *kmemdup_noprof(const void *src, size_t len, gfp_t gfp);
#define kmemdup(...)		alloc_hooks(kmemdup_noprof(__VA_ARGS__))

/**
 * kstrdup() - duplicate a string into a new kmalloc() object.
 * @s: the string (NULL gives NULL).
 * @gfp: GFP flags.
 *
 * Return: the copy, or NULL.
 */
char *kstrdup(const char *s, gfp_t gfp);

/**
 * kvmalloc_node_noprof() - kmalloc, falling back to vmalloc for large sizes.
 * @size: bytes.
 * @flags: GFP flags.
 * @node: NUMA node (ignored).
 *
 * Return: the memory, or NULL.
 */
void *kvmalloc_node_noprof(size_t size, gfp_t flags, int node);
#define kvmalloc(_size, _flags)	alloc_hooks(kvmalloc_node_noprof((_size), (_flags), -1))
#define kvzalloc(_size, _flags)	kvmalloc((_size), (_flags) | __GFP_ZERO)

/**
 * kvfree() - free memory from kvmalloc(), whichever allocator served it.
 * @addr: the memory (NULL is ignored).
 */
void kvfree(const void *addr);

#endif /* _LINUX_SLAB_H */
