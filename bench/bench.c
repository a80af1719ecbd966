// SPDX-License-Identifier: MIT
// make bench: the library's hot paths timed through its C ABI, as users call it. Each area's suite (bench_*.c)
// reports figures; this prints them as one table: figure, median of several runs, unit, target, verdict.
// `--json` prints the table as JSON. Benchmarks run with the log console quiet.
#define _GNU_SOURCE
#include <swiommu/swiommu.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bench.h"

#define RUNS		7
#define MAX_FIGURES	128

struct figure {
	const char *suite;
	const char *name;
	double value;
	const char *unit;
	double target;
	bool higher_is_better;
};

static struct figure figures[MAX_FIGURES];
static int nfigures;
static struct bench_suite *suites, **suites_tail = &suites;
static const char *current_suite = "";
void *volatile bench_sink;

void bench_register(struct bench_suite *suite)
{
	*suites_tail = suite;
	suites_tail = &suite->next;
}

void bench_report(const char *name, double value, const char *unit, double target, bool higher_is_better)
{
	if (nfigures < MAX_FIGURES)
		figures[nfigures++] = (struct figure){ current_suite, name, value, unit, target, higher_is_better };
}

double bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double bench_median_ns(void (*fn)(long), long iterations)
{
	double t[RUNS];

	fn(iterations / 10 + 1);
	for (int r = 0; r < RUNS; r++) {
		double start = bench_now_ns();

		fn(iterations);
		t[r] = (bench_now_ns() - start) / (double)iterations;
	}
	qsort(t, RUNS, sizeof(t[0]), cmp_double);
	return t[RUNS / 2];
}

/* How far from its target a figure is: the value over a maximum, the minimum over the value; 1.00 or less
 * meets the target either way. 0 for a figure without a target. */
static double ratio(const struct figure *f)
{
	if (f->target <= 0 || f->value <= 0)
		return 0;
	return f->higher_is_better ? f->target / f->value : f->value / f->target;
}

static const char *verdict(const struct figure *f)
{
	if (f->target <= 0)
		return "-";
	return (f->higher_is_better ? f->value >= f->target : f->value <= f->target) ? "ok" : "MISSED";
}

int main(int argc, char **argv)
{
	/* swiommu_bench [--json] [suite ...]: every suite, or the ones named. */
	bool json = false;
	int named = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else
			named++;
	}

	swiommu_log_set_console_level(0);
	/* Benchmarks run with dma-debug off; bench_dma_debug.c measures it on. */
	swiommu_dma_debug_enable(false);
	if (swiommu_init(NULL)) {
		fprintf(stderr, "swiommu_init failed\n");
		return 1;
	}
	for (struct bench_suite *s = suites; s; s = s->next) {
		bool wanted = named == 0;

		for (int i = 1; i < argc; i++)
			wanted = wanted || strcmp(argv[i], s->name) == 0;
		if (!wanted)
			continue;
		current_suite = s->name;
		s->run();
	}
	/* Leaks are what the machine's teardown finds (default domains live until then, as in the kernel). */
	swiommu_log_reset();
	swiommu_exit();
	if (swiommu_log_contains("allocation(s) leaked")) {
		fprintf(stderr, "the benchmark leaked: %s\n", swiommu_log_last());
		return 1;
	}
	if (json) {
		printf("[\n");
		for (int i = 0; i < nfigures; i++) {
			const struct figure *f = &figures[i];
			char target[32] = "null";

			if (f->target > 0)
				snprintf(target, sizeof(target), "%.1f", f->target);
			printf("  {\"suite\": \"%s\", \"figure\": \"%s\", \"median\": %.2f, \"unit\": \"%s\", "
			       "\"target\": %s, \"ratio\": %.2f, \"verdict\": \"%s\"}%s\n", f->suite, f->name, f->value,
			       f->unit, target, ratio(f), verdict(f), i + 1 < nfigures ? "," : "");
		}
		printf("]\n");
		return 0;
	}
	printf("%-8s %-52s %12s  %-8s %10s  %6s  %s\n", "suite", "figure", "median", "unit", "target", "ratio", "verdict");
	for (int i = 0; i < nfigures; i++) {
		const struct figure *f = &figures[i];
		char target[32] = "-";

		if (f->target > 0)
			snprintf(target, sizeof(target), "%s %.0f", f->higher_is_better ? ">=" : "<=", f->target);
		char r[16] = "-";

		if (ratio(f) > 0)
			snprintf(r, sizeof(r), "%.2f", ratio(f));
		printf("%-8s %-52s %12.1f  %-8s %10s  %6s  %s\n", f->suite, f->name, f->value, f->unit, target, r, verdict(f));
	}
	return 0;
}
