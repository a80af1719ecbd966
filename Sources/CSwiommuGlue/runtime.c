// SPDX-License-Identifier: MIT
// Initcalls, allocation sites, the platform bus object and the syscalls Swift cannot reach.
#define _GNU_SOURCE
#include <linux/init.h>
#include <linux/device.h>
#include <linux/platform_device.h>
#include <swiommu/alloc_tag.h>
#include <errno.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "swiommu_glue.h"

__thread const struct swiommu_alloc_site *swiommu_alloc_site_current;

long swiommu_glue_fault_countdown[SWIOMMU_FAULT_POINTS];
long swiommu_glue_route_generation = 1;

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
