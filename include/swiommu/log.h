/* SPDX-License-Identifier: MIT */
/* The kernel log and WARN records, as tests query them. */
#ifndef _SWIOMMU_LOG_H
#define _SWIOMMU_LOG_H

#include <linux/types.h>

/**
 * swiommu_log_contains() - whether any message logged since the last swiommu_log_reset() contains
 * @needle (the last 1024 messages are kept).
 * @needle: the text to look for.
 *
 * Return: true or false (false for NULL).
 */
bool swiommu_log_contains(const char *needle);

/**
 * swiommu_log_last() - the last message logged, without its level prefix.
 *
 * Return: the text, valid until the next message; "" when there is none.
 */
const char *swiommu_log_last(void);

/**
 * swiommu_log_count() - messages logged since the last swiommu_log_reset().
 *
 * Return: the count.
 */
unsigned long swiommu_log_count(void);

/**
 * swiommu_log_reset() - forget the messages logged so far.
 */
void swiommu_log_reset(void);

/**
 * swiommu_log_set_console_level() - print messages more severe than @level on stderr (as the kernel's
 * console_loglevel; 0 prints nothing, 8 prints debug messages too). SWIOMMU_LOGLEVEL sets it at start.
 * @level: 0 to 8.
 *
 * Return: the previous level, or -EINVAL for a level out of range.
 */
int swiommu_log_set_console_level(int level);

/**
 * swiommu_warn_count() - WARN records (WARN_ON() in C, and the library's own) since the last reset.
 *
 * Return: the count.
 */
unsigned long swiommu_warn_count(void);

/**
 * swiommu_warn_last() - the last WARN: "file:line function: message".
 *
 * Return: the text, valid until the next WARN; "" when there is none.
 */
const char *swiommu_warn_last(void);

/**
 * swiommu_warn_reset() - forget the WARN records.
 */
void swiommu_warn_reset(void);

#endif /* _SWIOMMU_LOG_H */
