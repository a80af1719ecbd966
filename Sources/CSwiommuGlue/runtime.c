// SPDX-License-Identifier: MIT
// Initcalls, allocation sites, the platform bus object and the syscalls Swift cannot reach.
#define _GNU_SOURCE
#include <linux/init.h>
#include <linux/device.h>
#include <linux/platform_device.h>
#include <swiommu/alloc_tag.h>
#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "swiommu_glue.h"

__thread const struct swiommu_alloc_site *swiommu_alloc_site_current;

long swiommu_glue_fault_countdown[SWIOMMU_FAULT_POINTS];
long swiommu_glue_route_generation = 1;
__thread long swiommu_glue_thread_cpu __attribute__((tls_model("initial-exec")));
struct swiommu_glue_fault_attr swiommu_glue_fault_attrs[SWIOMMU_FAULT_POINTS];
int swiommu_glue_fault_attr_armed[SWIOMMU_FAULT_POINTS];

static const char *const fault_point_names[] = {
	"kmalloc", "alloc_pages", "vmalloc", "iova", "swiotlb", "iommu_map", "attach", "probe",
};

const char *swiommu_glue_fault_point_name(int point)
{
	if (point < 0 || point >= (int)(sizeof(fault_point_names) / sizeof(fault_point_names[0])))
		return NULL;
	return fault_point_names[point];
}

static pthread_mutex_t fault_lock = PTHREAD_MUTEX_INITIALIZER;

/* fail_dump(): the kernel prints this when a fault_attr's verbose is set (its default). */
static void fault_dump(int point, const struct swiommu_glue_fault_attr *a)
{
	swiommu_glue_log(5, "FAULT_INJECTION: forcing a failure.");
	char line[192];

	snprintf(line, sizeof(line), "name %s, interval %ld, probability %ld, space %ld, times %ld",
		 fault_point_names[point], a->interval, a->probability, a->space, a->times);
	swiommu_glue_log(5, line);
}

void swiommu_glue_fault_fired(int point)
{
	pthread_mutex_lock(&fault_lock);
	struct swiommu_glue_fault_attr *a = &swiommu_glue_fault_attrs[point];

	a->injected++;
	if (a->verbose)
		fault_dump(point, a);
	pthread_mutex_unlock(&fault_lock);
}

/* xorshift64*: a reproducible stream per point, from its seed. */
static unsigned int fault_random_below(struct swiommu_glue_fault_attr *a, unsigned int bound)
{
	unsigned long long x = a->random ? a->random : 0x9e3779b97f4a7c15ULL;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	a->random = x;
	return (unsigned int)(((x * 0x2545f4914f6cdd1dULL) >> 32) % bound);
}

/* should_fail_ex() after the fail-nth check: probability, times, space, interval, then the dice. */
bool swiommu_glue_fault_attr_should_fail(int point)
{
	bool fail = false;

	pthread_mutex_lock(&fault_lock);
	struct swiommu_glue_fault_attr *a = &swiommu_glue_fault_attrs[point];

	if (a->probability == 0 || a->times == 0)
		goto out;
	if (a->space > 0) {
		a->space--;
		goto out;
	}
	if (a->interval > 1) {
		a->count++;
		if (a->count % (unsigned long)a->interval)
			goto out;
	}
	if (a->probability <= (long)fault_random_below(a, 100))
		goto out;
	if (a->times != -1)
		a->times--;
	fail = true;
	a->injected++;
	if (a->verbose)
		fault_dump(point, a);
out:
	pthread_mutex_unlock(&fault_lock);
	return fail;
}

const struct bus_type platform_bus_type = {
	.name = "platform",
};

/* PCI-like devices (children of a host bridge node) sit on this bus, so dev_is_pci() is true. */
const struct bus_type pci_bus_type = {
	.name = "pci",
};

#define MAX_INITCALLS 256

struct initcall {
	initcall_t init;
	exitcall_t exit;
	const char *name;
};

static pthread_mutex_t initcall_lock = PTHREAD_MUTEX_INITIALIZER;
static struct initcall initcalls[MAX_INITCALLS];
static unsigned int initcall_count;

void __swiommu_register_initcall(initcall_t init, exitcall_t exit, const char *name)
{
	pthread_mutex_lock(&initcall_lock);
	if (initcall_count < MAX_INITCALLS)
		initcalls[initcall_count++] = (struct initcall){ init, exit, name };
	pthread_mutex_unlock(&initcall_lock);
}

unsigned int swiommu_glue_initcall_count(void)
{
	return initcall_count;
}

/* Run every init function in registration order; a failure is logged as the kernel's do_one_initcall does. */
int swiommu_glue_run_initcalls(void)
{
	int failures = 0;

	for (unsigned int i = 0; i < initcall_count; i++) {
		if (!initcalls[i].init)
			continue;
		int ret = initcalls[i].init();

		if (ret) {
			printk(KERN_WARNING "initcall %s returned %d\n", initcalls[i].name, ret);
			failures++;
		}
	}
	return failures;
}

void swiommu_glue_run_exitcalls(void)
{
	for (unsigned int i = initcall_count; i-- > 0;)
		if (initcalls[i].exit)
			initcalls[i].exit();
}

int swiommu_glue_memfd_create(const char *name)
{
	int fd = (int)syscall(SYS_memfd_create, name, 0u);

	return fd < 0 ? -errno : fd;
}

const struct swiommu_alloc_site *swiommu_glue_alloc_site(void)
{
	return swiommu_alloc_site_current;
}

const char *swiommu_glue_site_file(const struct swiommu_alloc_site *site)
{
	return site ? site->file : "?";
}

const char *swiommu_glue_site_func(const struct swiommu_alloc_site *site)
{
	return site ? site->func : "?";
}

int swiommu_glue_site_line(const struct swiommu_alloc_site *site)
{
	return site ? site->line : 0;
}
