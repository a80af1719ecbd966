/* SPDX-License-Identifier: MIT */
/*
 * Fault injection, the kernel's two ways (lib/fault-inject.c): fail-nth (the nth call at a point fails,
 * once) and fault_attr (probability, interval, times, space), with a seed so a run repeats exactly.
 * Points: "kmalloc", "alloc_pages", "vmalloc", "iova" (alloc_iova() returns NULL, alloc_iova_fast() 0),
 * "swiotlb" (the pool looks full), "iommu_map" (the range's last page-size batch fails with -ENOMEM after
 * the others are mapped, so the rollback runs), "attach" (the IOMMU driver's attach_dev gives -ENOSPC)
 * and "probe" (a platform driver's probe is deferred, -EPROBE_DEFER, before it runs). Every failure logs
 * "FAULT_INJECTION: forcing a failure." and the attributes, as fail_dump() does, unless verbose is off.
 *
 * The environment arms points when swiommu_init() has finished booting (so the calls counted are the
 * test's): SWIOMMU_FAIL_NTH="kmalloc:3[,iova:1]" and SWIOMMU_FAULT="iommu_map:probability=50,times=2,
 * seed=7[;kmalloc:...]" (keys probability, interval, times, space, seed, verbose). swiommu_exit() then
 * prints "swiommu: SWIOMMU_FAIL_NTH <point>:<n>: fired" or "...: not reached (the path completed)" on
 * stderr: tools/fail-sweep uses it to sweep an unmodified binary through n = 1, 2, ... .
 */
#ifndef _SWIOMMU_FAULT_INJECT_H
#define _SWIOMMU_FAULT_INJECT_H

#include <linux/types.h>

/**
 * swiommu_fail_nth() - make the @nth call (counting from 1, from now) at @point fail, once. While the
 * countdown runs, the point's attributes are not consulted (as current->fail_nth goes first).
 * @point: a point's name (see above).
 * @nth: 1 for the next call; 0 disarms the countdown.
 *
 * Return: 0, or -EINVAL for an unknown point (with a message naming it).
 */
int swiommu_fail_nth(const char *point, unsigned long nth);

/**
 * struct swiommu_fault_attr - a point's fault_attr (struct fault_attr).
 * @probability: percent of the eligible calls that fail, 0 to 100; 0 turns the attributes off.
 * @interval: only every @interval-th call is eligible (0 or 1: every call).
 * @times: failures left; -1 for no limit.
 * @space: calls that pass before any may fail.
 * @seed: the random stream's seed (0 is taken as 1): the same seed gives the same failures.
 * @verbose: log each failure (the kernel's default).
 */
struct swiommu_fault_attr {
	unsigned long probability;
	unsigned long interval;
	long times;
	unsigned long space;
	unsigned long long seed;
	bool verbose;
};

/**
 * swiommu_fault_set() - give @point attributes, or take them away.
 * @point: a point's name.
 * @attr: the attributes; NULL removes them.
 *
 * Return: 0, or -EINVAL for an unknown point or a probability above 100 (with a message).
 */
int swiommu_fault_set(const char *point, const struct swiommu_fault_attr *attr);

/**
 * swiommu_fault_injected() - failures injected at @point since the machine booted (both ways).
 * @point: a point's name.
 *
 * Return: the count; 0 for an unknown point.
 */
unsigned long swiommu_fault_injected(const char *point);

#endif /* _SWIOMMU_FAULT_INJECT_H */
