// SPDX-License-Identifier: MIT
// The kernel log: printk, dev_printk, WARN and BUG, kept in a ring that tests query.
#define _GNU_SOURCE
#include <linux/printk.h>
#include <linux/bug.h>
#include <linux/device.h>
#include <linux/errno.h>
#include <swiommu/log.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "swiommu_glue.h"

#define LOG_ENTRIES	1024
#define LOG_TEXT	512

struct log_entry {
	int level;
	char text[LOG_TEXT];
};

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static struct log_entry log_ring[LOG_ENTRIES];
static unsigned long log_total;		/* messages since the last reset */
static char last_warn[LOG_TEXT];
static unsigned long warn_total;
static int console_level = -1;		/* -1: not read from SWIOMMU_LOGLEVEL yet */
static struct timespec boot_time;

unsigned long swiommu_boot_generation = 1;

static int console_level_locked(void)
{
	if (console_level < 0) {
		const char *env = getenv("SWIOMMU_LOGLEVEL");

		console_level = 5;
		if (env && *env >= '0' && *env <= '8' && env[1] == '\0')
			console_level = *env - '0';
	}
	return console_level;
}

static double seconds_since_boot(void)
{
	struct timespec now;

	if (boot_time.tv_sec == 0 && boot_time.tv_nsec == 0)
		clock_gettime(CLOCK_MONOTONIC, &boot_time);
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - boot_time.tv_sec) + (double)(now.tv_nsec - boot_time.tv_nsec) / 1e9;
}

/* Store one message; KERN_CONT text extends the previous one. Caller holds log_lock. */
static void log_store_locked(int level, bool cont, const char *text)
{
	struct log_entry *e;
	size_t len = strlen(text);

	while (len && text[len - 1] == '\n')
		len--;
	if (cont && log_total) {
		e = &log_ring[(log_total - 1) % LOG_ENTRIES];
		size_t have = strlen(e->text);
		size_t room = LOG_TEXT - 1 - have;

		if (len > room)
			len = room;
		memcpy(e->text + have, text, len);
		e->text[have + len] = '\0';
	} else {
		e = &log_ring[log_total % LOG_ENTRIES];
		if (len > LOG_TEXT - 1)
			len = LOG_TEXT - 1;
		e->level = level;
		memcpy(e->text, text, len);
		e->text[len] = '\0';
		log_total++;
	}
	if (level < console_level_locked()) {
		if (cont)
			fprintf(stderr, "%.*s", (int)len, text);
		else
			fprintf(stderr, "[%12.6f] %.*s", seconds_since_boot(), (int)len, text);
		if (text[len] == '\n' || !cont)
			fputc('\n', stderr);
	}
}

/* Split a KERN_<LEVEL> prefix off @fmt. */
static const char *parse_level(const char *fmt, int *level, bool *cont)
{
	*level = LOGLEVEL_WARNING;	/* the kernel's default message level */
	*cont = false;
	while (fmt[0] == KERN_SOH_ASCII && fmt[1]) {
		if (fmt[1] >= '0' && fmt[1] <= '7')
			*level = fmt[1] - '0';
		else if (fmt[1] == 'c')
			*cont = true;
		fmt += 2;
	}
	return fmt;
}

static int vlog(int level, bool cont, const char *prefix, const char *fmt, va_list ap)
{
	char buf[LOG_TEXT];
	int n = 0;

	if (prefix)
		n = snprintf(buf, sizeof(buf), "%s", prefix);
	if (n < 0 || (size_t)n >= sizeof(buf))
		n = 0;
	int m = vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);

	pthread_mutex_lock(&log_lock);
	log_store_locked(level, cont, buf);
	pthread_mutex_unlock(&log_lock);
	return m < 0 ? n : n + m;
}

void swiommu_glue_log(int level, const char *text)
{
	pthread_mutex_lock(&log_lock);
	log_store_locked(level, false, text);
	pthread_mutex_unlock(&log_lock);
}

int printk(const char *fmt, ...)
{
	int level;
	bool cont;
	va_list ap;

	fmt = parse_level(fmt, &level, &cont);
	va_start(ap, fmt);
	int n = vlog(level, cont, NULL, fmt, ap);
	va_end(ap);
	return n;
}

const char *dev_driver_string(const struct device *dev)
{
	if (!dev)
		return "";
	if (dev->driver && dev->driver->name)
		return dev->driver->name;
	if (dev->bus && dev->bus->name)
		return dev->bus->name;
	return "";
}

static void dev_vlog(int level, const struct device *dev, const char *fmt, va_list ap)
{
	char prefix[160];

	if (dev)
		snprintf(prefix, sizeof(prefix), "%s %s: ", dev_driver_string(dev), dev_name(dev) ? dev_name(dev) : "");
	else
		snprintf(prefix, sizeof(prefix), "(NULL device *): ");
	vlog(level, false, prefix, fmt, ap);
}

void _dev_printk(const char *level, const struct device *dev, const char *fmt, ...)
{
	int lvl;
	bool cont;
	va_list ap;

	parse_level(level ? level : "", &lvl, &cont);
	va_start(ap, fmt);
	dev_vlog(lvl, dev, fmt, ap);
	va_end(ap);
}

#define DEFINE_DEV_LEVEL(fn, lvl)						\
void fn(const struct device *dev, const char *fmt, ...)				\
{										\
	va_list ap;								\
	va_start(ap, fmt);							\
	dev_vlog(lvl, dev, fmt, ap);						\
	va_end(ap);								\
}
DEFINE_DEV_LEVEL(_dev_emerg, LOGLEVEL_EMERG)
DEFINE_DEV_LEVEL(_dev_alert, LOGLEVEL_ALERT)
DEFINE_DEV_LEVEL(_dev_crit, LOGLEVEL_CRIT)
DEFINE_DEV_LEVEL(_dev_err, LOGLEVEL_ERR)
DEFINE_DEV_LEVEL(_dev_warn, LOGLEVEL_WARNING)
DEFINE_DEV_LEVEL(_dev_notice, LOGLEVEL_NOTICE)
DEFINE_DEV_LEVEL(_dev_info, LOGLEVEL_INFO)

int dev_err_probe(const struct device *dev, int err, const char *fmt, ...)
{
	char msg[LOG_TEXT];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* As the kernel's: deferral is a debug message, other errors name the error code. */
	if (err == -EPROBE_DEFER)
		_dev_printk(KERN_DEBUG, dev, "error %d: %s", err, msg);
	else
		_dev_err(dev, "error %d: %s", err, msg);
	return err;
}

static void warn_record(const char *file, int line, const char *func, const char *text)
{
	char where[LOG_TEXT];

	pthread_mutex_lock(&log_lock);
	log_store_locked(LOGLEVEL_WARNING, false, "------------[ cut here ]------------");
	if (text && *text)
		log_store_locked(LOGLEVEL_WARNING, false, text);
	snprintf(where, sizeof(where), "WARNING: at %s:%d %s", file, line, func);
	log_store_locked(LOGLEVEL_WARNING, false, where);
	snprintf(last_warn, sizeof(last_warn), "%s:%d %s: %s", file, line, func, text ? text : "");
	warn_total++;
	pthread_mutex_unlock(&log_lock);
}

void __swiommu_warn(const char *file, int line, const char *func, const char *cond, const char *fmt, ...)
{
	char msg[LOG_TEXT];

	if (fmt) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
	} else {
		snprintf(msg, sizeof(msg), "WARN_ON(%s)", cond ? cond : "");
	}
	warn_record(file, line, func, msg);
}

void swiommu_glue_warn(const char *file, int line, const char *func, const char *text)
{
	warn_record(file, line, func, text);
}

void __swiommu_bug(const char *file, int line, const char *func, const char *cond)
{
	fprintf(stderr, "kernel BUG at %s:%d! (%s: %s)\n", file, line, func, cond);
	fflush(stderr);
	abort();
}

void swiommu_glue_new_boot(void)
{
	pthread_mutex_lock(&log_lock);
	swiommu_boot_generation++;
	clock_gettime(CLOCK_MONOTONIC, &boot_time);
	pthread_mutex_unlock(&log_lock);
}

bool swiommu_log_contains(const char *needle)
{
	bool found = false;

	if (!needle)
		return false;
	pthread_mutex_lock(&log_lock);
	unsigned long n = log_total < LOG_ENTRIES ? log_total : LOG_ENTRIES;
	for (unsigned long i = 0; i < n && !found; i++)
		found = strstr(log_ring[(log_total - 1 - i) % LOG_ENTRIES].text, needle) != NULL;
	pthread_mutex_unlock(&log_lock);
	return found;
}

const char *swiommu_log_last(void)
{
	const char *t = "";

	pthread_mutex_lock(&log_lock);
	if (log_total)
		t = log_ring[(log_total - 1) % LOG_ENTRIES].text;
	pthread_mutex_unlock(&log_lock);
	return t;
}

unsigned long swiommu_log_count(void)
{
	pthread_mutex_lock(&log_lock);
	unsigned long n = log_total;
	pthread_mutex_unlock(&log_lock);
	return n;
}

void swiommu_log_reset(void)
{
	pthread_mutex_lock(&log_lock);
	log_total = 0;
	memset(log_ring, 0, sizeof(log_ring));
	pthread_mutex_unlock(&log_lock);
}

int swiommu_log_set_console_level(int level)
{
	if (level < 0 || level > 8)
		return -EINVAL;
	pthread_mutex_lock(&log_lock);
	int old = console_level_locked();
	console_level = level;
	pthread_mutex_unlock(&log_lock);
	return old;
}

unsigned long swiommu_warn_count(void)
{
	pthread_mutex_lock(&log_lock);
	unsigned long n = warn_total;
	pthread_mutex_unlock(&log_lock);
	return n;
}

const char *swiommu_warn_last(void)
{
	return last_warn;
}

void swiommu_warn_reset(void)
{
	pthread_mutex_lock(&log_lock);
	warn_total = 0;
	last_warn[0] = '\0';
	pthread_mutex_unlock(&log_lock);
}
