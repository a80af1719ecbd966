// SPDX-License-Identifier: MIT
// The README's first test: boot the default board, use the kernel's memory API, check what it did.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <swiommu/swiommu.h>

static void kmalloc_memory_has_a_physical_address(void **state)
{
	(void)state;
	char *buf = kmalloc(256, GFP_KERNEL);

	assert_non_null(buf);
	strcpy(buf, "hello, device");
	/* The same bytes, seen through the simulated physical address. */
	assert_string_equal(phys_to_virt(virt_to_phys(buf)), "hello, device");
	kfree(buf);
	assert_int_equal(swiommu_mem_check_leaks(true), 0);
}

static int boot(void **state) { (void)state; return swiommu_init(NULL); }
static int shut_down(void **state) { (void)state; swiommu_exit(); return 0; }

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(kmalloc_memory_has_a_physical_address) };

	return cmocka_run_group_tests(tests, boot, shut_down);
}
