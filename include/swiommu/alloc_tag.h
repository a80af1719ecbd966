/* SPDX-License-Identifier: MIT */
/* Allocation sites for leak reports: swiommu's counterpart of the kernel's alloc_hooks()/codetag. */
#ifndef _SWIOMMU_ALLOC_TAG_H
#define _SWIOMMU_ALLOC_TAG_H

/**
 * struct swiommu_alloc_site - where an allocation was made, shown by the leak report.
 * @file: source file of the call
 * @func: function that made the call
 * @line: line of the call
 */
struct swiommu_alloc_site {
	const char *file;
	const char *func;
	int line;
};

/* The site of the allocation under way on this thread (NULL: unknown). Set by alloc_hooks(). */
extern __thread const struct swiommu_alloc_site *swiommu_alloc_site_current;

#define SWIOMMU_ALLOC_SITE ({							\
	static const struct swiommu_alloc_site __swiommu_site = {		\
		__FILE__, __func__, __LINE__ };					\
	&__swiommu_site; })

/*
 * alloc_hooks() - run an allocation with this call site recorded, as the kernel's memory allocation
 * profiling does (Linux 6.10+): kmalloc(), alloc_pages(), vmalloc() ... are macros around their
 * _noprof functions.
 */
#define alloc_hooks(_do_alloc) ({						\
	const struct swiommu_alloc_site *__swiommu_old = swiommu_alloc_site_current; \
	swiommu_alloc_site_current = SWIOMMU_ALLOC_SITE;			\
	__typeof__(_do_alloc) __swiommu_res = _do_alloc;			\
	swiommu_alloc_site_current = __swiommu_old;				\
	__swiommu_res; })

#endif /* _SWIOMMU_ALLOC_TAG_H */
