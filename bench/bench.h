/* SPDX-License-Identifier: MIT */
/* make bench: each area registers a suite that reports figures; bench.c runs them and prints one table. */
#ifndef SWIOMMU_BENCH_H
#define SWIOMMU_BENCH_H

#include <stdbool.h>

/**
 * bench_report() - add a figure to the table.
 * @name: what was measured ("kmalloc(64) + kfree").
 * @value: the median measured.
 * @unit: "ns/pair", "ns", "bytes", "GB/s" ...
 * @target: the target, or 0 when there is none.
 * @higher_is_better: true for throughputs (the target is a minimum), false for times and sizes.
 */
void bench_report(const char *name, double value, const char *unit, double target, bool higher_is_better);

/**
 * bench_median_ns() - the median over several runs of @fn(@iterations), in ns per iteration.
 * @fn: the loop to time; called once first with @iterations / 10 to warm up.
 * @iterations: iterations per run.
 */
double bench_median_ns(void (*fn)(long iterations), long iterations);

/* Monotonic time in ns. */
double bench_now_ns(void);

struct bench_suite {
	const char *name;
	void (*run)(void);
	struct bench_suite *next;
};

void bench_register(struct bench_suite *suite);

/* BENCH_SUITE(name, fn): run fn() (which calls bench_report()) as part of make bench, in file order. */
#define BENCH_SUITE(_name, _fn)							\
	static struct bench_suite bench_suite_##_name = { #_name, _fn, 0 };	\
	static void __attribute__((constructor)) bench_register_##_name(void)	\
	{ bench_register(&bench_suite_##_name); }

/* Keeps results alive so the compiler cannot drop the work. */
extern void *volatile bench_sink;

#endif /* SWIOMMU_BENCH_H */
