/* SPDX-License-Identifier: MIT */
/* Mirrors the Linux 6.17 <linux/compiler.h> (plus the bits of compiler_types.h, compiler_attributes.h, rwonce.h and build_bug.h it pulls in) for swiommu. */
#ifndef __LINUX_COMPILER_H
#define __LINUX_COMPILER_H

#include <linux/stringify.h>
/*
 * glibc's <spawn.h> has a struct member named __used (posix_spawn_file_actions_t). Parse it before the
 * macro below exists, so the member keeps its name and the struct its layout.
 */
#include <spawn.h>
#include <linux/const.h>

/*
 * Every definition below except __always_inline is guarded with #ifndef so
 * that a libc, compiler or another swiommu header that got there first wins
 * without a redefinition warning.  Known overlaps with glibc and the UAPI
 * headers:
 *   - __always_inline: <sys/cdefs.h> #undefs and redefines it (same meaning);
 *     <linux/stddef.h> defines a weaker fallback if it is still undefined.
 *   - __attribute_const__: <sys/cdefs.h> defines it identically.
 *   - __bitwise: <linux/types.h> defines it empty, exactly as here.
 *   - __counted_by(m): newer <linux/stddef.h> defines it empty, as here.
 * Caveat: glibc's <spawn.h> has a (libc-private) struct member named __used.
 * Included after this header, that member turns into an empty declaration;
 * the struct's size and other offsets stay the same on LP64, but include
 * <spawn.h> first if a file needs both.
 */

/* ---- token pasting and unique identifiers (compiler_types.h) ---- */
#ifndef ___PASTE
#define ___PASTE(a, b)	a##b
#endif
#ifndef __PASTE
#define __PASTE(a, b)	___PASTE(a, b)
#endif
#ifndef __UNIQUE_ID
#define __UNIQUE_ID(prefix)	__PASTE(__PASTE(__UNIQUE_ID_, prefix), __COUNTER__)
#endif

/* ---- branch prediction ---- */
#ifndef likely
#define likely(x)	__builtin_expect(!!(x), 1)
#endif
#ifndef unlikely
#define unlikely(x)	__builtin_expect(!!(x), 0)
#endif

/* ---- attributes (compiler_attributes.h) ---- */
/* glibc's <sys/cdefs.h> replaces this with an equivalent definition anyway;
 * replace the weaker UAPI <linux/stddef.h> fallback ("__inline__") too. */
#undef __always_inline
#define __always_inline		inline __attribute__((__always_inline__))

#ifndef noinline
#define noinline		__attribute__((__noinline__))
#endif
#ifndef __maybe_unused
#define __maybe_unused		__attribute__((__unused__))
#endif
#ifndef __always_unused
#define __always_unused		__attribute__((__unused__))
#endif
#ifndef __used
#define __used			__attribute__((__used__))
#endif
#ifndef __must_check
#define __must_check		__attribute__((__warn_unused_result__))
#endif
#ifndef __packed
#define __packed		__attribute__((__packed__))
#endif
#ifndef __aligned
#define __aligned(x)		__attribute__((__aligned__(x)))
#endif
#ifndef __weak
#define __weak			__attribute__((__weak__))
#endif
#ifndef __printf
#define __printf(a, b)		__attribute__((__format__(printf, a, b)))
#endif
#ifndef __scanf
#define __scanf(a, b)		__attribute__((__format__(scanf, a, b)))
#endif
#ifndef __cold
#define __cold			__attribute__((__cold__))
#endif
#ifndef __noreturn
#define __noreturn		__attribute__((__noreturn__))
#endif
#ifndef __pure
#define __pure			__attribute__((__pure__))
#endif
#ifndef __attribute_const__
#define __attribute_const__	__attribute__((__const__))
#endif
#ifndef __section
#define __section(section)	__attribute__((__section__(section)))
#endif
#ifndef __malloc
#define __malloc		__attribute__((__malloc__))
#endif
#ifndef __alloc_size
#define __alloc_size(x, ...)	__attribute__((__alloc_size__(x, ## __VA_ARGS__)))
#endif
#ifndef __deprecated
#define __deprecated		__attribute__((__deprecated__))
#endif
#ifndef notrace
#define notrace			__attribute__((__no_instrument_function__))
#endif
#ifndef fallthrough
#define fallthrough		__attribute__((__fallthrough__))
#endif
/* Bounds annotation for flexible arrays; a no-op here (as with older compilers). */
#ifndef __counted_by
#define __counted_by(m)
#endif
#ifndef __randomize_layout
#define __randomize_layout
#endif

/* ---- sparse annotations: all empty outside sparse ---- */
#ifndef __user
#define __user
#endif
#ifndef __kernel
#define __kernel
#endif
#ifndef __safe
#define __safe
#endif
#ifndef __force
#define __force
#endif
#ifndef __nocast
#define __nocast
#endif
#ifndef __iomem
#define __iomem
#endif
#ifndef __percpu
#define __percpu
#endif
#ifndef __rcu
#define __rcu
#endif
#ifndef __private
#define __private
#endif
#ifndef __bitwise
#define __bitwise
#endif
#ifndef ACCESS_PRIVATE
#define ACCESS_PRIVATE(p, member)	((p)->member)
#endif
#ifndef __chk_user_ptr
#define __chk_user_ptr(x)	((void)0)
#endif
#ifndef __chk_io_ptr
#define __chk_io_ptr(x)		((void)0)
#endif
#ifndef __must_hold
#define __must_hold(x)
#endif
#ifndef __acquires
#define __acquires(x)
#endif
#ifndef __releases
#define __releases(x)
#endif
#ifndef __acquire
#define __acquire(x)		((void)0)
#endif
#ifndef __release
#define __release(x)		((void)0)
#endif
#ifndef __cond_lock
#define __cond_lock(x, c)	(c)
#endif

/* ---- optimizer helpers ---- */
#ifndef barrier
#define barrier()		__asm__ __volatile__("" : : : "memory")
#endif
#ifndef OPTIMIZER_HIDE_VAR
#define OPTIMIZER_HIDE_VAR(var)	__asm__ ("" : "=r" (var) : "0" (var))
#endif
#ifndef unreachable
#define unreachable()		__builtin_unreachable()
#endif

/* ---- type helpers ---- */
/* Are two types/vars the same type (ignoring qualifiers)? */
#ifndef __same_type
#define __same_type(a, b)	__builtin_types_compatible_p(__typeof__(a), __typeof__(b))
#endif

/* Is @type a signed (integer or floating) type? */
#ifndef is_signed_type
#define is_signed_type(type)	(((type)(-1)) < (type)1)
#endif
#ifndef is_unsigned_type
#define is_unsigned_type(type)	(!is_signed_type(type))
#endif

/* statically_true(x): true only if @x is known true at compile time. */
#ifndef statically_true
#define statically_true(x)	(__builtin_constant_p(x) && (x))
#endif

/* ---- build-time assertions (build_bug.h) ---- */
/*
 * BUILD_BUG_ON_ZERO(e) - 0 if @e is false, a compile error if it is true.
 * @e must be an integer constant expression; the result is one too (an int).
 */
#ifndef BUILD_BUG_ON_ZERO
#define BUILD_BUG_ON_ZERO(e)	((int)(sizeof(struct { int:(-!!(e)); })))
#endif

/* Zero, or a compile error if @a is a pointer rather than an array. */
#ifndef __must_be_array
#define __must_be_array(a)	BUILD_BUG_ON_ZERO(__same_type((a), &(a)[0]))
#endif

/*
 * BUILD_BUG_ON_MSG(cond, msg) / BUILD_BUG_ON(cond) - a compile error when
 * @cond is a true integer constant expression.  Statements (use inside a
 * function; at file scope use static_assert()).  The kernel also rejects a
 * condition the optimizer can fold to true after inlining; that needs
 * optimization, so a condition that is not an integer constant expression is
 * not checked here (it is never evaluated either).
 */
#ifndef BUILD_BUG_ON_MSG
#define BUILD_BUG_ON_MSG(cond, msg)					\
	do {								\
		_Static_assert(!const_true(!!(cond)), msg);		\
	} while (0)
#endif
#ifndef BUILD_BUG_ON
#define BUILD_BUG_ON(condition) \
	BUILD_BUG_ON_MSG(condition, "BUILD_BUG_ON failed: " #condition)
#endif
#ifndef BUILD_BUG_ON_NOT_POWER_OF_2
#define BUILD_BUG_ON_NOT_POWER_OF_2(n) \
	BUILD_BUG_ON((n) == 0 || (((n) & ((n) - 1)) != 0))
#endif

/* ---- single, untorn accesses (rwonce.h) ---- */
/*
 * READ_ONCE(x) reads @x exactly once through a volatile access and yields an
 * unqualified rvalue of its type; WRITE_ONCE(x, val) stores exactly once.
 */
#ifndef __READ_ONCE
#define __READ_ONCE(x)	(*(const volatile __typeof__(x) *)&(x))
#endif
#ifndef READ_ONCE
#define READ_ONCE(x)							\
	({ __auto_type __read_once_v = __READ_ONCE(x); __read_once_v; })
#endif
/* (The detour through void * keeps -Wcast-qual quiet for pointer-typed @x.) */
#ifndef __WRITE_ONCE
#define __WRITE_ONCE(x, val)						\
	do { *(volatile __typeof__(x) *)(void *)&(x) = (val); } while (0)
#endif
#ifndef WRITE_ONCE
#define WRITE_ONCE(x, val)	__WRITE_ONCE(x, val)
#endif

/* data_race(expr): evaluate @expr, marking the access as an intentional race. */
#ifndef data_race
#define data_race(expr)							\
	({ __auto_type __data_race_v = (expr); __data_race_v; })
#endif

#endif /* __LINUX_COMPILER_H */
