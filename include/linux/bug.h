/* SPDX-License-Identifier: MIT */
/* WARN and BUG, mirroring the kernel's linux/bug.h and asm-generic/bug.h (Linux 6.17) for swiommu. */
#ifndef _LINUX_BUG_H
#define _LINUX_BUG_H

#include <linux/types.h>
#include <linux/compiler.h>

/**
 * __swiommu_warn() - record and print a WARN, as the kernel's __warn() prints "WARNING: ... at file:line".
 * @file: source file.
 * @line: source line.
 * @func: function.
 * @cond: the condition's text.
 * @fmt: WARN()'s message format, or NULL.
 *
 * Every WARN is counted and kept (swiommu_warn_count(), swiommu_warn_last()). The process keeps running.
 */
__attribute__((format(printf, 5, 6)))
void __swiommu_warn(const char *file, int line, const char *func, const char *cond, const char *fmt, ...);

/**
 * __swiommu_bug() - print "kernel BUG at file:line!" and abort, as BUG() stops the kernel.
 * @file: source file.
 * @line: source line.
 * @func: function.
 * @cond: the condition's text.
 */
__attribute__((noreturn))
void __swiommu_bug(const char *file, int line, const char *func, const char *cond);

/* The boot generation: WARN_ON_ONCE fires once per swiommu_init(), as it fires once per boot. */
extern unsigned long swiommu_boot_generation;

#define WARN_ON(condition) ({						\
	int __ret_warn_on = !!(condition);				\
	if (__builtin_expect(__ret_warn_on, 0))				\
		__swiommu_warn(__FILE__, __LINE__, __func__, #condition, NULL); \
	__builtin_expect(__ret_warn_on, 0); })

#define WARN(condition, format...) ({					\
	int __ret_warn_on = !!(condition);				\
	if (__builtin_expect(__ret_warn_on, 0))				\
		__swiommu_warn(__FILE__, __LINE__, __func__, #condition, format); \
	__builtin_expect(__ret_warn_on, 0); })

#define WARN_ON_ONCE(condition) ({					\
	static unsigned long __warned_gen;				\
	int __ret_warn_once = !!(condition);				\
	if (__builtin_expect(__ret_warn_once, 0) && __warned_gen != swiommu_boot_generation) { \
		__warned_gen = swiommu_boot_generation;			\
		__swiommu_warn(__FILE__, __LINE__, __func__, #condition, NULL); \
	}								\
	__builtin_expect(__ret_warn_once, 0); })

#define WARN_ONCE(condition, format...) ({				\
	static unsigned long __warned_gen;				\
	int __ret_warn_once = !!(condition);				\
	if (__builtin_expect(__ret_warn_once, 0) && __warned_gen != swiommu_boot_generation) { \
		__warned_gen = swiommu_boot_generation;			\
		__swiommu_warn(__FILE__, __LINE__, __func__, #condition, format); \
	}								\
	__builtin_expect(__ret_warn_once, 0); })

#define BUG() __swiommu_bug(__FILE__, __LINE__, __func__, "BUG()")
#define BUG_ON(condition) do {						\
	if (__builtin_expect(!!(condition), 0))				\
		__swiommu_bug(__FILE__, __LINE__, __func__, #condition); \
} while (0)

#endif /* _LINUX_BUG_H */
