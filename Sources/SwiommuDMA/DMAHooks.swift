// The trace and dma-debug hook points of the DMA API. Only the dispatcher (DMAMapping, kernel/dma/mapping.c's
// place) calls them, after the backend ran, exactly where mapping.c calls trace_dma_* and debug_dma_*.
// Issue 8 fills them in (tracing, and dma-debug's checks: unmapping a foreign address, the wrong size or
// direction at unmap, syncing outside a mapping, freeing with the wrong size ...). Until then they do nothing
// and cost nothing (empty and inlined).
import CKernel
import SwiommuBase
import SwiommuMemory
import SwiommuPlatform

public enum DMAHooks {
    // MARK: Streaming mappings. Kernel: trace_dma_map_page/debug_dma_map_page and their unmaps.

    @inline(__always)
    static func mapPage(_ dev: UnsafeMutablePointer<Device>, page: UnsafeMutablePointer<PageFrame>, offset: Int,
                        phys: PhysicalAddress, size: Int, direction: DMADirection, attributes: DMAAttributes,
                        result: DMAAddress) {}

    @inline(__always)
    static func unmapPage(_ dev: UnsafeMutablePointer<Device>, address: DMAAddress, size: Int, direction: DMADirection,
                          attributes: DMAAttributes) {}

    /// Kernel: debug_dma_map_single (called from the dma_map_single_attrs inline, before the map).
    @inline(__always)
    static func mapSingle(_ dev: UnsafeMutablePointer<Device>, address: UnsafeRawPointer?, length: Int) {}

    /// Kernel: debug_dma_mapping_error (the driver checked a mapping).
    @inline(__always)
    static func mappingError(_ dev: UnsafeMutablePointer<Device>, address: DMAAddress) {}

    @inline(__always)
    static func mapSG(_ dev: UnsafeMutablePointer<Device>, _ sgl: UnsafeMutablePointer<Scatterlist>, nents: Int32,
                      mapped: Int32, direction: DMADirection, attributes: DMAAttributes) {}

    @inline(__always)
    static func mapSGError(_ dev: UnsafeMutablePointer<Device>, _ sgl: UnsafeMutablePointer<Scatterlist>, nents: Int32,
                           error: Int32, direction: DMADirection, attributes: DMAAttributes) {}

    @inline(__always)
    static func unmapSG(_ dev: UnsafeMutablePointer<Device>, _ sgl: UnsafeMutablePointer<Scatterlist>, nents: Int32,
                        direction: DMADirection, attributes: DMAAttributes) {}

    @inline(__always)
    static func mapResource(_ dev: UnsafeMutablePointer<Device>, phys: PhysicalAddress, size: Int, direction: DMADirection,
                            attributes: DMAAttributes, result: DMAAddress) {}

    @inline(__always)
    static func unmapResource(_ dev: UnsafeMutablePointer<Device>, address: DMAAddress, size: Int,
                              direction: DMADirection, attributes: DMAAttributes) {}

    // MARK: Syncs. Kernel: trace_dma_sync_* / debug_dma_sync_*.

    @inline(__always)
    static func syncSingle(_ dev: UnsafeMutablePointer<Device>, address: DMAAddress, size: Int, direction: DMADirection,
                           forDevice: Bool) {}

    @inline(__always)
    static func syncSG(_ dev: UnsafeMutablePointer<Device>, _ sgl: UnsafeMutablePointer<Scatterlist>, nents: Int32,
                       direction: DMADirection, forDevice: Bool) {}

    // MARK: Allocations. Kernel: trace_dma_alloc/debug_dma_alloc_coherent, trace_dma_free/debug_dma_free_coherent,
    // trace_dma_alloc_pages, trace_dma_alloc_sgt, trace_dma_free_sgt.

    @inline(__always)
    static func allocCoherent(_ dev: UnsafeMutablePointer<Device>, size: Int, handle: DMAAddress,
                              cpuAddress: UnsafeMutableRawPointer?, attributes: DMAAttributes) {}

    @inline(__always)
    static func freeCoherent(_ dev: UnsafeMutablePointer<Device>, size: Int, cpuAddress: UnsafeMutableRawPointer?,
                             handle: DMAAddress) {}

    @inline(__always)
    static func allocPages(_ dev: UnsafeMutablePointer<Device>, page: UnsafeMutablePointer<PageFrame>?, size: Int,
                           handle: DMAAddress, direction: DMADirection) {}

    @inline(__always)
    static func freePages(_ dev: UnsafeMutablePointer<Device>, page: UnsafeMutablePointer<PageFrame>?, size: Int,
                          handle: DMAAddress, direction: DMADirection) {}

    @inline(__always)
    static func allocNoncontiguous(_ dev: UnsafeMutablePointer<Device>, table: UnsafeMutablePointer<SGTable>?, size: Int,
                                   direction: DMADirection) {}

    @inline(__always)
    static func freeNoncontiguous(_ dev: UnsafeMutablePointer<Device>, table: UnsafeMutablePointer<SGTable>, size: Int,
                                  direction: DMADirection) {}
}
