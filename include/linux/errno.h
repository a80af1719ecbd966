/* SPDX-License-Identifier: MIT */
/* Mirrors the Linux 6.17 <linux/errno.h> for swiommu: the user-visible errno values plus the kernel-internal ones. */

/*
 * glibc's <errno.h> includes <linux/errno.h> (through <bits/errno.h>), so this
 * file is also reached from system headers.  Chain to the installed UAPI
 * header, which has no include guard of its own (its <asm/errno.h> does).
 */
#include_next <linux/errno.h>

#ifndef _LINUX_ERRNO_H
#define _LINUX_ERRNO_H

/* The standard values (EPERM..EHWPOISON) are the kernel's on Linux. */
#include <errno.h>

/*
 * Kernel-internal codes (values as in the kernel).  They never reach user
 * space; in swiommu they travel between the model's layers and drivers,
 * e.g. -EPROBE_DEFER from a probe routine.
 */
#ifndef ERESTARTSYS
#define ERESTARTSYS		512
#endif
#ifndef ERESTARTNOINTR
#define ERESTARTNOINTR		513
#endif
#ifndef ERESTARTNOHAND
#define ERESTARTNOHAND		514	/* restart only if no signal handler ran */
#endif
#ifndef ENOIOCTLCMD
#define ENOIOCTLCMD		515	/* ioctl command not handled here */
#endif
#ifndef ERESTART_RESTARTBLOCK
#define ERESTART_RESTARTBLOCK	516	/* restart via restart_syscall() */
#endif
#ifndef EPROBE_DEFER
#define EPROBE_DEFER		517	/* probe must be retried later */
#endif
#ifndef EOPENSTALE
#define EOPENSTALE		518	/* open raced with a stale dentry */
#endif
#ifndef ENOPARAM
#define ENOPARAM		519	/* unknown parameter */
#endif

/* The NFSv3-derived block; ENOTSUPP is the one drivers commonly use. */
#ifndef EBADHANDLE
#define EBADHANDLE		521	/* bad NFS file handle */
#endif
#ifndef ENOTSYNC
#define ENOTSYNC		522	/* update out of sync */
#endif
#ifndef EBADCOOKIE
#define EBADCOOKIE		523	/* stale cookie */
#endif
#ifndef ENOTSUPP
#define ENOTSUPP		524	/* operation not supported (kernel-internal twin of EOPNOTSUPP) */
#endif
#ifndef ETOOSMALL
#define ETOOSMALL		525	/* buffer or request too small */
#endif
#ifndef ESERVERFAULT
#define ESERVERFAULT		526	/* server error with no errno equivalent */
#endif
#ifndef EBADTYPE
#define EBADTYPE		527	/* type unsupported by server */
#endif
#ifndef EJUKEBOX
#define EJUKEBOX		528	/* request started but will not finish in time */
#endif
#ifndef EIOCBQUEUED
#define EIOCBQUEUED		529	/* I/O queued; completion reported later */
#endif
#ifndef ERECALLCONFLICT
#define ERECALLCONFLICT		530	/* conflicts with recalled state */
#endif
#ifndef ENOGRACE
#define ENOGRACE		531	/* lock reclaim refused */
#endif

#endif /* _LINUX_ERRNO_H */
