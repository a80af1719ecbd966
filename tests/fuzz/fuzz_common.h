/* SPDX-License-Identifier: MIT */
/* What the fuzz targets share: reading the input as a stream of numbers, and failing loudly. */
#ifndef SWIOMMU_FUZZ_COMMON_H
#define SWIOMMU_FUZZ_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The input, consumed from the front; past its end every read is 0. */
struct fuzz_stream {
	const uint8_t *data;
	size_t size, pos;
};

static inline int fuzz_more(const struct fuzz_stream *s)
{
	return s->pos < s->size;
}

static inline uint8_t fuzz_u8(struct fuzz_stream *s)
{
	return s->pos < s->size ? s->data[s->pos++] : 0;
}

static inline uint16_t fuzz_u16(struct fuzz_stream *s)
{
	uint16_t lo = fuzz_u8(s);

	return (uint16_t)(lo | fuzz_u8(s) << 8);
}

static inline uint32_t fuzz_u32(struct fuzz_stream *s)
{
	uint32_t lo = fuzz_u16(s);

	return lo | (uint32_t)fuzz_u16(s) << 16;
}

static inline uint64_t fuzz_u64(struct fuzz_stream *s)
{
	uint64_t lo = fuzz_u32(s);

	return lo | (uint64_t)fuzz_u32(s) << 32;
}

static inline int fuzz_bool(struct fuzz_stream *s)
{
	return fuzz_u8(s) & 1;
}

/* A finding: print it and abort, so that libFuzzer (or the replay) saves and reports the input. */
__attribute__((noreturn, format(printf, 1, 2)))
static inline void fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("FUZZ FINDING: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	abort();
}

#define FUZZ_CHECK(cond, ...)						\
	do {								\
		if (!(cond))						\
			fuzz_fail(__VA_ARGS__);				\
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#endif /* SWIOMMU_FUZZ_COMMON_H */
