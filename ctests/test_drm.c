// SPDX-License-Identifier: MIT
// The display + GPU prototype (examples/drivers/drm.c): two devices behind two 16 KiB DARTs (the
// display's locked by firmware) herded into one domain, exynos-drm style; buffer objects from
// dma_alloc_coherent() and dma_alloc_noncontiguous() on the display; the GPU writes what the display
// reads; a buffer shared with the codec (dma_get_sgtable + dma_map_sgtable). Error paths: test_drm_fail.c.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <swiommu/swiommu.h>
#include "swiommu_test.h"
#include "examples_test.h"
#include "drm.h"
#include "mfc.h"

#define DISPLAY	"/soc/display@fe200000"
#define GPU	"/soc/gpu@fe300000"
#define CODEC	"/soc/codec-bus/codec@fe400000"
#define BO	(256 * SZ_1K)

static void the_gpu_joins_the_display_domain(void **state)
{
	(void)state;
	struct device *display = dev_at(DISPLAY), *gpu = dev_at(GPU);
	struct iommu_domain *mapping = sdrm_mapping();
	struct sdrm_stats st;

	assert_ptr_equal(sdrm_dma_device(), display);
	assert_true(swiommu_log_contains("swiommu-drm-display fe200000.display: using fe200000.display device for DMA "
					 "mapping operations"));
	/* The shared mapping is the display's default domain, the one that reuses the locked DART's table. */
	assert_ptr_equal(mapping, iommu_get_dma_domain(display));
	assert_ptr_equal(iommu_get_domain_for_dev(gpu), mapping);
	assert_ptr_not_equal(iommu_get_dma_domain(gpu), mapping);
	assert_int_equal(mapping->pgsize_bitmap, SZ_16K);
	/* Two DARTs, two groups, one domain. */
	assert_ptr_not_equal(display->iommu_group, gpu->iommu_group);
	/* The firmware's framebuffer is still scanned out through the handover. */
	assert_int_equal(iommu_iova_to_phys(mapping, 0x9e000000 + 0x1234), 0x9e000000 + 0x1234);
	assert_true(swiommu_log_contains("firmware framebuffer 0x9e000000+0x800000 stays mapped 1:1"));
	sdrm_get_stats(&st);
	assert_int_equal(st.subdevs, 2);
	assert_int_equal(st.attached, 1);
}

/* The GPU renders @seed at the BO's address; the display scans the same address out. */
static void gpu_writes_display_reads(struct sdrm_gem_object *obj, unsigned int seed)
{
	static u8 image[BO], scanout[BO];

	fill_pattern(image, sizeof(image), seed);
	assert_int_equal(swiommu_dma_write(dev_at(GPU), 0, obj->dma_addr, image, sizeof(image)), 0);
	assert_int_equal(swiommu_dma_read(dev_at(DISPLAY), 0, obj->dma_addr, scanout, sizeof(scanout)), 0);
	assert_memory_equal(image, scanout, BO);
	sdrm_gem_begin_cpu_access(obj);
	assert_true(has_pattern(obj->vaddr, BO, seed));
}

static void a_coherent_bo_is_one_address_for_both(void **state)
{
	(void)state;
	unsigned long debug = dma_debug_mark();
	struct sdrm_gem_object *obj = sdrm_gem_create(BO - 1000, SDRM_BO_CONTIG);
	phys_addr_t out;

	assert_false(IS_ERR(obj));
	assert_int_equal(obj->size, BO);
	assert_null(obj->sgt);
	/* Whole 16 KiB granules of the shared domain, valid behind both DARTs. */
	assert_int_equal(obj->dma_addr % SZ_16K, 0);
	assert_int_equal(swiommu_iommu_translate(dev_at(GPU), 0, obj->dma_addr + BO - 1, true, &out), 0);
	assert_int_equal(swiommu_iommu_translate(dev_at(DISPLAY), 0, obj->dma_addr + BO - 1, false, &out), 0);
	assert_int_equal(out, iommu_iova_to_phys(sdrm_mapping(), obj->dma_addr + BO - 1));
	gpu_writes_display_reads(obj, 1);
	/* And the other way: the CPU draws, the display reads it at once (coherent memory). */
	fill_pattern(obj->vaddr, BO, 2);
	u8 line[64];

	assert_int_equal(swiommu_dma_read(dev_at(DISPLAY), 0, obj->dma_addr + 4096, line, sizeof(line)), 0);
	assert_memory_equal(line, (u8 *)obj->vaddr + 4096, sizeof(line));
	sdrm_gem_free(obj);
	expect_dma_debug_clean(debug);
}

static void a_noncontiguous_bo_is_one_address_for_both(void **state)
{
	(void)state;
	unsigned long debug = dma_debug_mark();
	struct sdrm_gem_object *obj = sdrm_gem_create(BO, SDRM_BO_NONCONTIG);
	struct sdrm_stats st;
	u8 line[64];

	assert_false(IS_ERR(obj));
	assert_non_null(obj->sgt);
	/* One DMA segment over the pages. */
	assert_int_equal(obj->sgt->nents, 1);
	assert_int_equal(sg_dma_address(obj->sgt->sgl), obj->dma_addr);
	assert_int_equal(sg_dma_len(obj->sgt->sgl), BO);
	gpu_writes_display_reads(obj, 3);
	/* Cached: the CPU's drawing reaches the devices after end_cpu_access. */
	fill_pattern(obj->vaddr, BO, 4);
	sdrm_gem_end_cpu_access(obj);
	assert_int_equal(swiommu_dma_read(dev_at(GPU), 0, obj->dma_addr + BO - sizeof(line), line, sizeof(line)), 0);
	assert_memory_equal(line, (u8 *)obj->vaddr + BO - sizeof(line), sizeof(line));
	sdrm_get_stats(&st);
	assert_int_equal(st.objects, 1);
	assert_int_equal(st.bytes, BO);
	sdrm_gem_free(obj);
	sdrm_get_stats(&st);
	assert_int_equal(st.objects, 0);
	expect_dma_debug_clean(debug);
}

static void freeing_a_bo_invalidates_both_iotlbs(void **state)
{
	(void)state;
	struct device *display = dev_at(DISPLAY), *gpu = dev_at(GPU);
	struct sdrm_gem_object *obj = sdrm_gem_create(BO, SDRM_BO_CONTIG);
	struct swiommu_iotlb_stats g0, d0, g1, d1;
	dma_addr_t addr;
	u8 byte;

	assert_false(IS_ERR(obj));
	addr = obj->dma_addr;
	/* Both DARTs cache the translation. */
	assert_int_equal(swiommu_dma_write(gpu, 0, addr, "x", 1), 0);
	assert_int_equal(swiommu_dma_read(display, 0, addr, &byte, 1), 0);
	assert_int_equal(swiommu_iommu_iotlb_stats(gpu, 0, &g0), 0);
	assert_int_equal(swiommu_iommu_iotlb_stats(display, 0, &d0), 0);
	assert_int_equal(swiommu_dma_read(gpu, 0, addr, &byte, 1), 0);
	assert_int_equal(swiommu_iommu_iotlb_stats(gpu, 0, &g1), 0);
	assert_int_equal(g1.hits, g0.hits + 1);
	unsigned long gi = swiommu_iotlb_invalidations(gpu), di = swiommu_iotlb_invalidations(display);

	sdrm_gem_free(obj);
	assert_true(swiommu_iotlb_invalidations(gpu) > gi);
	assert_true(swiommu_iotlb_invalidations(display) > di);
	assert_int_equal(iommu_iova_to_phys(sdrm_mapping(), addr), 0);
	/* Nothing stale: both devices fault at the freed address, each DART logs its own. */
	assert_int_equal(swiommu_dma_write(gpu, 0, addr, "x", 1), -EFAULT);
	assert_int_equal(swiommu_dma_read(display, 0, addr, &byte, 1), -EFAULT);
	char want[120];

	snprintf(want, sizeof(want), "apple-dart fe810000.iommu: translation fault: status:0x80000004 stream:0 code:0x4 "
		 "(NO PTE FOR IOVA) at %#llx", (unsigned long long)addr);
	assert_true(swiommu_log_contains(want));
	snprintf(want, sizeof(want), "apple-dart fe800000.iommu: translation fault: status:0x80000004 stream:0 code:0x4 "
		 "(NO PTE FOR IOVA) at %#llx", (unsigned long long)addr);
	assert_true(swiommu_log_contains(want));
	assert_int_equal(swiommu_iommu_iotlb_stats(gpu, 0, &g1), 0);
	assert_int_equal(swiommu_iommu_iotlb_stats(display, 0, &d1), 0);
	assert_int_equal(g1.faults, g0.faults + 1);
	assert_int_equal(d1.faults, d0.faults + 1);
}

static void a_bo_shared_with_the_codec(void **state)
{
	(void)state;
	unsigned long debug = dma_debug_mark();
	struct device *codec = dev_at(CODEC);
	struct sdrm_gem_object *obj = sdrm_gem_create(BO, SDRM_BO_NONCONTIG);
	struct mfc_ctx *ctx = mfc_open(mfc_from_device(codec));
	struct mfc_buf *stream;
	struct sg_table *sgt;
	dma_addr_t frame;
	u8 probe[128];

	assert_false(IS_ERR(obj));
	assert_false(IS_ERR(ctx));
	fill_pattern(obj->vaddr, BO, 6);
	sdrm_gem_end_cpu_access(obj);
	/* The exporter's table: the BO's pages, not its DART addresses. */
	sgt = sdrm_gem_get_sg_table(obj);
	assert_false(IS_ERR(sgt));
	assert_int_equal(sgt->orig_nents, obj->sgt->orig_nents);
	assert_ptr_equal(sg_page(sgt->sgl), sg_page(obj->sgt->sgl));
	/* The importer maps it for itself: one range in the codec's SysMMU domain, inside its window. */
	assert_int_equal(mfc_import_frame(ctx, sgt, BO, &frame), 0);
	assert_int_equal(sgt->nents, 1);
	assert_true(frame + BO <= SZ_256M);
	assert_ptr_equal(iommu_get_domain_for_dev(codec), iommu_get_dma_domain(codec));
	assert_int_equal(iommu_iova_to_phys(iommu_get_dma_domain(codec), frame), page_to_phys(sg_page(sgt->sgl)));
	/* The codec's left port reads what the CPU drew; it encodes it whole. */
	assert_int_equal(swiommu_dma_read(codec, MFC_PORT_L, frame + BO - sizeof(probe), probe, sizeof(probe)), 0);
	assert_memory_equal(probe, (u8 *)obj->vaddr + BO - sizeof(probe), sizeof(probe));
	stream = mfc_buf_alloc(ctx, BO + SZ_4K, DMA_FROM_DEVICE);
	assert_false(IS_ERR(stream));
	assert_int_equal(mfc_encode(ctx, frame, BO, 9, stream), 0);
	struct mfc_stream_header *hdr = stream->virt;

	assert_int_equal(hdr->magic, MFC_STREAM_MAGIC);
	assert_int_equal(hdr->seq, 9);
	assert_int_equal(hdr->len, BO);
	assert_true(has_pattern(hdr + 1, BO, 6));
	mfc_buf_free(ctx, stream);
	mfc_release_frame(ctx, sgt);
	assert_int_equal(iommu_iova_to_phys(iommu_get_dma_domain(codec), frame), 0);
	sdrm_gem_put_sg_table(sgt);
	mfc_release(ctx);
	/* The exporter's own addresses were never touched by the import. */
	gpu_writes_display_reads(obj, 7);
	sdrm_gem_free(obj);
	expect_dma_debug_clean(debug);
}

static void a_coherent_bo_exports_through_dma_get_sgtable(void **state)
{
	(void)state;
	struct sdrm_gem_object *obj = sdrm_gem_create(BO, SDRM_BO_CONTIG);
	struct sg_table *sgt;
	size_t total = 0;
	struct scatterlist *sg;
	unsigned int i;

	assert_false(IS_ERR(obj));
	sgt = sdrm_gem_get_sg_table(obj);
	assert_false(IS_ERR(sgt));
	for_each_sgtable_sg(sgt, sg, i) {
		total += sg->length;
		assert_int_equal(page_to_phys(sg_page(sg)) + sg->offset,
				 iommu_iova_to_phys(sdrm_mapping(), obj->dma_addr + total - sg->length));
	}
	assert_int_equal(total, BO);
	sdrm_gem_put_sg_table(sgt);
	sdrm_gem_free(obj);
}

static void the_demo_scenario_runs_clean(void **state)
{
	(void)state;
	struct swiommu_example_report r;
	int ret = swiommu_example_drm_run(&r);

	assert_scenario_clean(&r, ret);
	assert_int_equal(r.transfers, 6);
	assert_int_equal(r.faults, 2);
	assert_int_equal(r.iova_ranges, 2);
	assert_int_equal(r.iova_bytes, 2 * BO);
	assert_true(r.iotlb_invalidations >= 2);
	assert_true(r.iotlb_lookups == r.iotlb_hits + r.iotlb_misses);
	assert_int_equal(swiommu_example_drm_run(&r), 0);
	assert_exit_leaks_nothing();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(the_gpu_joins_the_display_domain, boot, shut_down),
		cmocka_unit_test_setup_teardown(a_coherent_bo_is_one_address_for_both, boot, shut_down),
		cmocka_unit_test_setup_teardown(a_noncontiguous_bo_is_one_address_for_both, boot, shut_down),
		cmocka_unit_test_setup_teardown(freeing_a_bo_invalidates_both_iotlbs, boot, shut_down),
		cmocka_unit_test_setup_teardown(a_bo_shared_with_the_codec, boot, shut_down),
		cmocka_unit_test_setup_teardown(a_coherent_bo_exports_through_dma_get_sgtable, boot, shut_down),
		cmocka_unit_test_setup_teardown(the_demo_scenario_runs_clean, boot, shut_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
