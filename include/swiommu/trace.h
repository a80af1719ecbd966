/* SPDX-License-Identifier: MIT */
/*
 * Tracing: the kernel's trace events with their names and ftrace text format (iommu:map, iommu:unmap,
 * iommu:attach_device_to_domain, iommu:add_device_to_group, iommu:remove_device_from_group,
 * iommu:io_page_fault, dma:dma_map_page, dma:dma_unmap_page, dma:dma_map_resource, dma:dma_unmap_resource,
 * dma:dma_map_sg, dma:dma_unmap_sg, dma:dma_alloc, dma:dma_free, dma:dma_sync_single_for_cpu,
 * dma:dma_sync_single_for_device, dma:dma_sync_sg_for_cpu, dma:dma_sync_sg_for_device,
 * swiotlb:swiotlb_bounced). Off by default: a disabled event costs one load and a branch. Lines are
 * kept in a ring tests query, written to a file as /sys/kernel/tracing/trace prints them (Perfetto opens
 * it; they are the lines `trace-cmd report` prints), and passed to a callback.
 */
#ifndef _SWIOMMU_TRACE_H
#define _SWIOMMU_TRACE_H

#include <linux/types.h>

/**
 * swiommu_trace_enable() - choose the events that are recorded.
 * @events: a comma-separated list of "system:event", "system:*" or "*"; NULL or "" turns every event off.
 *
 * Return: 0, or -EINVAL for a name that is no event (nothing changes then; a message names it).
 */
int swiommu_trace_enable(const char *events);

/**
 * swiommu_trace_open() - write events to a file in ftrace's text format, after its header.
 * @path: the file (truncated); NULL closes the current one.
 *
 * Return: 0, or the negative errno of fopen().
 */
int swiommu_trace_open(const char *path);

/**
 * typedef swiommu_trace_fn - a callback for every recorded event.
 * @system: "iommu", "dma" or "swiotlb".
 * @event: the event's name ("map").
 * @line: the whole ftrace line, without its newline.
 * @data: the pointer given to swiommu_trace_set_callback().
 */
typedef void (*swiommu_trace_fn)(const char *system, const char *event, const char *line, void *data);

/**
 * swiommu_trace_set_callback() - call @fn for every recorded event (NULL: no callback).
 * @fn: the callback; it must not record events itself.
 * @data: passed to @fn.
 */
void swiommu_trace_set_callback(swiommu_trace_fn fn, void *data);

/**
 * swiommu_trace_count() - events recorded since the last swiommu_trace_reset().
 *
 * Return: the count.
 */
unsigned long swiommu_trace_count(void);

/**
 * swiommu_trace_last() - the last event's line.
 *
 * Return: the line, "" when none was recorded; valid until the next event.
 */
const char *swiommu_trace_last(void);

/**
 * swiommu_trace_contains() - whether a recorded line (of the last 1024) contains @needle.
 * @needle: the text.
 *
 * Return: true when found; false for NULL.
 */
bool swiommu_trace_contains(const char *needle);

/**
 * swiommu_trace_reset() - forget the recorded lines.
 */
void swiommu_trace_reset(void);

#endif /* _SWIOMMU_TRACE_H */
