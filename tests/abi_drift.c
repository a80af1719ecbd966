/* SPDX-License-Identifier: MIT */
/*
 * The ABI drift check: every public header, then the header Swift generates for its @c exports. A Swift
 * signature that disagrees with its C declaration is a "conflicting types" error under -Werror.
 */
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/err.h>
#include <linux/bits.h>
#include <linux/bitops.h>
#include <linux/sizes.h>
#include <linux/kernel.h>
#include <linux/container_of.h>
#include <linux/list.h>
#include <linux/minmax.h>
#include <linux/printk.h>
#include <linux/bug.h>
#include <linux/compiler.h>
#include <linux/module.h>
#include <linux/init.h>
#include <linux/gfp.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/vmalloc.h>
#include <linux/io.h>
#include <linux/device.h>
#include <linux/platform_device.h>
#include <linux/of.h>
#include <linux/of_device.h>
#include <linux/of_platform.h>
#include <linux/mod_devicetable.h>
#include <linux/ioport.h>
#include <linux/iommu.h>
#include <linux/io-pgtable.h>
#include <linux/pci.h>
#include <linux/of_iommu.h>
#include <linux/iova.h>
#include <linux/dma-direction.h>
#include <linux/scatterlist.h>
#include <linux/dma-mapping.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-direct.h>
#include <linux/swiotlb.h>
#include <swiommu/swiommu.h>
#undef swiommu_init
#include "swiommu-Swift.h"
