// SPDX-License-Identifier: MIT
// Board loading on its error paths: every board that cannot be loaded makes swiommu_init() return
// -EINVAL, log exactly one message naming the file (and the node and property where there is one),
// and leave the machine down; a following swiommu_init(NULL) boots. Also -EBUSY while a machine is up.
// Bad boards are written to /tmp at test time (.dts through dtc, or raw bytes for blob errors).
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/device.h>
#include <linux/errno.h>
#include <swiommu/swiommu.h>

#define RK3399	SWIOMMU_SOURCE_DIR "/tests/boards/rk3399.dts"
#define DEFAULT	SWIOMMU_SOURCE_DIR "/examples/boards/default.dts"

static char board_path[160];

static int clean_up(void **state)
{
	(void)state;
	swiommu_exit();
	if (board_path[0])
		unlink(board_path);
	board_path[0] = '\0';
	return 0;
}

/* Write @len bytes to /tmp/swiommu-test-board-<pid>-<tag> and return the path. */
static const char *write_file(const char *tag, const void *bytes, size_t len)
{
	snprintf(board_path, sizeof(board_path), "/tmp/swiommu-test-board-%d-%s", (int)getpid(), tag);
	FILE *f = fopen(board_path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(bytes, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return board_path;
}

static const char *write_dts(const char *tag, const char *text)
{
	char name[64];

	snprintf(name, sizeof(name), "%s.dts", tag);
	return write_file(name, text, strlen(text));
}

/* A real blob: the default board compiled by dtc. @len gets its size; free() it. */
static unsigned char *real_dtb(size_t *len)
{
	char path[128], cmd[512];

	snprintf(path, sizeof(path), "/tmp/swiommu-test-board-%d-real.dtb", (int)getpid());
	snprintf(cmd, sizeof(cmd), "dtc -q -I dts -O dtb -o %s %s", path, DEFAULT);
	assert_int_equal(system(cmd), 0);
	FILE *f = fopen(path, "rb");

	assert_non_null(f);
	unsigned char *bytes = malloc(1 << 20);

	assert_non_null(bytes);
	*len = fread(bytes, 1, 1 << 20, f);
	fclose(f);
	unlink(path);
	assert_true(*len > 40);
	return bytes;
}

static void expect_in_message(const char *msg, const char *what)
{
	if (what && !strstr(msg, what))
		print_error("message \"%s\" does not mention \"%s\"\n", msg, what);
	if (what)
		assert_non_null(strstr(msg, what));
}

/*
 * swiommu_init(@path) (at @page_shift) fails with -EINVAL and one message naming the file, @node,
 * @property and @detail (each when not NULL); the machine stays down and the default board boots next.
 */
static void expect_load_error_at(const char *path, unsigned int page_shift, const char *node,
				 const char *property, const char *detail)
{
	char node_property[256];

	swiommu_log_reset();
	assert_int_equal(swiommu_init_page_shift(path, page_shift), -EINVAL);
	assert_false(swiommu_is_up());
	assert_null(swiommu_find_device("/soc/isp@fe0a0000"));
	const char *msg = swiommu_log_last();

	if (swiommu_log_count() != 1)
		print_error("%lu messages, the last: %s\n", swiommu_log_count(), msg);
	assert_int_equal(swiommu_log_count(), 1);
	expect_in_message(msg, path);
	expect_in_message(msg, node);
	expect_in_message(msg, property);
	if (node && property) {
		snprintf(node_property, sizeof(node_property), "%s: %s", node, property);
		expect_in_message(msg, node_property);
	}
	expect_in_message(msg, detail);

	/* Nothing was left behind: the default board boots. */
	assert_int_equal(swiommu_init(NULL), 0);
	assert_true(swiommu_is_up());
	assert_non_null(swiommu_find_device("/soc/isp@fe0a0000"));
	swiommu_exit();
	assert_false(swiommu_is_up());
}

static void expect_load_error(const char *path, const char *node, const char *property, const char *detail)
{
	expect_load_error_at(path, 12, node, property, detail);
}

#define HEAD					\
	"/dts-v1/;\n"				\
	"/ {\n"					\
	"\t#address-cells = <2>;\n"		\
	"\t#size-cells = <2>;\n"

#define MEMORY						\
	"\tmemory@80000000 {\n"				\
	"\t\tdevice_type = \"memory\";\n"		\
	"\t\treg = <0x0 0x80000000 0x0 0x10000000>;\n"	\
	"\t};\n"

/* A soc bus with an MMU-500 (#iommu-cells = <2>); append masters, then SOC_END. */
#define SOC						\
	"\tsoc {\n"					\
	"\t\tcompatible = \"simple-bus\";\n"		\
	"\t\t#address-cells = <2>;\n"			\
	"\t\t#size-cells = <2>;\n"			\
	"\t\tranges;\n"					\
	"\t\tsmmu: iommu@fd800000 {\n"			\
	"\t\t\tcompatible = \"arm,mmu-500\";\n"		\
	"\t\t\treg = <0x0 0xfd800000 0x0 0x40000>;\n"	\
	"\t\t\t#iommu-cells = <2>;\n"			\
	"\t\t};\n"

#define SOC_END "\t};\n"
#define END "};\n"

#define MASTER(props)					\
	"\t\tmaster@fe000000 {\n"			\
	"\t\t\tcompatible = \"swiommu,test-master\";\n"	\
	"\t\t\treg = <0x0 0xfe000000 0x0 0x1000>;\n"	\
	props						\
	"\t\t};\n"

/* ------------------------------------------------------------------------------------------------ */
/* Files that are not boards */

static void missing_file(void **state)
{
	(void)state;
	char path[128];

	snprintf(path, sizeof(path), "/tmp/swiommu-test-board-%d-no-such-board.dtb", (int)getpid());
	expect_load_error(path, NULL, NULL, "No such file");
	snprintf(path, sizeof(path), "/tmp/swiommu-test-board-%d-no-such-board.dts", (int)getpid());
	expect_load_error(path, NULL, NULL, NULL);
	expect_load_error("/tmp", NULL, NULL, NULL);
}

static void file_that_is_not_a_dtb(void **state)
{
	(void)state;
	static const char text[] = "This is a text file, not a flattened device tree; it is long enough.\n";

	expect_load_error(write_file("text.dtb", text, sizeof(text) - 1), NULL, NULL, "magic");
	clean_up(state);
	/* Shorter than a header. */
	expect_load_error(write_file("short.dtb", "\xd0\x0d\xfe\xed", 4), NULL, NULL, "truncated");
	clean_up(state);
	expect_load_error(write_file("empty.dtb", "", 0), NULL, NULL, NULL);
}

static void truncated_dtb(void **state)
{
	(void)state;
	size_t len;
	unsigned char *dtb = real_dtb(&len);

	/* The header's totalsize is more than the file has. */
	expect_load_error(write_file("half.dtb", dtb, len / 2), NULL, NULL, "truncated");
	clean_up(state);
	expect_load_error(write_file("all-but-one.dtb", dtb, len - 1), NULL, NULL, "truncated");
	clean_up(state);
	expect_load_error(write_file("header-only.dtb", dtb, 40), NULL, NULL, "truncated");
	free(dtb);
}

static void malformed_dtb(void **state)
{
	(void)state;
	size_t len;
	unsigned char *dtb = real_dtb(&len);
	/* fdt_header.off_dt_struct (big-endian, at offset 8): overwrite the structure block. */
	size_t off_struct = (size_t)dtb[8] << 24 | (size_t)dtb[9] << 16 | (size_t)dtb[10] << 8 | dtb[11];

	assert_true(off_struct + 64 < len);
	memset(dtb + off_struct, 0xff, 64);
	expect_load_error(write_file("malformed.dtb", dtb, len), NULL, NULL, NULL);
	free(dtb);
}

/* A property length that wraps the structure offset around: libfdt 1.6's fdt_check_full() lets -3 pass when
 * what follows the property's header still reads as tags (here the value <4>, FDT_NOP), so the loader checks
 * that each value lies in the blob. Found by the board fuzzer (tests/fuzz): a 4 GiB allocation. */
static void property_length_that_wraps(void **state)
{
	(void)state;
	static const unsigned char prop[] = { 0, 0, 0, 3, 0, 0, 0, 4 };	/* FDT_PROP, len 4 */
	const char *dts = write_dts("wrap", HEAD "\tnop-cell = <4>;\n" MEMORY END);
	char path[128], cmd[512];
	unsigned char dtb[4096];
	size_t len, p;
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/swiommu-test-board-%d-wrap.dtb", (int)getpid());
	snprintf(cmd, sizeof(cmd), "dtc -q -I dts -O dtb -o %s %s", path, dts);
	assert_int_equal(system(cmd), 0);
	f = fopen(path, "rb");
	assert_non_null(f);
	len = fread(dtb, 1, sizeof(dtb), f);
	fclose(f);
	/* The property whose value is the cell 4: its header, then the name offset, then 00 00 00 04. */
	for (p = 40; p + 16 <= len; p += 4)
		if (!memcmp(dtb + p, prop, sizeof(prop)) && !memcmp(dtb + p + 12, prop + 4, 4))
			break;
	assert_true(p + 16 <= len);
	memset(dtb + p + 4, 0xff, 3);		/* len = 0xfffffffd (-3) */
	dtb[p + 7] = 0xfd;
	expect_load_error(write_file("wrapped-length.dtb", dtb, len), "/", "nop-cell", "runs past the blob");
	unlink(path);
}

static void dts_with_a_syntax_error(void **state)
{
	(void)state;
	static const char text[] = HEAD MEMORY "\tsoc {\n\t\tcompatible = \"simple-bus\"\n\t};\n" END;

	expect_load_error(write_dts("syntax", text), NULL, NULL, "dtc");
	clean_up(state);
	/* dtc rejects a label that does not exist. */
	static const char label[] = HEAD MEMORY SOC MASTER("\t\t\tiommus = <&nowhere 0x10 0x0>;\n") SOC_END END;

	expect_load_error(write_dts("label", label), NULL, NULL, "dtc");
}

/* ------------------------------------------------------------------------------------------------ */
/* iommus, iommu-map, memory-region, iommu-addresses, renesas,ipmmu-main */

static void dangling_phandle_in_iommus(void **state)
{
	(void)state;
	static const char text[] = HEAD MEMORY SOC MASTER("\t\t\tiommus = <0x99 1>;\n") SOC_END END;

	expect_load_error(write_dts("iommus-dangling", text), "/soc/master@fe000000", "iommus", "0x99");
	clean_up(state);
	/* The second entry dangles. */
	static const char second[] = HEAD MEMORY SOC
		MASTER("\t\t\tiommus = <&smmu 0x10 0x0>, <0x99 0x11 0x0>;\n") SOC_END END;

	expect_load_error(write_dts("iommus-dangling-2", second), "/soc/master@fe000000", "iommus", "0x99");
}

static void iommus_entry_short_of_iommu_cells(void **state)
{
	(void)state;
	/* #iommu-cells = <2>, but the last entry has one cell. */
	static const char text[] = HEAD MEMORY SOC
		MASTER("\t\t\tiommus = <&smmu 0x10 0x0>, <&smmu 0x11>;\n") SOC_END END;

	expect_load_error(write_dts("iommus-short", text), "/soc/master@fe000000", "iommus", NULL);
	clean_up(state);
	static const char one[] = HEAD MEMORY SOC MASTER("\t\t\tiommus = <&smmu>;\n") SOC_END END;

	expect_load_error(write_dts("iommus-short-1", one), "/soc/master@fe000000", "iommus", NULL);
	clean_up(state);
	/* The target has no #iommu-cells at all. */
	static const char no_cells[] = HEAD MEMORY
		"\tsoc {\n"
		"\t\tcompatible = \"simple-bus\";\n"
		"\t\t#address-cells = <2>;\n"
		"\t\t#size-cells = <2>;\n"
		"\t\tranges;\n"
		"\t\tmmu: iommu@fe0b0000 {\n"
		"\t\t\tcompatible = \"rockchip,iommu\";\n"
		"\t\t\treg = <0x0 0xfe0b0000 0x0 0x100>;\n"
		"\t\t};\n"
		MASTER("\t\t\tiommus = <&mmu>;\n") SOC_END END;

	expect_load_error(write_dts("iommus-no-cells", no_cells), "/soc/master@fe000000", "iommus", "#iommu-cells");
}

#define PCIE(map)								\
	"\tpcie@40000000 {\n"							\
	"\t\tcompatible = \"pci-host-ecam-generic\";\n"				\
	"\t\tdevice_type = \"pci\";\n"						\
	"\t\treg = <0x0 0x40000000 0x0 0x1000000>;\n"				\
	"\t\t#address-cells = <3>;\n"						\
	"\t\t#size-cells = <2>;\n"						\
	"\t\tranges = <0x02000000 0x0 0x50000000 0x0 0x50000000 0x0 0x10000000>;\n" \
	map									\
	"\t\tnic@0,0 {\n"							\
	"\t\t\tcompatible = \"swiommu,test-nic\";\n"				\
	"\t\t\treg = <0x0 0x0 0x0 0x0 0x0>;\n"					\
	"\t\t};\n"								\
	"\t};\n"

static void iommu_map_not_whole_entries(void **state)
{
	(void)state;
	static const char text[] = HEAD MEMORY SOC SOC_END
		PCIE("\t\tiommu-map = <0x0 &smmu 0x1000>;\n") END;

	expect_load_error(write_dts("iommu-map-short", text), "/pcie@40000000", "iommu-map", NULL);
	clean_up(state);
	static const char five[] = HEAD MEMORY SOC SOC_END
		PCIE("\t\tiommu-map = <0x0 &smmu 0x1000 0x100>, <0x100>;\n") END;

	expect_load_error(write_dts("iommu-map-five", five), "/pcie@40000000", "iommu-map", NULL);
}

static void iommu_map_names_a_missing_phandle(void **state)
{
	(void)state;
	static const char text[] = HEAD MEMORY SOC SOC_END
		PCIE("\t\tiommu-map = <0x0 &smmu 0x1000 0x100>, <0x100 0x77 0x2000 0x100>;\n") END;

	expect_load_error(write_dts("iommu-map-dangling", text), "/pcie@40000000", "iommu-map", "0x77");
}

static void memory_region_names_a_missing_phandle(void **state)
{
	(void)state;
	static const char text[] = HEAD MEMORY SOC MASTER("\t\t\tmemory-region = <0x55>;\n") SOC_END END;

	expect_load_error(write_dts("memory-region", text), "/soc/master@fe000000", "memory-region", "0x55");
}

#define RESERVED(props)								\
	"\treserved-memory {\n"							\
	"\t\t#address-cells = <2>;\n"						\
	"\t\t#size-cells = <2>;\n"						\
	"\t\tranges;\n"								\
	"\t\tfw: firmware@8f000000 {\n"						\
	"\t\t\treg = <0x0 0x8f000000 0x0 0x100000>;\n"				\
	props									\
	"\t\t};\n"								\
	"\t};\n"

static void iommu_addresses_cut_short(void **state)
{
	(void)state;
	/* The master's bus has 2 + 2 cells: <&master iova-hi iova-lo size-hi size-lo>. */
	static const char text[] = HEAD MEMORY
		RESERVED("\t\t\tiommu-addresses = <&master 0x0 0x8f000000>;\n")
		SOC "\t\tmaster: master@fe000000 {\n"
		"\t\t\tcompatible = \"swiommu,test-master\";\n"
		"\t\t\treg = <0x0 0xfe000000 0x0 0x1000>;\n"
		"\t\t\tmemory-region = <&fw>;\n"
		"\t\t};\n" SOC_END END;

	expect_load_error(write_dts("iommu-addresses-short", text), "/reserved-memory/firmware@8f000000",
			  "iommu-addresses", "/soc/master@fe000000");
	clean_up(state);
	/* One whole entry, then a phandle alone. */
	static const char second[] = HEAD MEMORY
		RESERVED("\t\t\tiommu-addresses = <&master 0x0 0x8f000000 0x0 0x100000>, <&master>;\n")
		SOC "\t\tmaster: master@fe000000 {\n"
		"\t\t\tcompatible = \"swiommu,test-master\";\n"
		"\t\t\treg = <0x0 0xfe000000 0x0 0x1000>;\n"
		"\t\t\tmemory-region = <&fw>;\n"
		"\t\t};\n" SOC_END END;

	expect_load_error(write_dts("iommu-addresses-short-2", second), "/reserved-memory/firmware@8f000000",
			  "iommu-addresses", NULL);
	clean_up(state);
	/* A device phandle that does not exist. */
	static const char dangling[] = HEAD MEMORY
		RESERVED("\t\t\tiommu-addresses = <0x66 0x0 0x8f000000 0x0 0x100000>;\n") END;

	expect_load_error(write_dts("iommu-addresses-dangling", dangling), "/reserved-memory/firmware@8f000000",
			  "iommu-addresses", "0x66");
}

static void ipmmu_main_names_a_missing_phandle(void **state)
{
	(void)state;
	static const char text[] = HEAD MEMORY
		"\tsoc {\n"
		"\t\tcompatible = \"simple-bus\";\n"
		"\t\t#address-cells = <2>;\n"
		"\t\t#size-cells = <2>;\n"
		"\t\tranges;\n"
		"\t\tiommu@e6740000 {\n"
		"\t\t\tcompatible = \"renesas,ipmmu-r8a7795\";\n"
		"\t\t\treg = <0x0 0xe6740000 0x0 0x1000>;\n"
		"\t\t\trenesas,ipmmu-main = <0x42 0>;\n"
		"\t\t\t#iommu-cells = <1>;\n"
		"\t\t};\n"
		SOC_END END;

	expect_load_error(write_dts("ipmmu-main", text), "/soc/iommu@e6740000", "renesas,ipmmu-main", "0x42");
}

/* ------------------------------------------------------------------------------------------------ */
/* Memory */

static void no_memory_node(void **state)
{
	(void)state;
	static const char text[] = HEAD SOC SOC_END END;

	expect_load_error(write_dts("no-memory", text), NULL, NULL, "memory");
	clean_up(state);
	/* A memory node that is disabled is no RAM either. */
	static const char disabled[] = HEAD
		"\tmemory@80000000 {\n"
		"\t\tdevice_type = \"memory\";\n"
		"\t\treg = <0x0 0x80000000 0x0 0x10000000>;\n"
		"\t\tstatus = \"disabled\";\n"
		"\t};\n" END;

	expect_load_error(write_dts("memory-disabled", disabled), NULL, NULL, "memory");
}

static void memory_bank_not_page_aligned(void **state)
{
	(void)state;
	static const char start[] = HEAD
		"\tmemory@80000800 {\n"
		"\t\tdevice_type = \"memory\";\n"
		"\t\treg = <0x0 0x80000800 0x0 0x100000>;\n"
		"\t};\n" END;

	expect_load_error(write_dts("bank-start", start), "/memory@80000800", "reg", "0x80000800");
	clean_up(state);
	static const char size[] = HEAD
		"\tmemory@80000000 {\n"
		"\t\tdevice_type = \"memory\";\n"
		"\t\treg = <0x0 0x80000000 0x0 0x100800>;\n"
		"\t};\n" END;

	expect_load_error(write_dts("bank-size", size), "/memory@80000000", "reg", NULL);
	clean_up(state);
	/* Aligned to 4K but not to the 16K pages the caller runs with. */
	static const char for_16k[] = HEAD
		"\tmemory@80001000 {\n"
		"\t\tdevice_type = \"memory\";\n"
		"\t\treg = <0x0 0x80001000 0x0 0x100000>;\n"
		"\t};\n" END;

	expect_load_error_at(write_dts("bank-16k", for_16k), 14, NULL, NULL, NULL);
}

static void memory_reg_malformed(void **state)
{
	(void)state;
	static const char partial[] = HEAD
		"\tmemory@80000000 {\n"
		"\t\tdevice_type = \"memory\";\n"
		"\t\treg = <0x0 0x80000000 0x0>;\n"
		"\t};\n" END;

	expect_load_error(write_dts("bank-partial", partial), "/memory@80000000", "reg", NULL);
	clean_up(state);
	static const char empty[] = HEAD
		"\tmemory@80000000 {\n"
		"\t\tdevice_type = \"memory\";\n"
		"\t\treg = <0x0 0x80000000 0x0 0x0>;\n"
		"\t};\n" END;

	expect_load_error(write_dts("bank-empty", empty), "/memory@80000000", "reg", NULL);
	clean_up(state);
	static const char overlap[] = HEAD MEMORY
		"\tmemory@88000000 {\n"
		"\t\tdevice_type = \"memory\";\n"
		"\t\treg = <0x0 0x88000000 0x0 0x10000000>;\n"
		"\t};\n" END;

	expect_load_error(write_dts("bank-overlap", overlap), "/memory@88000000", "reg", NULL);
}

/* RAM the machine cannot have: past the top of the address space (an overflow trap), or more than the host
 * can model (boot walks a struct page per page: 32 TiB took minutes). Found by the board fuzzer (tests/fuzz),
 * as was a failed RAM mapping that freed its banks twice. */
static void memory_out_of_range(void **state)
{
	(void)state;
	static const char top[] = HEAD
		"\tmemory@fffffffffffff000 {\n"
		"\t\tdevice_type = \"memory\";\n"
		"\t\treg = <0xffffffff 0xfffff000 0x0 0x2000>;\n"
		"\t};\n" END;

	expect_load_error(write_dts("bank-top", top), "/memory@fffffffffffff000", "reg", "runs past the top");
	clean_up(state);
	static const char huge[] = HEAD
		"\tmemory@80000000 {\n"
		"\t\tdevice_type = \"memory\";\n"
		"\t\treg = <0x0 0x80000000 0x2000 0x0>, <0x4000 0x0 0x2000 0x0>;\n"
		"\t};\n" END;

	expect_load_error(write_dts("bank-huge", huge), "/", NULL, "at most 256 GiB");
}

/* ------------------------------------------------------------------------------------------------ */
/* /chosen */

static void unknown_iommu_policy(void **state)
{
	(void)state;
	static const char text[] = HEAD MEMORY
		"\tchosen {\n\t\tswiommu,iommu-policy = \"per-device\";\n\t};\n" END;

	expect_load_error(write_dts("policy", text), "/chosen", "swiommu,iommu-policy", "per-device");
}

static void page_shift_13(void **state)
{
	(void)state;
	static const char text[] = HEAD MEMORY "\tchosen {\n\t\tswiommu,page-shift = <13>;\n\t};\n" END;

	expect_load_error(write_dts("page-shift-13", text), "/chosen", "swiommu,page-shift", "13");
	clean_up(state);
	/* A page size the caller does not have. */
	static const char sixteen[] = HEAD MEMORY "\tchosen {\n\t\tswiommu,page-shift = <16>;\n\t};\n" END;

	expect_load_error(write_dts("page-shift-16", sixteen), "/chosen", "swiommu,page-shift", NULL);
}

static void swiotlb_size_out_of_range(void **state)
{
	(void)state;
	static const char text[] = HEAD MEMORY "\tchosen {\n\t\tswiommu,swiotlb-size = <0x1000>;\n\t};\n" END;

	expect_load_error(write_dts("swiotlb", text), "/chosen", "swiommu,swiotlb-size", NULL);
}

/* ------------------------------------------------------------------------------------------------ */
/* The caller */

static void unsupported_page_shift(void **state)
{
	(void)state;
	swiommu_log_reset();
	assert_int_equal(swiommu_init_page_shift(NULL, 13), -EINVAL);
	assert_false(swiommu_is_up());
	assert_int_equal(swiommu_log_count(), 1);
	assert_non_null(strstr(swiommu_log_last(), "13"));
	assert_int_equal(swiommu_init_page_shift(RK3399, 0), -EINVAL);
	assert_false(swiommu_is_up());
	assert_int_equal(swiommu_init(NULL), 0);
}

static void init_while_up_is_busy(void **state)
{
	(void)state;
	assert_int_equal(swiommu_init(NULL), 0);
	struct device *isp = swiommu_find_device("/soc/isp@fe0a0000");

	assert_non_null(isp);
	swiommu_log_reset();
	assert_int_equal(swiommu_init(RK3399), -EBUSY);
	assert_int_equal(swiommu_log_count(), 1);
	assert_int_equal(swiommu_init(NULL), -EBUSY);
	/* The machine that is up is untouched. */
	assert_true(swiommu_is_up());
	assert_ptr_equal(swiommu_find_device("/soc/isp@fe0a0000"), isp);
	assert_null(swiommu_find_device("/video-codec@ff650000"));
	swiommu_exit();
	assert_int_equal(swiommu_init(RK3399), 0);
	assert_non_null(swiommu_find_device("/video-codec@ff650000"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(missing_file, clean_up),
		cmocka_unit_test_teardown(file_that_is_not_a_dtb, clean_up),
		cmocka_unit_test_teardown(truncated_dtb, clean_up),
		cmocka_unit_test_teardown(malformed_dtb, clean_up),
		cmocka_unit_test_teardown(property_length_that_wraps, clean_up),
		cmocka_unit_test_teardown(dts_with_a_syntax_error, clean_up),
		cmocka_unit_test_teardown(dangling_phandle_in_iommus, clean_up),
		cmocka_unit_test_teardown(iommus_entry_short_of_iommu_cells, clean_up),
		cmocka_unit_test_teardown(iommu_map_not_whole_entries, clean_up),
		cmocka_unit_test_teardown(iommu_map_names_a_missing_phandle, clean_up),
		cmocka_unit_test_teardown(memory_region_names_a_missing_phandle, clean_up),
		cmocka_unit_test_teardown(iommu_addresses_cut_short, clean_up),
		cmocka_unit_test_teardown(ipmmu_main_names_a_missing_phandle, clean_up),
		cmocka_unit_test_teardown(no_memory_node, clean_up),
		cmocka_unit_test_teardown(memory_bank_not_page_aligned, clean_up),
		cmocka_unit_test_teardown(memory_out_of_range, clean_up),
		cmocka_unit_test_teardown(memory_reg_malformed, clean_up),
		cmocka_unit_test_teardown(unknown_iommu_policy, clean_up),
		cmocka_unit_test_teardown(page_shift_13, clean_up),
		cmocka_unit_test_teardown(swiotlb_size_out_of_range, clean_up),
		cmocka_unit_test_teardown(unsupported_page_shift, clean_up),
		cmocka_unit_test_teardown(init_while_up_is_busy, clean_up),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
