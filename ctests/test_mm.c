// SPDX-License-Identifier: MIT
// The memory API on its success paths: the page allocator, the linear map, kmalloc's size classes,
// krealloc and friends, kvmalloc, vmalloc/vmap, the allocators' counters and leak checks, the CPU cache
// model of non-coherent DMA, and booting the machine again and again. Every test boots its own machine.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/errno.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <asm/io.h>
#include <linux/swiotlb.h>
#include <swiommu/swiommu.h>
#include "swiommu_test.h"

#define SZ_4G		(1ULL << 32)
#define BANK0_START	0x80000000ULL
#define BANK1_START	0x880000000ULL
#define BANK_SIZE	0x80000000ULL

/* What SLUB's kmalloc_index() picks for @size: kmalloc-8 ... kmalloc-8k, with kmalloc-96 and -192. */
static size_t kmalloc_class(size_t size)
{
	static const size_t small[] = { 8, 16, 32, 64, 96, 128, 192 };
	size_t c = 256;

	for (size_t i = 0; i < sizeof(small) / sizeof(small[0]); i++)
		if (size <= small[i])
			return small[i];
	while (c < size)
		c <<= 1;
	return c;
}

static bool in_bank1(phys_addr_t pa, u64 size)
{
	return pa >= BANK1_START && pa + size <= BANK1_START + BANK_SIZE;
}

static bool below_4g(phys_addr_t pa, u64 size)
{
	return pa >= BANK0_START && pa + size <= SZ_4G;
}

static bool all_bytes(const void *p, int c, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != (unsigned char)c)
			return false;
	return true;
}

static struct swiommu_mem_stats stats(void)
{
	struct swiommu_mem_stats s;

	memset(&s, 0xff, sizeof(s));
	assert_int_equal(swiommu_mem_get_stats(&s), 0);
	return s;
}

/* ------------------------------------------------------------------------------------------------ */
/* The machine */

static void machine_is_up_with_4k_pages(void **state)
{
	(void)state;
	assert_true(swiommu_is_up());
	assert_int_equal(swiommu_page_shift(), 12);
	assert_int_equal(PAGE_SHIFT, 12);
	assert_int_equal(PAGE_SIZE, 4096);
	assert_int_equal(MAX_PAGE_ORDER, 10);
	assert_non_null(swiommu_version());
	assert_true(strlen(swiommu_version()) > 0);
	/* Nothing is allocated by booting the machine. */
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

static void ram_banks_sit_below_and_above_4g(void **state)
{
	phys_addr_t start = 0;
	u64 size = 0;

	(void)state;
	assert_int_equal(swiommu_ram_bank(0, &start, &size), 0);
	assert_int_equal(start, BANK0_START);
	assert_int_equal(size, BANK_SIZE);
	assert_int_equal(swiommu_ram_bank(1, &start, &size), 0);
	assert_int_equal(start, BANK1_START);
	assert_int_equal(size, BANK_SIZE);
	assert_int_equal(swiommu_ram_bank(2, &start, &size), -ENOENT);
	assert_int_equal(swiommu_ram_bank(0, NULL, &size), -EINVAL);
	assert_int_equal(swiommu_ram_bank(0, &start, NULL), -EINVAL);

	struct swiommu_mem_stats s = stats();

	assert_int_equal(s.ram_bytes, 2 * BANK_SIZE);
	assert_true(s.free_bytes <= s.ram_bytes);
	/* Boot takes little besides the swiotlb pool (reserved below 4 GiB, as memblock gives it). */
	assert_true(s.free_bytes > s.ram_bytes - (64ULL << 20) - swiotlb_size_or_default());
	assert_int_equal(s.page_blocks, 0);
	assert_int_equal(s.kmalloc_objects, 0);
	assert_int_equal(s.vmalloc_areas, 0);
	assert_int_equal(s.vmap_areas, 0);
}

static void init_and_exit_repeat_in_one_process(void **state)
{
	(void)state;
	for (int round = 0; round < 5; round++) {
		phys_addr_t start;
		u64 size;
		struct swiommu_mem_stats s;

		swiommu_exit();
		assert_false(swiommu_is_up());
		assert_int_equal(swiommu_page_shift(), 0);
		assert_int_equal(swiommu_mem_get_stats(&s), -ENODEV);
		assert_int_equal(swiommu_mem_check_leaks(false), -ENODEV);
		assert_int_equal(swiommu_ram_bank(0, &start, &size), -ENODEV);
		/* exit on a machine that is down does nothing */
		swiommu_exit();
		assert_false(swiommu_is_up());

		assert_int_equal(swiommu_init(NULL), 0);
		assert_true(swiommu_is_up());
		assert_int_equal(swiommu_page_shift(), 12);
		s = stats();
		assert_int_equal(s.kmalloc_objects, 0);
		assert_int_equal(s.page_blocks, 0);

		char *p = kmalloc(100, GFP_KERNEL);
		struct page *pg = alloc_pages(GFP_KERNEL, 2);
		void *v = vmalloc(3 * PAGE_SIZE);

		assert_non_null(p);
		assert_non_null(pg);
		assert_non_null(v);
		snprintf(p, 100, "round %d", round);
		assert_string_equal(phys_to_virt(virt_to_phys(p)), p);
		assert_int_equal(swiommu_mem_check_leaks(false), 3);
		kfree(p);
		__free_pages(pg, 2);
		vfree(v);
		assert_int_equal(swiommu_mem_check_leaks(false), 0);
	}
	assert_int_equal(swiommu_warn_count(), 0);
}

/* ------------------------------------------------------------------------------------------------ */
/* The page allocator */

static void alloc_pages_every_order_is_naturally_aligned(void **state)
{
	(void)state;
	for (unsigned int order = 0; order <= MAX_PAGE_ORDER; order++) {
		u64 bytes = PAGE_SIZE << order;
		struct page *pg = alloc_pages(GFP_KERNEL, order);

		assert_non_null(pg);
		phys_addr_t pa = page_to_phys(pg);

		assert_int_equal(pa % bytes, 0);
		/* GFP_KERNEL: ZONE_NORMAL (RAM above 4 GiB) comes first in the zonelist. */
		assert_true(in_bank1(pa, bytes));
		/* The block's struct pages are consecutive, and so are their frames. */
		assert_int_equal(page_to_phys(nth_page(pg, (1 << order) - 1)), pa + bytes - PAGE_SIZE);
		unsigned char *va = page_address(pg);

		assert_non_null(va);
		assert_true(PAGE_ALIGNED(va));
		va[0] = 0x11;
		va[bytes - 1] = 0x22;
		assert_int_equal(*(unsigned char *)phys_to_virt(pa), 0x11);
		assert_int_equal(*(unsigned char *)phys_to_virt(pa + bytes - 1), 0x22);
		assert_int_equal(swiommu_mem_check_leaks(false), 1);
		__free_pages(pg, order);
		assert_int_equal(swiommu_mem_check_leaks(false), 0);
	}
	assert_int_equal(swiommu_warn_count(), 0);
}

static void alloc_pages_dma32_and_dma_stay_below_4g(void **state)
{
	static const unsigned int orders[] = { 0, 1, 3, 7, MAX_PAGE_ORDER };

	(void)state;
	for (size_t i = 0; i < sizeof(orders) / sizeof(orders[0]); i++) {
		u64 bytes = PAGE_SIZE << orders[i];
		struct page *a = alloc_pages(GFP_KERNEL | GFP_DMA32, orders[i]);
		struct page *b = alloc_pages(GFP_KERNEL | GFP_DMA, orders[i]);
		struct page *c = alloc_pages(GFP_KERNEL, orders[i]);

		assert_non_null(a);
		assert_non_null(b);
		assert_non_null(c);
		assert_true(below_4g(page_to_phys(a), bytes));
		assert_true(below_4g(page_to_phys(b), bytes));
		assert_true(in_bank1(page_to_phys(c), bytes));
		assert_int_equal(page_to_phys(a) % bytes, 0);
		assert_int_equal(page_to_phys(b) % bytes, 0);
		__free_pages(a, orders[i]);
		__free_pages(b, orders[i]);
		__free_pages(c, orders[i]);
	}
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

static void gfp_zero_zeroes_pages(void **state)
{
	(void)state;
	/* Dirty some blocks and give them back, so the zeroed ones are likely the same frames. */
	struct page *dirty[4];

	for (int i = 0; i < 4; i++) {
		dirty[i] = alloc_pages(GFP_KERNEL, 2);
		assert_non_null(dirty[i]);
		memset(page_address(dirty[i]), 0xa5, 4 * PAGE_SIZE);
	}
	for (int i = 0; i < 4; i++)
		__free_pages(dirty[i], 2);

	for (int i = 0; i < 4; i++) {
		dirty[i] = alloc_pages(GFP_KERNEL | __GFP_ZERO, 2);
		assert_non_null(dirty[i]);
		assert_true(all_bytes(page_address(dirty[i]), 0, 4 * PAGE_SIZE));
	}
	for (int i = 0; i < 4; i++)
		__free_pages(dirty[i], 2);

	unsigned long a = __get_free_page(GFP_KERNEL);

	assert_int_not_equal(a, 0);
	memset((void *)a, 0x5a, PAGE_SIZE);
	free_page(a);
	unsigned long z = get_zeroed_page(GFP_KERNEL);

	assert_int_not_equal(z, 0);
	assert_true(all_bytes((void *)z, 0, PAGE_SIZE));
	free_page(z);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

static void get_free_pages_returns_linear_map_addresses(void **state)
{
	(void)state;
	struct swiommu_mem_stats s0 = stats();
	unsigned long addr = __get_free_pages(GFP_KERNEL, 3);

	assert_int_not_equal(addr, 0);
	assert_true(PAGE_ALIGNED(addr));
	assert_true(virt_addr_valid((void *)addr));
	phys_addr_t pa = virt_to_phys((void *)addr);

	assert_int_equal(pa % (8 * PAGE_SIZE), 0);
	assert_true(in_bank1(pa, 8 * PAGE_SIZE));
	assert_ptr_equal(page_address(virt_to_page((void *)addr)), (void *)addr);
	memset((void *)addr, 0x3c, 8 * PAGE_SIZE);
	assert_true(all_bytes(phys_to_virt(pa), 0x3c, 8 * PAGE_SIZE));

	struct swiommu_mem_stats s1 = stats();

	assert_int_equal(s1.page_blocks, s0.page_blocks + 1);
	assert_int_equal(s1.page_bytes, s0.page_bytes + 8 * PAGE_SIZE);
	assert_int_equal(s1.free_bytes, s0.free_bytes - 8 * PAGE_SIZE);
	free_pages(addr, 3);

	struct swiommu_mem_stats s2 = stats();

	assert_int_equal(s2.page_blocks, s0.page_blocks);
	assert_int_equal(s2.page_bytes, s0.page_bytes);
	assert_int_equal(s2.free_bytes, s0.free_bytes);

	unsigned long low = __get_free_page(GFP_DMA32);

	assert_int_not_equal(low, 0);
	assert_true(below_4g(virt_to_phys((void *)low), PAGE_SIZE));
	free_page(low);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
	assert_int_equal(swiommu_warn_count(), 0);
}

static void linear_map_conversions_round_trip(void **state)
{
	int on_stack = 0;

	(void)state;
	struct page *pg = alloc_pages(GFP_KERNEL, 1);

	assert_non_null(pg);
	char *va = page_address(pg);
	phys_addr_t pa = page_to_phys(pg);
	unsigned long pfn = page_to_pfn(pg);

	assert_non_null(va);
	assert_int_equal(pfn, pa >> PAGE_SHIFT);
	assert_int_equal(PFN_PHYS(pfn), pa);
	assert_int_equal(PHYS_PFN(pa), pfn);
	assert_ptr_equal(pfn_to_page(pfn), pg);
	assert_ptr_equal(pfn_to_page(pfn + 1), nth_page(pg, 1));
	assert_ptr_equal(virt_to_page(va), pg);
	assert_ptr_equal(virt_to_page(va + PAGE_SIZE + 123), nth_page(pg, 1));
	assert_int_equal(virt_to_phys(va + 100), pa + 100);
	assert_int_equal(__pa(va + PAGE_SIZE + 7), pa + PAGE_SIZE + 7);
	assert_ptr_equal(phys_to_virt(pa + 100), va + 100);
	assert_ptr_equal(__va(pa + 5), va + 5);
	assert_int_equal(virt_to_pfn(va + PAGE_SIZE), pfn + 1);
	assert_ptr_equal(page_address(pfn_to_page(PHYS_PFN(virt_to_phys(va + 300)))), va);
	assert_int_equal(offset_in_page(va + PAGE_SIZE + 9), 9);
	assert_true(virt_addr_valid(va));
	assert_false(virt_addr_valid(&on_stack));

	/* Both banks: the first frame of each. */
	assert_int_equal(page_to_phys(pfn_to_page(BANK0_START >> PAGE_SHIFT)), BANK0_START);
	assert_int_equal(page_to_phys(pfn_to_page(BANK1_START >> PAGE_SHIFT)), BANK1_START);
	assert_int_equal(page_to_pfn(pfn_to_page((BANK1_START + BANK_SIZE) / PAGE_SIZE - 1)),
			 (BANK1_START + BANK_SIZE) / PAGE_SIZE - 1);

	/* The same bytes through both addresses. */
	strcpy(va + 64, "through the linear map");
	assert_string_equal(phys_to_virt(pa + 64), "through the linear map");
	strcpy(phys_to_virt(pa + PAGE_SIZE), "second page");
	assert_string_equal(va + PAGE_SIZE, "second page");
	__free_pages(pg, 1);

	/* kmalloc memory sits in the linear map too. */
	char *obj = kmalloc(48, GFP_KERNEL);

	assert_non_null(obj);
	phys_addr_t opa = virt_to_phys(obj);

	assert_true(in_bank1(opa, 48));
	assert_ptr_equal(phys_to_virt(opa), obj);
	assert_int_equal(page_to_phys(virt_to_page(obj)) + offset_in_page(obj), opa);
	kfree(obj);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
	assert_int_equal(swiommu_warn_count(), 0);
}

/* ------------------------------------------------------------------------------------------------ */
/* kmalloc */

static void ksize_follows_slub_kmalloc_caches(void **state)
{
	(void)state;
	for (size_t size = 1; size <= 8192; size++) {
		void *p = kmalloc(size, GFP_KERNEL);

		assert_non_null(p);
		if (ksize(p) != kmalloc_class(size))
			fail_msg("ksize(kmalloc(%zu)) = %zu, expected %zu", size, ksize(p), kmalloc_class(size));
		kfree(p);
	}
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
	assert_int_equal(swiommu_warn_count(), 0);
}

static void kmalloc_power_of_two_sizes_are_naturally_aligned(void **state)
{
	void *objs[6];

	(void)state;
	for (size_t size = 8; size <= 8192; size <<= 1) {
		for (int i = 0; i < 6; i++) {
			objs[i] = kmalloc(size, GFP_KERNEL);
			assert_non_null(objs[i]);
			if ((uintptr_t)objs[i] % size != 0)
				fail_msg("kmalloc(%zu) = %p is not aligned to %zu", size, objs[i], size);
			assert_int_equal(virt_to_phys(objs[i]) % size, 0);
		}
		for (int i = 0; i < 6; i++)
			kfree(objs[i]);
	}
	/* Every object is at least ARCH_KMALLOC_MINALIGN aligned. */
	static const size_t odd[] = { 1, 7, 9, 24, 65, 96, 100, 150, 192, 300, 1000, 5000 };

	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		for (int j = 0; j < 6; j++) {
			objs[j] = kmalloc(odd[i], GFP_KERNEL);
			assert_non_null(objs[j]);
			assert_int_equal((uintptr_t)objs[j] % ARCH_KMALLOC_MINALIGN, 0);
		}
		for (int j = 0; j < 6; j++)
			kfree(objs[j]);
	}
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

static void kmalloc_zero_returns_zero_size_ptr(void **state)
{
	(void)state;
	struct swiommu_mem_stats s0 = stats();
	void *p = kmalloc(0, GFP_KERNEL);

	assert_ptr_equal(p, ZERO_SIZE_PTR);
	assert_true(ZERO_OR_NULL_PTR(p));
	assert_ptr_equal(kzalloc(0, GFP_KERNEL), ZERO_SIZE_PTR);
	assert_int_equal(ksize(ZERO_SIZE_PTR), 0);
	assert_int_equal(ksize(NULL), 0);
	kfree(p);
	kfree(ZERO_SIZE_PTR);
	kvfree(ZERO_SIZE_PTR);

	struct swiommu_mem_stats s1 = stats();

	assert_int_equal(s1.kmalloc_objects, s0.kmalloc_objects);
	assert_int_equal(s1.kmalloc_bytes, s0.kmalloc_bytes);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
	assert_int_equal(swiommu_warn_count(), 0);
}

static void kzalloc_and_kcalloc_zero_memory(void **state)
{
	(void)state;
	/* Dirty objects of the same caches first, then free them so they are reused. */
	for (int i = 0; i < 8; i++) {
		void *a = kmalloc(200, GFP_KERNEL);
		void *b = kmalloc(240, GFP_KERNEL);

		assert_non_null(a);
		assert_non_null(b);
		memset(a, 0xa5, 200);
		memset(b, 0x5a, 240);
		kfree(a);
		kfree(b);
	}
	unsigned char *z = kzalloc(200, GFP_KERNEL);
	unsigned long *c = kcalloc(30, sizeof(unsigned long), GFP_KERNEL);

	assert_non_null(z);
	assert_non_null(c);
	assert_true(all_bytes(z, 0, 200));
	assert_true(all_bytes(c, 0, 30 * sizeof(unsigned long)));
	kfree(z);
	kfree(c);

	/* Larger than the caches: whole pages, zeroed too. */
	unsigned char *big = kmalloc(20000, GFP_KERNEL);

	assert_non_null(big);
	memset(big, 0xee, 20000);
	kfree(big);
	big = kzalloc(20000, GFP_KERNEL);
	assert_non_null(big);
	assert_true(all_bytes(big, 0, 20000));
	kfree(big);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

static void kcalloc_overflow_gives_null(void **state)
{
	(void)state;
	struct swiommu_mem_stats s0 = stats();

	assert_null(kcalloc(SIZE_MAX / 2, 4, GFP_KERNEL));
	assert_null(kmalloc_array(SIZE_MAX / 8 + 1, 16, GFP_KERNEL));
	assert_null(kcalloc(2, SIZE_MAX, GFP_KERNEL));

	struct swiommu_mem_stats s1 = stats();

	assert_int_equal(s1.kmalloc_objects, s0.kmalloc_objects);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
	/* The kernel's kmalloc_array() returns NULL on overflow without a warning. */
	assert_int_equal(swiommu_warn_count(), 0);
}

static void krealloc_grows_and_shrinks_keeping_contents(void **state)
{
	unsigned char pattern[4000];

	(void)state;
	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (unsigned char)(i * 7 + 3);

	unsigned char *p = krealloc(NULL, 40, GFP_KERNEL);

	assert_non_null(p);
	assert_int_equal(ksize(p), 64);
	memcpy(p, pattern, 40);

	/* Within the object's size class it stays put. */
	unsigned char *q = krealloc(p, 60, GFP_KERNEL);

	assert_ptr_equal(q, p);
	assert_memory_equal(q, pattern, 40);

	/* Grow beyond it: moved, contents kept. */
	q = krealloc(p, 4000, GFP_KERNEL);
	assert_non_null(q);
	assert_true(ksize(q) >= 4000);
	assert_memory_equal(q, pattern, 40);
	memcpy(q, pattern, 4000);
	assert_int_equal(swiommu_mem_check_leaks(false), 1);

	/* Grow into kmalloc_large. */
	unsigned char *r = krealloc(q, 30000, GFP_KERNEL);

	assert_non_null(r);
	assert_true(PAGE_ALIGNED(r));
	assert_true(ksize(r) >= 30000);
	assert_memory_equal(r, pattern, 4000);
	assert_int_equal(swiommu_mem_check_leaks(false), 1);

	/* Shrink: the first bytes are kept. */
	unsigned char *s = krealloc(r, 16, GFP_KERNEL);

	assert_non_null(s);
	assert_true(ksize(s) >= 16);
	assert_memory_equal(s, pattern, 16);
	assert_int_equal(swiommu_mem_check_leaks(false), 1);

	/* krealloc(p, 0) frees and returns ZERO_SIZE_PTR. */
	assert_ptr_equal(krealloc(s, 0, GFP_KERNEL), ZERO_SIZE_PTR);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);

	/* __GFP_ZERO zeroes what grows. */
	p = kzalloc(24, GFP_KERNEL);
	assert_non_null(p);
	memset(p, 0x77, 24);
	q = krealloc(p, 1000, GFP_KERNEL | __GFP_ZERO);
	assert_non_null(q);
	assert_true(all_bytes(q, 0x77, 24));
	assert_true(all_bytes(q + 24, 0, 1000 - 24));
	kfree(q);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
	assert_int_equal(swiommu_warn_count(), 0);
}

static void kmemdup_and_kstrdup_copy(void **state)
{
	unsigned char src[300];

	(void)state;
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (unsigned char)(255 - i);
	unsigned char *d = kmemdup(src, sizeof(src), GFP_KERNEL);

	assert_non_null(d);
	assert_ptr_not_equal(d, src);
	assert_memory_equal(d, src, sizeof(src));
	assert_int_equal(ksize(d), 512);
	assert_true(virt_addr_valid(d));
	assert_memory_equal(phys_to_virt(virt_to_phys(d)), src, sizeof(src));

	const char *text = "swiommu: a userspace IOMMU";
	char *s = kstrdup(text, GFP_KERNEL);

	assert_non_null(s);
	assert_ptr_not_equal(s, text);
	assert_string_equal(s, text);
	assert_int_equal(ksize(s), 32);
	assert_null(kstrdup(NULL, GFP_KERNEL));

	char *e = kstrdup("", GFP_KERNEL);

	assert_non_null(e);
	assert_string_equal(e, "");
	assert_int_equal(swiommu_mem_check_leaks(false), 3);
	kfree(d);
	kfree(s);
	kfree(e);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

static void kmalloc_large_takes_whole_pages(void **state)
{
	static const size_t sizes[] = { 8193, 10000, 16384, 65536, 100000, 1 << 20, KMALLOC_MAX_SIZE };

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t size = sizes[i];
		u64 block = PAGE_SIZE << get_order(size);
		unsigned char *p = kmalloc(size, GFP_KERNEL);

		assert_non_null(p);
		assert_true(PAGE_ALIGNED(p));
		assert_int_equal(ksize(p), block);
		phys_addr_t pa = virt_to_phys(p);

		assert_int_equal(pa % block, 0);
		assert_true(in_bank1(pa, block));
		memset(p, (int)(i + 1), size);
		assert_true(all_bytes(phys_to_virt(pa), (int)(i + 1), size));
		assert_int_equal(swiommu_mem_check_leaks(false), 1);
		kfree(p);
		assert_int_equal(swiommu_mem_check_leaks(false), 0);
	}
	assert_int_equal(swiommu_warn_count(), 0);
}

/*
 * The linear map is an offset: a block aligned in physical memory is as aligned at its CPU address, so
 * kmalloc's "power-of-two sizes are aligned to their size" holds up to KMALLOC_MAX_SIZE, and
 * page_address() of an order-n block is aligned to its size.
 */
static void linear_map_keeps_natural_alignment_of_large_blocks(void **state)
{
	(void)state;
	/*
	 * Where the host happens to map RAM varies: look at several boots, with 0 .. 3 MiB of the host's
	 * address space taken before each, so the mapping lands at differently aligned addresses.
	 */
	for (int round = 0; round < 4; round++) {
		void *hold = NULL;

		swiommu_exit();
		if (round)
			hold = mmap(NULL, (size_t)round << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		assert_int_equal(swiommu_init(NULL), 0);
		if (hold && hold != MAP_FAILED)
			munmap(hold, (size_t)round << 20);
		for (size_t size = 8192; size <= KMALLOC_MAX_SIZE; size <<= 1) {
			void *p = kmalloc(size, GFP_KERNEL);

			assert_non_null(p);
			if ((uintptr_t)p % size != 0)
				fail_msg("boot %d: kmalloc(%zu) = %p (phys %#llx) is not aligned to its size", round,
					 size, p, (unsigned long long)virt_to_phys(p));
			kfree(p);
		}
		for (unsigned int order = 0; order <= MAX_PAGE_ORDER; order++) {
			struct page *pg = alloc_pages(GFP_KERNEL, order);

			assert_non_null(pg);
			if ((uintptr_t)page_address(pg) % (PAGE_SIZE << order) != 0)
				fail_msg("boot %d: page_address() of an order-%u block = %p (phys %#llx) is not "
					 "aligned to its size", round, order, page_address(pg),
					 (unsigned long long)page_to_phys(pg));
			__free_pages(pg, order);
		}
		assert_int_equal(swiommu_mem_check_leaks(false), 0);
	}
}

static void kmalloc_gfp_dma_stays_below_4g(void **state)
{
	(void)state;
	void *a = kmalloc(64, GFP_KERNEL | GFP_DMA);
	void *b = kmalloc(3000, GFP_KERNEL | GFP_DMA);
	void *c = kmalloc(20000, GFP_KERNEL | GFP_DMA);
	void *n = kmalloc(64, GFP_KERNEL);

	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_non_null(n);
	assert_true(below_4g(virt_to_phys(a), 64));
	assert_true(below_4g(virt_to_phys(b), 3000));
	assert_true(below_4g(virt_to_phys(c), 20000));
	assert_true(in_bank1(virt_to_phys(n), 64));
	assert_int_equal(ksize(a), 64);
	assert_int_equal(ksize(b), 4096);
	kfree(a);
	kfree(b);
	kfree(c);
	kfree(n);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
	assert_int_equal(swiommu_warn_count(), 0);
}

/* ------------------------------------------------------------------------------------------------ */
/* kvmalloc */

static void kvmalloc_small_comes_from_kmalloc(void **state)
{
	(void)state;
	unsigned char *p = kvmalloc(100, GFP_KERNEL);

	assert_non_null(p);
	assert_false(is_vmalloc_addr(p));
	assert_true(virt_addr_valid(p));
	assert_int_equal(ksize(p), 128);
	memset(p, 1, 100);
	kvfree(p);

	/* A few pages still fit kmalloc, which kvmalloc tries first. */
	p = kvzalloc(3 * PAGE_SIZE, GFP_KERNEL);
	assert_non_null(p);
	assert_false(is_vmalloc_addr(p));
	assert_true(all_bytes(p, 0, 3 * PAGE_SIZE));
	kvfree(p);
	kvfree(NULL);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
	assert_int_equal(swiommu_warn_count(), 0);
}

static void kvmalloc_beyond_kmalloc_max_falls_back_to_vmalloc(void **state)
{
	(void)state;
	size_t size = 2 * KMALLOC_MAX_SIZE;
	unsigned char *p = kvmalloc(size, GFP_KERNEL);

	assert_non_null(p);
	assert_true(is_vmalloc_addr(p));
	assert_false(virt_addr_valid(p));
	memset(p, 0x42, size);
	assert_true(all_bytes(p, 0x42, size));
	assert_int_equal(stats().vmalloc_areas, 1);
	/* The kmalloc attempt is quiet (__GFP_NOWARN), as the kernel's kvmalloc_node makes it. */
	assert_int_equal(swiommu_warn_count(), 0);
	kvfree(p);
	assert_int_equal(stats().vmalloc_areas, 0);

	p = kvzalloc(size, GFP_KERNEL);
	assert_non_null(p);
	assert_true(is_vmalloc_addr(p));
	assert_true(all_bytes(p, 0, size));
	kvfree(p);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
	assert_int_equal(swiommu_warn_count(), 0);
}

static void kvmalloc_falls_back_to_vmalloc_when_kmalloc_fails(void **state)
{
	(void)state;
	assert_int_equal(swiommu_fail_nth("kmalloc", 1), 0);
	unsigned char *p = kvmalloc(3 * PAGE_SIZE, GFP_KERNEL);

	assert_non_null(p);
	assert_true(is_vmalloc_addr(p));
	memset(p, 9, 3 * PAGE_SIZE);
	kvfree(p);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

/* ------------------------------------------------------------------------------------------------ */
/* vmalloc and vmap */

static void vmalloc_is_virtually_but_not_physically_contiguous(void **state)
{
	enum { NPAGES = 16 };
	phys_addr_t frames[NPAGES + 1];

	(void)state;
	unsigned long size = NPAGES * PAGE_SIZE + 100;	/* rounds up to NPAGES + 1 pages */
	unsigned char *v = vmalloc(size);

	assert_non_null(v);
	assert_true(PAGE_ALIGNED(v));
	assert_true(is_vmalloc_addr(v));
	assert_true(is_vmalloc_addr(v + size - 1));
	assert_false(virt_addr_valid(v));

	for (unsigned long i = 0; i < size; i++)
		v[i] = (unsigned char)(i % 251);

	int contiguous = 0;

	for (int i = 0; i <= NPAGES; i++) {
		struct page *pg = vmalloc_to_page(v + i * PAGE_SIZE + 7);

		assert_non_null(pg);
		assert_ptr_equal(vmalloc_to_page(v + i * PAGE_SIZE), pg);
		assert_int_equal(vmalloc_to_pfn(v + i * PAGE_SIZE + 100), page_to_pfn(pg));
		frames[i] = page_to_phys(pg);
		/* The same bytes through the page's linear-map address. */
		unsigned char *lin = page_address(pg);

		assert_non_null(lin);
		for (unsigned long j = 0; j < PAGE_SIZE && i * PAGE_SIZE + j < size; j++)
			if (lin[j] != (unsigned char)((i * PAGE_SIZE + j) % 251))
				fail_msg("page %d byte %lu differs between vmalloc and linear map", i, j);
		/* And the other way round. */
		lin[PAGE_SIZE / 2] = 0xfe;
		assert_int_equal(v[i * PAGE_SIZE + PAGE_SIZE / 2], 0xfe);
		if (i > 0 && frames[i] == frames[i - 1] + PAGE_SIZE)
			contiguous++;
		for (int k = 0; k < i; k++)
			assert_true(frames[k] != frames[i]);
	}
	/* Scattered order-0 pages: not one physically contiguous run. */
	assert_true(contiguous < NPAGES);

	struct swiommu_mem_stats s = stats();

	assert_int_equal(s.vmalloc_areas, 1);
	assert_int_equal(s.vmalloc_bytes, (NPAGES + 1) * PAGE_SIZE);
	assert_int_equal(swiommu_mem_check_leaks(false), 1);
	vfree(v);
	s = stats();
	assert_int_equal(s.vmalloc_areas, 0);
	assert_int_equal(s.vmalloc_bytes, 0);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
	assert_int_equal(swiommu_warn_count(), 0);
}

static void vzalloc_zeroes(void **state)
{
	(void)state;
	for (int i = 0; i < 4; i++) {
		void *v = vmalloc(8 * PAGE_SIZE);

		assert_non_null(v);
		memset(v, 0xa5, 8 * PAGE_SIZE);
		vfree(v);
	}
	void *z = vzalloc(8 * PAGE_SIZE);

	assert_non_null(z);
	assert_true(is_vmalloc_addr(z));
	assert_true(all_bytes(z, 0, 8 * PAGE_SIZE));
	vfree(z);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

static void vmap_aliases_existing_pages(void **state)
{
	struct page *pages[4];

	(void)state;
	/* Four separate allocations, mapped in reverse order. */
	for (int i = 0; i < 4; i++) {
		pages[3 - i] = alloc_page(GFP_KERNEL);
		assert_non_null(pages[3 - i]);
		memset(page_address(pages[3 - i]), 0, PAGE_SIZE);
	}
	unsigned char *m = vmap(pages, 4, VM_MAP, PAGE_KERNEL);

	assert_non_null(m);
	assert_true(PAGE_ALIGNED(m));
	assert_true(is_vmalloc_addr(m));
	assert_false(virt_addr_valid(m));
	assert_int_equal(stats().vmap_areas, 1);
	assert_int_equal(swiommu_mem_check_leaks(false), 5);

	for (int i = 0; i < 4; i++) {
		assert_ptr_equal(vmalloc_to_page(m + i * PAGE_SIZE + 11), pages[i]);
		snprintf((char *)m + i * PAGE_SIZE, 32, "vmap page %d", i);
	}
	for (int i = 0; i < 4; i++) {
		char expect[32];

		snprintf(expect, sizeof(expect), "vmap page %d", i);
		assert_string_equal(page_address(pages[i]), expect);
		/* Written through the linear map, read through the mapping. */
		((unsigned char *)page_address(pages[i]))[PAGE_SIZE - 1] = (unsigned char)(0xc0 + i);
		assert_int_equal(m[i * PAGE_SIZE + PAGE_SIZE - 1], 0xc0 + i);
	}
	vunmap(m);
	assert_int_equal(stats().vmap_areas, 0);
	assert_null(vmalloc_to_page(m));
	/* The pages stay with their owner, contents intact. */
	assert_string_equal(page_address(pages[2]), "vmap page 2");
	assert_int_equal(swiommu_mem_check_leaks(false), 4);

	/* An uncached mapping works the same for the CPU. */
	m = vmap(pages, 2, VM_MAP, pgprot_writecombine(PAGE_KERNEL));
	assert_non_null(m);
	assert_string_equal((char *)m + PAGE_SIZE, "vmap page 1");
	vunmap(m);

	for (int i = 0; i < 4; i++)
		__free_page(pages[i]);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
	assert_int_equal(swiommu_warn_count(), 0);
}

static void is_vmalloc_addr_tells_the_areas_apart(void **state)
{
	int on_stack = 0;

	(void)state;
	void *k = kmalloc(64, GFP_KERNEL);
	void *v = vmalloc(PAGE_SIZE);
	struct page *pg = alloc_page(GFP_KERNEL);

	assert_non_null(k);
	assert_non_null(v);
	assert_non_null(pg);
	assert_false(is_vmalloc_addr(k));
	assert_false(is_vmalloc_addr(page_address(pg)));
	assert_false(is_vmalloc_addr(&on_stack));
	assert_false(is_vmalloc_addr(NULL));
	assert_true(is_vmalloc_addr(v));
	kfree(k);
	vfree(v);
	__free_page(pg);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

/* ------------------------------------------------------------------------------------------------ */
/* Counters and leak checks */

static void mem_stats_follow_allocations(void **state)
{
	(void)state;
	struct swiommu_mem_stats s0 = stats();
	void *a = kmalloc(100, GFP_KERNEL);
	void *b = kmalloc(3000, GFP_KERNEL);
	struct swiommu_mem_stats s1 = stats();

	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(s1.kmalloc_objects, s0.kmalloc_objects + 2);
	assert_int_equal(s1.kmalloc_bytes, s0.kmalloc_bytes + 3100);

	struct page *pg = alloc_pages(GFP_KERNEL, 2);
	struct swiommu_mem_stats s2 = stats();

	assert_non_null(pg);
	assert_int_equal(s2.page_blocks, s1.page_blocks + 1);
	assert_int_equal(s2.page_bytes, s1.page_bytes + 4 * PAGE_SIZE);
	assert_int_equal(s2.free_bytes, s1.free_bytes - 4 * PAGE_SIZE);
	assert_int_equal(s2.kmalloc_objects, s1.kmalloc_objects);

	void *v = vmalloc(3 * PAGE_SIZE);
	struct swiommu_mem_stats s3 = stats();

	assert_non_null(v);
	assert_int_equal(s3.vmalloc_areas, s2.vmalloc_areas + 1);
	assert_int_equal(s3.vmalloc_bytes, s2.vmalloc_bytes + 3 * PAGE_SIZE);
	assert_true(s3.free_bytes <= s2.free_bytes - 3 * PAGE_SIZE);

	struct page *list[1] = { pg };
	void *m = vmap(list, 1, VM_MAP, PAGE_KERNEL);
	struct swiommu_mem_stats s4 = stats();

	assert_non_null(m);
	assert_int_equal(s4.vmap_areas, s3.vmap_areas + 1);
	assert_int_equal(s4.page_blocks, s3.page_blocks);
	assert_int_equal(s4.free_bytes, s3.free_bytes);

	vunmap(m);
	assert_int_equal(stats().vmap_areas, s3.vmap_areas);
	vfree(v);
	assert_int_equal(stats().vmalloc_areas, s2.vmalloc_areas);
	assert_int_equal(stats().vmalloc_bytes, s2.vmalloc_bytes);
	assert_int_equal(stats().free_bytes, s2.free_bytes);
	__free_pages(pg, 2);
	assert_int_equal(stats().page_blocks, s1.page_blocks);
	assert_int_equal(stats().page_bytes, s1.page_bytes);
	assert_int_equal(stats().free_bytes, s1.free_bytes);
	kfree(b);
	assert_int_equal(stats().kmalloc_objects, s0.kmalloc_objects + 1);
	assert_int_equal(stats().kmalloc_bytes, s0.kmalloc_bytes + 100);
	kfree(a);

	struct swiommu_mem_stats s5 = stats();

	assert_int_equal(s5.kmalloc_objects, s0.kmalloc_objects);
	assert_int_equal(s5.kmalloc_bytes, s0.kmalloc_bytes);
	assert_int_equal(s5.page_blocks, s0.page_blocks);
	assert_int_equal(s5.vmalloc_areas, s0.vmalloc_areas);
	assert_int_equal(s5.vmap_areas, s0.vmap_areas);
	assert_int_equal(s5.ram_bytes, s0.ram_bytes);
	assert_int_equal(swiommu_mem_get_stats(NULL), -EINVAL);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

/* The header: page_blocks counts "live alloc_pages() blocks (kmalloc_large included)". */
static void mem_stats_count_kmalloc_large_as_page_blocks(void **state)
{
	(void)state;
	struct swiommu_mem_stats s0 = stats();
	void *p = kmalloc(5 * PAGE_SIZE, GFP_KERNEL);	/* order 3 */

	assert_non_null(p);
	struct swiommu_mem_stats s1 = stats();

	assert_int_equal(s1.kmalloc_objects, s0.kmalloc_objects + 1);
	assert_int_equal(s1.kmalloc_bytes, s0.kmalloc_bytes + 5 * PAGE_SIZE);
	assert_int_equal(s1.free_bytes, s0.free_bytes - 8 * PAGE_SIZE);
	assert_int_equal(s1.page_blocks, s0.page_blocks + 1);
	assert_int_equal(s1.page_bytes, s0.page_bytes + 8 * PAGE_SIZE);
	kfree(p);

	struct swiommu_mem_stats s2 = stats();

	assert_int_equal(s2.page_blocks, s0.page_blocks);
	assert_int_equal(s2.page_bytes, s0.page_bytes);
	assert_int_equal(s2.kmalloc_objects, s0.kmalloc_objects);
	assert_int_equal(s2.free_bytes, s0.free_bytes);
}

static void leak_check_counts_live_allocations(void **state)
{
	(void)state;
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
	void *a = kmalloc(10, GFP_KERNEL);
	void *b = kzalloc(500, GFP_KERNEL);
	void *c = kmalloc(50000, GFP_KERNEL);
	struct page *pg = alloc_pages(GFP_KERNEL, 4);
	unsigned long gfp = __get_free_page(GFP_KERNEL);
	void *v = vmalloc(5 * PAGE_SIZE);

	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_non_null(pg);
	assert_int_not_equal(gfp, 0);
	assert_non_null(v);
	assert_int_equal(swiommu_mem_check_leaks(false), 6);

	/* print = true logs each one with its site. */
	swiommu_log_reset();
	assert_int_equal(swiommu_mem_check_leaks(true), 6);
	assert_true(swiommu_log_contains("swiommu: leak:"));
	assert_true(swiommu_log_contains("test_mm.c"));
	assert_true(swiommu_log_contains("leak_check_counts_live_allocations"));

	kfree(a);
	assert_int_equal(swiommu_mem_check_leaks(false), 5);
	vfree(v);
	assert_int_equal(swiommu_mem_check_leaks(false), 4);
	__free_pages(pg, 4);
	assert_int_equal(swiommu_mem_check_leaks(false), 3);
	free_page(gfp);
	assert_int_equal(swiommu_mem_check_leaks(false), 2);
	kfree(c);
	assert_int_equal(swiommu_mem_check_leaks(false), 1);
	kfree(b);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);

	swiommu_log_reset();
	assert_int_equal(swiommu_mem_check_leaks(true), 0);
	assert_false(swiommu_log_contains("swiommu: leak:"));
}

/* ------------------------------------------------------------------------------------------------ */
/* The CPU cache model */

static void noncoherent_device_write_needs_invalidate(void **state)
{
	unsigned char dev[128], back[128], cpu_bytes[128];

	(void)state;
	struct page *pg = alloc_page(GFP_KERNEL);

	assert_non_null(pg);
	unsigned char *cpu = page_address(pg);
	phys_addr_t pa = page_to_phys(pg);

	memset(cpu, 'c', 256);
	memset(cpu_bytes, 'c', sizeof(cpu_bytes));
	memset(dev, 'd', sizeof(dev));
	unsigned long n0 = swiommu_cache_maintenance_count();

	assert_int_equal(swiommu_mem_write(pa, dev, sizeof(dev), false), 0);
	/* The CPU still reads its cached lines. */
	assert_memory_equal(cpu, cpu_bytes, 128);
	/* The device reads back what it wrote to memory. */
	assert_int_equal(swiommu_mem_read(pa, back, sizeof(back), false), 0);
	assert_memory_equal(back, dev, sizeof(back));
	/* A coherent master snoops the CPU's caches. */
	assert_int_equal(swiommu_mem_read(pa, back, sizeof(back), true), 0);
	assert_memory_equal(back, cpu_bytes, sizeof(back));
	/* Device accesses are no cache maintenance. */
	assert_int_equal(swiommu_cache_maintenance_count(), n0);

	assert_int_equal(swiommu_cache_invalidate(pa, 128), 0);
	assert_int_equal(swiommu_cache_maintenance_count(), n0 + 1);
	assert_memory_equal(cpu, dev, 128);
	/* Lines outside the range keep the CPU's bytes. */
	assert_true(all_bytes(cpu + 128, 'c', 128));
	__free_page(pg);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

/*
 * The missed-clean case on a fresh buffer: the CPU fills it and a non-coherent device reads it without
 * dma_sync_for_device (arch_sync_dma_for_device cleans): the device must not see the CPU's bytes yet.
 */
static void noncoherent_device_misses_cpu_write_until_clean(void **state)
{
	unsigned char pattern[128], back[128];

	(void)state;
	struct page *pg = alloc_page(GFP_KERNEL);

	assert_non_null(pg);
	unsigned char *cpu = page_address(pg);
	phys_addr_t pa = page_to_phys(pg);

	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (unsigned char)(0x80 | (i * 13));
	memcpy(cpu, pattern, sizeof(pattern));

	assert_int_equal(swiommu_mem_read(pa, back, sizeof(back), false), 0);
	assert_memory_not_equal(back, pattern, sizeof(back));

	unsigned long n0 = swiommu_cache_maintenance_count();

	assert_int_equal(swiommu_cache_clean(pa, sizeof(pattern)), 0);
	assert_int_equal(swiommu_cache_maintenance_count(), n0 + 1);
	assert_int_equal(swiommu_mem_read(pa, back, sizeof(back), false), 0);
	assert_memory_equal(back, pattern, sizeof(back));
	__free_page(pg);
}

/* The same after the device has used the buffer once (its view of memory established). */
static void cpu_write_after_device_use_needs_clean(void **state)
{
	unsigned char dev[256], back[256], cpu_bytes[256];

	(void)state;
	struct page *pg = alloc_page(GFP_KERNEL);

	assert_non_null(pg);
	unsigned char *cpu = page_address(pg);
	phys_addr_t pa = page_to_phys(pg);

	memset(dev, 'd', sizeof(dev));
	assert_int_equal(swiommu_mem_write(pa, dev, sizeof(dev), false), 0);
	assert_int_equal(swiommu_cache_invalidate(pa, sizeof(dev)), 0);
	assert_memory_equal(cpu, dev, sizeof(dev));

	memset(cpu, 'e', 256);
	memset(cpu_bytes, 'e', sizeof(cpu_bytes));
	assert_int_equal(swiommu_mem_read(pa, back, sizeof(back), false), 0);
	assert_memory_equal(back, dev, sizeof(back));

	/* Clean one byte: its whole line (L1_CACHE_BYTES) reaches memory, the next line does not. */
	unsigned long n0 = swiommu_cache_maintenance_count();

	assert_int_equal(swiommu_cache_clean(pa + 10, 1), 0);
	assert_int_equal(swiommu_mem_read(pa, back, sizeof(back), false), 0);
	assert_memory_equal(back, cpu_bytes, L1_CACHE_BYTES);
	assert_true(all_bytes(back + L1_CACHE_BYTES, 'd', sizeof(back) - L1_CACHE_BYTES));

	assert_int_equal(swiommu_cache_clean(pa, sizeof(cpu_bytes)), 0);
	assert_int_equal(swiommu_cache_maintenance_count(), n0 + 2);
	assert_int_equal(swiommu_mem_read(pa, back, sizeof(back), false), 0);
	assert_memory_equal(back, cpu_bytes, sizeof(back));
	__free_page(pg);
}

static void coherent_device_sees_cpu_bytes(void **state)
{
	unsigned char buf[128], back[128];

	(void)state;
	struct page *pg = alloc_page(GFP_KERNEL);

	assert_non_null(pg);
	unsigned char *cpu = page_address(pg);
	phys_addr_t pa = page_to_phys(pg);
	unsigned long n0 = swiommu_cache_maintenance_count();

	/* The CPU's write is visible to a coherent reader at once. */
	memset(cpu, 'x', 128);
	assert_int_equal(swiommu_mem_read(pa, back, sizeof(back), true), 0);
	assert_true(all_bytes(back, 'x', sizeof(back)));

	/* A coherent write is visible to the CPU at once. */
	memset(buf, 'w', sizeof(buf));
	assert_int_equal(swiommu_mem_write(pa + 128, buf, sizeof(buf), true), 0);
	assert_true(all_bytes(cpu + 128, 'w', 128));

	/* Even after a non-coherent master diverged memory from the caches. */
	memset(buf, 'd', sizeof(buf));
	assert_int_equal(swiommu_mem_write(pa, buf, sizeof(buf), false), 0);
	assert_int_equal(swiommu_mem_read(pa, back, sizeof(back), true), 0);
	assert_true(all_bytes(back, 'x', sizeof(back)));
	memset(buf, 'y', sizeof(buf));
	assert_int_equal(swiommu_mem_write(pa, buf, 64, true), 0);
	assert_true(all_bytes(cpu, 'y', 64));
	assert_int_equal(swiommu_cache_maintenance_count(), n0);
	__free_page(pg);
}

static void cache_flush_writes_back_then_invalidates(void **state)
{
	unsigned char buf[128], back[128];

	(void)state;
	struct page *pg = alloc_page(GFP_KERNEL);

	assert_non_null(pg);
	unsigned char *cpu = page_address(pg);
	phys_addr_t pa = page_to_phys(pg);

	memset(buf, 'd', sizeof(buf));
	assert_int_equal(swiommu_mem_write(pa, buf, sizeof(buf), false), 0);
	memset(cpu, 'c', 128);
	unsigned long n0 = swiommu_cache_maintenance_count();

	assert_int_equal(swiommu_cache_flush(pa, 128), 0);
	assert_true(swiommu_cache_maintenance_count() > n0);
	/* The CPU's lines went to memory, and the CPU reads memory again: both say 'c'. */
	assert_int_equal(swiommu_mem_read(pa, back, sizeof(back), false), 0);
	assert_true(all_bytes(back, 'c', sizeof(back)));
	assert_true(all_bytes(cpu, 'c', 128));
	/* From now on a device write needs an invalidate again. */
	memset(buf, 'n', sizeof(buf));
	assert_int_equal(swiommu_mem_write(pa, buf, 64, false), 0);
	assert_true(all_bytes(cpu, 'c', 64));
	assert_int_equal(swiommu_cache_invalidate(pa, 64), 0);
	assert_true(all_bytes(cpu, 'n', 64));
	assert_true(all_bytes(cpu + 64, 'c', 64));
	__free_page(pg);
	assert_int_equal(swiommu_mem_check_leaks(false), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, boot, shut_down)
	const struct CMUnitTest tests[] = {
		T(machine_is_up_with_4k_pages),
		T(ram_banks_sit_below_and_above_4g),
		T(init_and_exit_repeat_in_one_process),
		T(alloc_pages_every_order_is_naturally_aligned),
		T(alloc_pages_dma32_and_dma_stay_below_4g),
		T(gfp_zero_zeroes_pages),
		T(get_free_pages_returns_linear_map_addresses),
		T(linear_map_conversions_round_trip),
		T(ksize_follows_slub_kmalloc_caches),
		T(kmalloc_power_of_two_sizes_are_naturally_aligned),
		T(kmalloc_zero_returns_zero_size_ptr),
		T(kzalloc_and_kcalloc_zero_memory),
		T(kcalloc_overflow_gives_null),
		T(krealloc_grows_and_shrinks_keeping_contents),
		T(kmemdup_and_kstrdup_copy),
		T(kmalloc_large_takes_whole_pages),
		T(linear_map_keeps_natural_alignment_of_large_blocks),
		T(kmalloc_gfp_dma_stays_below_4g),
		T(kvmalloc_small_comes_from_kmalloc),
		T(kvmalloc_beyond_kmalloc_max_falls_back_to_vmalloc),
		T(kvmalloc_falls_back_to_vmalloc_when_kmalloc_fails),
		T(vmalloc_is_virtually_but_not_physically_contiguous),
		T(vzalloc_zeroes),
		T(vmap_aliases_existing_pages),
		T(is_vmalloc_addr_tells_the_areas_apart),
		T(mem_stats_follow_allocations),
		T(mem_stats_count_kmalloc_large_as_page_blocks),
		T(leak_check_counts_live_allocations),
		T(noncoherent_device_write_needs_invalidate),
		T(noncoherent_device_misses_cpu_write_until_clean),
		T(cpu_write_after_device_use_needs_clean),
		T(coherent_device_sees_cpu_bytes),
		T(cache_flush_writes_back_then_invalidates),
	};
#undef T

	/* The allocators alone: no IOMMU driver allocates tables or default domains at boot. */
	swiommu_iommu_use_builtin_models(false);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
