/* SPDX-License-Identifier: MIT */
/* Module boilerplate, mirroring the kernel's linux/module.h (Linux 6.17) for swiommu. */
#ifndef _LINUX_MODULE_H
#define _LINUX_MODULE_H

/*
 * The system has a <linux/module.h> (module syscall flags) that no glibc header includes; kernel code
 * means this one. Chain to it so nothing it defines goes missing.
 */
#include_next <linux/module.h>
#include <linux/types.h>
#include <linux/init.h>
#include <linux/export.h>

/**
 * struct module - a loadable module; everything here is built in, so THIS_MODULE is NULL.
 * @name: unused.
 */
struct module {
	const char *name;
};
#define THIS_MODULE	((struct module *)0)

#define MODULE_LICENSE(x)
#define MODULE_AUTHOR(x)
#define MODULE_DESCRIPTION(x)
#define MODULE_ALIAS(x)
#define MODULE_VERSION(x)
#define MODULE_FIRMWARE(x)
#define MODULE_SOFTDEP(x)
#define MODULE_IMPORT_NS(x)
#define MODULE_DEVICE_TABLE(type, name)
#define module_param(name, type, perm)
#define module_param_named(name, value, type, perm)
#define MODULE_PARM_DESC(name, desc)

/* module_init()/module_exit(): registered from a constructor, run at swiommu_init()/swiommu_exit(). */
#define module_init(initfn)						\
	static void __attribute__((constructor)) __swiommu_modinit_##initfn(void) \
	{ __swiommu_register_initcall(initfn, (exitcall_t)0, #initfn); }
#define module_exit(exitfn)						\
	static void __attribute__((constructor)) __swiommu_modexit_##exitfn(void) \
	{ __swiommu_register_initcall((initcall_t)0, exitfn, #exitfn); }

/* module_driver(): as the kernel's linux/device/driver.h defines it. */
#define module_driver(__driver, __register, __unregister, ...)		\
static int __init __driver##_init(void)					\
{									\
	return __register(&(__driver), ##__VA_ARGS__);			\
}									\
module_init(__driver##_init);						\
static void __exit __driver##_exit(void)				\
{									\
	__unregister(&(__driver), ##__VA_ARGS__);			\
}									\
module_exit(__driver##_exit);

#define builtin_driver(__driver, __register, ...)			\
static int __init __driver##_init(void)					\
{									\
	return __register(&(__driver), ##__VA_ARGS__);			\
}									\
device_initcall(__driver##_init);

static inline bool try_module_get(struct module *m) { (void)m; return true; }
static inline void module_put(struct module *m) { (void)m; }

#endif /* _LINUX_MODULE_H */
