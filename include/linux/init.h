/* SPDX-License-Identifier: MIT */
/* Initcalls, mirroring the kernel's linux/init.h (Linux 6.17) for swiommu. */
#ifndef _LINUX_INIT_H
#define _LINUX_INIT_H

#include <linux/compiler.h>
/*
 * glibc's <stdlib.h> has a struct member named __init (struct drand48_data). Parse it before the macro
 * below exists, or the member vanishes in this translation unit (and two Clang modules that include
 * <stdlib.h> disagree about the struct).
 */
#include <stdlib.h>

#define __init
#define __exit
#define __initdata
#define __initconst
#define __exitdata
#define __ref
#define __refdata

typedef int (*initcall_t)(void);
typedef void (*exitcall_t)(void);

/**
 * __swiommu_register_initcall() - register a module's init and exit functions.
 * @init: run by swiommu_init() once the machine is up, in registration order (may be NULL).
 * @exit: run by swiommu_exit() before the machine goes down, in reverse order (may be NULL).
 * @name: for messages.
 *
 * module_init()/module_exit() and module_platform_driver() call this from a constructor, so a driver
 * linked into a test binary registers itself at every swiommu_init() as it would at boot.
 */
void __swiommu_register_initcall(initcall_t init, exitcall_t exit, const char *name);

#define __swiommu_initcall_ctor(fn)					\
	static void __attribute__((constructor)) __swiommu_ctor_##fn(void) \
	{ __swiommu_register_initcall(fn, (exitcall_t)0, #fn); }

#define device_initcall(fn)	__swiommu_initcall_ctor(fn)
#define subsys_initcall(fn)	__swiommu_initcall_ctor(fn)
#define arch_initcall(fn)	__swiommu_initcall_ctor(fn)
#define late_initcall(fn)	__swiommu_initcall_ctor(fn)

#endif /* _LINUX_INIT_H */
