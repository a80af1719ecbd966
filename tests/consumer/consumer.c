// SPDX-License-Identifier: MIT
// An out-of-tree consumer of an installed swiommu: boot, allocate, check, tear down.
#include <linux/slab.h>
#include <linux/mm.h>
#include <swiommu/swiommu.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
	if (swiommu_init(NULL))
		return 1;
	char *buf = kmalloc(64, GFP_KERNEL);
	if (!buf)
		return 2;
	strcpy(buf, "consumer");
	int ok = strcmp(phys_to_virt(virt_to_phys(buf)), "consumer") == 0;
	kfree(buf);
	long leaks = swiommu_mem_check_leaks(false);
	swiommu_exit();
	printf("swiommu %s consumer: %s\n", swiommu_version(), ok && leaks == 0 ? "ok" : "FAILED");
	return ok && leaks == 0 ? 0 : 3;
}
