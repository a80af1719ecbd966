/* SPDX-License-Identifier: MIT */
/* Fault injection: make the nth call at a point fail, to drive error paths (the kernel's fail-nth). */
#ifndef _SWIOMMU_FAULT_INJECT_H
#define _SWIOMMU_FAULT_INJECT_H

/**
 * swiommu_fail_nth() - make the @nth call (counting from 1, from now) at @point fail, once.
 * @point: "kmalloc", "alloc_pages", "vmalloc", or "iova": alloc_iova() returns NULL and alloc_iova_fast()
 *         returns 0, changing nothing (each call of either counts once; alloc_iova_fast()'s own use of the
 *         tree does not count). Later layers add "iommu_map", "swiotlb", "attach".
 * @nth: 1 for the next call; 0 disarms the point.
 *
 * Return: 0, or -EINVAL for an unknown point (with a message naming it).
 */
int swiommu_fail_nth(const char *point, unsigned long nth);

#endif /* _SWIOMMU_FAULT_INJECT_H */
