// SPDX-License-Identifier: MIT
// Trace events: the ring, the ftrace text file and the callback. The layers format each event's text
// (TP_printk's); this adds ftrace's line prefix and stores it.
#define _GNU_SOURCE
#include <swiommu/trace.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include "swiommu_glue.h"

#define TRACE_ENTRIES	1024
#define TRACE_TEXT	384

unsigned long long swiommu_glue_trace_mask;

static pthread_mutex_t trace_lock = PTHREAD_MUTEX_INITIALIZER;
static char trace_ring[TRACE_ENTRIES][TRACE_TEXT];
static unsigned long trace_total;
static FILE *trace_file;
static swiommu_trace_fn trace_callback;
static void *trace_callback_data;
static struct timespec trace_epoch;

/* The ftrace header of /sys/kernel/tracing/trace (tracer nop, with the irq-info columns). */
static const char trace_header[] =
	"# tracer: nop\n"
	"#\n"
	"#                                _-----=> irqs-off/BH-disabled\n"
	"#                               / _----=> need-resched\n"
	"#                              | / _---=> hardirq/softirq\n"
	"#                              || / _--=> preempt-depth\n"
	"#                              ||| / _-=> migrate-disable\n"
	"#                              |||| /     delay\n"
	"#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n"
	"#              | |         |   |||||     |         |\n";

void swiommu_glue_trace_emit(const char *system, const char *event, const char *text)
{
	/* The task's name and id, read once per thread (each costs a system call). */
	static __thread char task[17];
	static __thread long tid;
	struct timespec now;
	char line[TRACE_TEXT];
	int cpu = sched_getcpu();

	if (!tid) {
		tid = (long)syscall(SYS_gettid);
		if (pthread_getname_np(pthread_self(), task, sizeof(task)) != 0 || !task[0])
			snprintf(task, sizeof(task), "swiommu");
	}
	pthread_mutex_lock(&trace_lock);
	if (trace_epoch.tv_sec == 0 && trace_epoch.tv_nsec == 0)
		clock_gettime(CLOCK_MONOTONIC, &trace_epoch);
	clock_gettime(CLOCK_MONOTONIC, &now);
	long long ns = (long long)(now.tv_sec - trace_epoch.tv_sec) * 1000000000LL + (now.tv_nsec - trace_epoch.tv_nsec);
	snprintf(line, sizeof(line), "%16s-%-7ld [%03d] ..... %6lld.%06lld: %s: %s", task, tid,
		 cpu < 0 ? 0 : cpu, ns / 1000000000LL, (ns / 1000LL) % 1000000LL, event, text);
	memcpy(trace_ring[trace_total % TRACE_ENTRIES], line, sizeof(line));
	trace_total++;
	if (trace_file)
		fprintf(trace_file, "%s\n", line);
	swiommu_trace_fn fn = trace_callback;
	void *data = trace_callback_data;

	pthread_mutex_unlock(&trace_lock);
	if (fn)
		fn(system, event, line, data);
}

int swiommu_glue_trace_open(const char *path)
{
	int ret = 0;

	pthread_mutex_lock(&trace_lock);
	if (trace_file) {
		fclose(trace_file);
		trace_file = NULL;
	}
	if (path) {
		trace_file = fopen(path, "w");
		if (!trace_file)
			ret = -errno;
		else
			fputs(trace_header, trace_file);
	}
	pthread_mutex_unlock(&trace_lock);
	return ret;
}

void swiommu_trace_set_callback(swiommu_trace_fn fn, void *data)
{
	pthread_mutex_lock(&trace_lock);
	trace_callback = fn;
	trace_callback_data = data;
	pthread_mutex_unlock(&trace_lock);
}

unsigned long swiommu_trace_count(void)
{
	pthread_mutex_lock(&trace_lock);
	unsigned long n = trace_total;

	pthread_mutex_unlock(&trace_lock);
	return n;
}

const char *swiommu_trace_last(void)
{
	static __thread char copy[TRACE_TEXT];

	pthread_mutex_lock(&trace_lock);
	if (trace_total == 0)
		copy[0] = 0;
	else
		memcpy(copy, trace_ring[(trace_total - 1) % TRACE_ENTRIES], sizeof(copy));
	pthread_mutex_unlock(&trace_lock);
	return copy;
}

bool swiommu_trace_contains(const char *needle)
{
	bool found = false;

	if (!needle)
		return false;
	pthread_mutex_lock(&trace_lock);
	unsigned long n = trace_total < TRACE_ENTRIES ? trace_total : TRACE_ENTRIES;

	for (unsigned long i = 0; i < n && !found; i++)
		found = strstr(trace_ring[(trace_total - 1 - i) % TRACE_ENTRIES], needle) != NULL;
	pthread_mutex_unlock(&trace_lock);
	return found;
}

void swiommu_trace_reset(void)
{
	pthread_mutex_lock(&trace_lock);
	trace_total = 0;
	pthread_mutex_unlock(&trace_lock);
}
