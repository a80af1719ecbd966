/* SPDX-License-Identifier: MIT */
/*
 * The example driver prototypes' scenarios (examples/drivers/scenarios.c): each runs one driver's story on
 * the booted default board, checks what happened as a test would, and reports it. `swiommu demo` prints
 * the reports; the cmocka suites run the same scenarios. Plain C types only: the Swift CLI imports it.
 */
#ifndef SWIOMMU_EXAMPLES_H
#define SWIOMMU_EXAMPLES_H

#include <stdbool.h>
#include <stddef.h>

#define SWIOMMU_EXAMPLE_MAX_NOTES	12
#define SWIOMMU_EXAMPLE_NOTE_LEN	128

/**
 * struct swiommu_example_report - what one scenario did.
 * @title: the scenario's name.
 * @mappings: mappings the scenario's drivers made (IOMMU maps, DMA API maps and allocations).
 * @transfers: device transfers whose bytes were checked.
 * @faults: IOMMU faults the scenario provoked and saw reported (handler, log, -EFAULT).
 * @errors: other bugs caught on purpose (a missing sync, a refused ownership claim ...).
 * @dma_debug: what dma-debug found (issue 8; 0 until it is built).
 * @iotlb_model: 1 when the IOTLB figures are a built-in model's, 0 for a C IOMMU driver's own counters.
 * @iotlb_lookups: lookups in the IOTLBs of the instances involved.
 * @iotlb_hits: of those, hits.
 * @iotlb_misses: of those, misses (table walks).
 * @iotlb_invalidations: invalidation commands they received.
 * @iova_ranges: IOVA ranges handed out.
 * @iova_bytes: their bytes.
 * @num_notes: lines in @notes.
 * @notes: what happened, one line each.
 * @error: 0, or the negative errno of the first check that failed (its line is the last note).
 */
struct swiommu_example_report {
	const char *title;
	unsigned long mappings;
	unsigned long transfers;
	unsigned long faults;
	unsigned long errors;
	unsigned long dma_debug;
	int iotlb_model;
	unsigned long long iotlb_lookups;
	unsigned long long iotlb_hits;
	unsigned long long iotlb_misses;
	unsigned long long iotlb_invalidations;
	unsigned long iova_ranges;
	unsigned long long iova_bytes;
	unsigned int num_notes;
	char notes[SWIOMMU_EXAMPLE_MAX_NOTES][SWIOMMU_EXAMPLE_NOTE_LEN];
	int error;
};

int swiommu_example_isp_run(struct swiommu_example_report *report);
int swiommu_example_drm_run(struct swiommu_example_report *report);
int swiommu_example_dmaengine_run(struct swiommu_example_report *report);
int swiommu_example_codec_run(struct swiommu_example_report *report);
int swiommu_example_ipmmu_run(struct swiommu_example_report *report);

/**
 * swiommu_example_fill() - fill a buffer the way the scenarios fill frames and streams: a different byte
 * at every offset, per @seed.
 * @buf: the buffer.
 * @len: its bytes.
 * @seed: which pattern.
 */
void swiommu_example_fill(void *buf, size_t len, unsigned int seed);

/**
 * swiommu_example_check() - whether a buffer holds swiommu_example_fill()'s pattern.
 * @buf: the buffer.
 * @len: its bytes.
 * @seed: which pattern.
 *
 * Return: true when every byte matches.
 */
bool swiommu_example_check(const void *buf, size_t len, unsigned int seed);

/**
 * swiommu_example_note() - one line of a report.
 * @report: the report.
 * @index: the line, from 0.
 *
 * Return: the text, or NULL past the last line.
 */
const char *swiommu_example_note(const struct swiommu_example_report *report, unsigned int index);

#endif
