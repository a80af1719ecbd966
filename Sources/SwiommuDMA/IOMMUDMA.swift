// The dma-iommu entry points the dispatcher calls for a channel whose route is an IOMMU DMA domain
// (IOMMU_DOMAIN_DMA or IOMMU_DOMAIN_DMA_FQ). Kernel: drivers/iommu/dma-iommu.c (the functions
// include/linux/iommu-dma.h declares, with 6.17's map_page/map_resource taking a physical address).
//
// Contract: the dispatcher (DMAMapping) has already checked the arguments once (device, direction, size,
// RAM) and calls these with the device, the domain the DMA API uses (the group's default domain, as
// iommu_get_dma_domain returns, even while a driver has its own UNMANAGED domain attached), and the
// kernel's parameters. Trace and dma-debug hooks are the dispatcher's: never call them from here. Every
// function here is the other engineer's to fill in; these bodies only fail loudly.
import CKernel
import SwiommuBase
import SwiommuIOMMU
import SwiommuMemory
import SwiommuPlatform

public enum IOMMUDMA {
    /// Log that a dma-iommu entry point was reached before dma-iommu exists.
    @inline(never)
    static func notBuilt(_ function: StaticString, _ dev: UnsafeMutablePointer<Device>) {
        devPrintk(.error, dev, "\(function): dma-iommu is not built yet")
    }

    /// Kernel: iommu_setup_dma_ops. Runs when a device's DMA route gets a DMA/DMA_FQ domain (at bind,
    /// after of_dma_configure): initialise the domain's IOVA cookie (iommu_dma_init_domain) for `dev`.
    /// Returns 0 (the device then uses IOMMU DMA: dev->dma_iommu) or a negative errno, after which the
    /// dispatcher logs "Failed to set up IOMMU for device %s; retaining platform DMA ops" and goes direct.
    public static func setup(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>) -> Int32 {
        notBuilt("iommu_setup_dma_ops", dev)
        return 0  // the device is routed to IOMMU DMA, whose calls below fail loudly
    }

    /// Kernel: iommu_dma_map_page (iommu_dma_map_phys in later kernels). `phys` is page_to_phys(page) +
    /// offset. Returns the IOVA, or `.mappingError`.
    public static func mapPage(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>,
                               phys: PhysicalAddress, size: Int, direction: DMADirection,
                               attributes: DMAAttributes) -> DMAAddress {
        notBuilt("iommu_dma_map_page", dev)
        return .mappingError
    }

    /// Kernel: iommu_dma_unmap_page.
    public static func unmapPage(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>,
                                 address: DMAAddress, size: Int, direction: DMADirection, attributes: DMAAttributes) {
        notBuilt("iommu_dma_unmap_page", dev)
    }

    /// Kernel: iommu_dma_map_sg. Returns the number of DMA segments, or -EINVAL, -ENOMEM, -EIO, -EREMOTEIO.
    public static func mapSG(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>,
                             _ sgl: UnsafeMutablePointer<Scatterlist>, count nents: Int32,
                             direction: DMADirection, attributes: DMAAttributes) -> Int32 {
        notBuilt("iommu_dma_map_sg", dev)
        return Errno.notSupported.negated
    }

    /// Kernel: iommu_dma_unmap_sg. `nents` is the count given to map.
    public static func unmapSG(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>,
                               _ sgl: UnsafeMutablePointer<Scatterlist>, count nents: Int32,
                               direction: DMADirection, attributes: DMAAttributes) {
        notBuilt("iommu_dma_unmap_sg", dev)
    }

    /// Kernel: iommu_dma_sync_single_for_cpu.
    public static func syncSingleForCPU(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>,
                                        address: DMAAddress, size: Int, direction: DMADirection) {
        notBuilt("iommu_dma_sync_single_for_cpu", dev)
    }

    /// Kernel: iommu_dma_sync_single_for_device.
    public static func syncSingleForDevice(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>,
                                           address: DMAAddress, size: Int, direction: DMADirection) {
        notBuilt("iommu_dma_sync_single_for_device", dev)
    }

    /// Kernel: iommu_dma_sync_sg_for_cpu.
    public static func syncSGForCPU(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>,
                                    _ sgl: UnsafeMutablePointer<Scatterlist>, count nents: Int32, direction: DMADirection) {
        notBuilt("iommu_dma_sync_sg_for_cpu", dev)
    }

    /// Kernel: iommu_dma_sync_sg_for_device.
    public static func syncSGForDevice(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>,
                                       _ sgl: UnsafeMutablePointer<Scatterlist>, count nents: Int32, direction: DMADirection) {
        notBuilt("iommu_dma_sync_sg_for_device", dev)
    }

    /// Kernel: iommu_dma_alloc. Returns the CPU address (a cookie with NO_KERNEL_MAPPING) and sets `handle`,
    /// or nil.
    public static func alloc(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>, size: Int,
                             handle: UnsafeMutablePointer<dma_addr_t>, gfp: gfp_t,
                             attributes: DMAAttributes) -> UnsafeMutableRawPointer? {
        notBuilt("iommu_dma_alloc", dev)
        return nil
    }

    /// Kernel: iommu_dma_free.
    public static func free(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>, size: Int,
                            cpuAddress: UnsafeMutableRawPointer, handle: DMAAddress, attributes: DMAAttributes) {
        notBuilt("iommu_dma_free", dev)
    }

    /// Kernel: dma_common_alloc_pages with iommu_dma_map_page (the DMA API's dma_alloc_pages for a device
    /// on IOMMU DMA). `size` is page-aligned. Returns the first page and sets `handle`, or nil.
    public static func allocPages(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>, size: Int,
                                  handle: UnsafeMutablePointer<dma_addr_t>, direction: DMADirection,
                                  gfp: gfp_t) -> UnsafeMutablePointer<PageFrame>? {
        notBuilt("dma_common_alloc_pages", dev)
        return nil
    }

    /// Kernel: dma_common_free_pages with iommu_dma_unmap_page.
    public static func freePages(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>, size: Int,
                                 page: UnsafeMutablePointer<PageFrame>, handle: DMAAddress, direction: DMADirection) {
        notBuilt("dma_common_free_pages", dev)
    }

    /// Kernel: iommu_dma_alloc_noncontiguous. The table's first entry carries the one DMA segment.
    public static func allocNoncontiguous(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>,
                                          size: Int, direction: DMADirection, gfp: gfp_t,
                                          attributes: DMAAttributes) -> UnsafeMutablePointer<SGTable>? {
        notBuilt("iommu_dma_alloc_noncontiguous", dev)
        return nil
    }

    /// Kernel: iommu_dma_free_noncontiguous.
    public static func freeNoncontiguous(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>,
                                         size: Int, table: UnsafeMutablePointer<SGTable>, direction: DMADirection) {
        notBuilt("iommu_dma_free_noncontiguous", dev)
    }

    /// Kernel: iommu_dma_vmap_noncontiguous. Its vunmap is the dispatcher's (vunmap of the address).
    public static func vmapNoncontiguous(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>,
                                         size: Int, table: UnsafeMutablePointer<SGTable>) -> UnsafeMutableRawPointer? {
        notBuilt("iommu_dma_vmap_noncontiguous", dev)
        return nil
    }

    /// Kernel: iommu_dma_mmap_noncontiguous. 0, -ENXIO or -EINVAL.
    public static func mmapNoncontiguous(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>,
                                         vma: UnsafeMutablePointer<VMArea>, size: Int,
                                         table: UnsafeMutablePointer<SGTable>) -> Int32 {
        notBuilt("iommu_dma_mmap_noncontiguous", dev)
        return Errno.notSupported.negated
    }

    /// Kernel: iommu_dma_get_sgtable. 0 or a negative errno.
    public static func getSGTable(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>,
                                  table: UnsafeMutablePointer<SGTable>, cpuAddress: UnsafeMutableRawPointer,
                                  handle: DMAAddress, size: Int, attributes: DMAAttributes) -> Int32 {
        notBuilt("iommu_dma_get_sgtable", dev)
        return Errno.notSupported.negated
    }

    /// Kernel: iommu_dma_mmap. 0 or a negative errno.
    public static func mmap(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>,
                            vma: UnsafeMutablePointer<VMArea>, cpuAddress: UnsafeMutableRawPointer,
                            handle: DMAAddress, size: Int, attributes: DMAAttributes) -> Int32 {
        notBuilt("iommu_dma_mmap", dev)
        return Errno.notSupported.negated
    }

    /// Kernel: iommu_dma_map_resource. Returns the IOVA, or `.mappingError`.
    public static func mapResource(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>,
                                   phys: PhysicalAddress, size: Int, direction: DMADirection,
                                   attributes: DMAAttributes) -> DMAAddress {
        notBuilt("iommu_dma_map_resource", dev)
        return .mappingError
    }

    /// Kernel: iommu_dma_unmap_resource.
    public static func unmapResource(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>,
                                     address: DMAAddress, size: Int, direction: DMADirection, attributes: DMAAttributes) {
        notBuilt("iommu_dma_unmap_resource", dev)
    }

    /// Kernel: iommu_dma_max_mapping_size (swiotlb's limit when the device may bounce, else SIZE_MAX).
    public static func maxMappingSize(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>) -> Int {
        notBuilt("iommu_dma_max_mapping_size", dev)
        return Int.max
    }

    /// Kernel: iommu_dma_opt_mapping_size (iova_rcache_range()).
    public static func optMappingSize() -> Int {
        Kernel.log(.error, "iommu_dma_opt_mapping_size: dma-iommu is not built yet")
        return Int.max
    }

    /// Kernel: iommu_dma_get_merge_boundary (the granule - 1).
    public static func mergeBoundary(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>) -> UInt {
        notBuilt("iommu_dma_get_merge_boundary", dev)
        return 0
    }
}
