/* SPDX-License-Identifier: MIT */
/* Mirrors the Linux 6.17 <linux/stringify.h> for swiommu: turn macro arguments into string literals. */
#ifndef __LINUX_STRINGIFY_H
#define __LINUX_STRINGIFY_H

/*
 * __stringify(FOO) expands FOO first and then quotes the result, so
 * __stringify(__LINE__) yields "42" rather than "__LINE__".  Variadic so that
 * arguments containing commas survive.
 */
#ifndef __stringify_1
#define __stringify_1(...)	#__VA_ARGS__
#endif
#ifndef __stringify
#define __stringify(...)	__stringify_1(__VA_ARGS__)
#endif

#ifndef FILE_LINE
#define FILE_LINE	__FILE__ ":" __stringify(__LINE__)
#endif

#endif /* __LINUX_STRINGIFY_H */
