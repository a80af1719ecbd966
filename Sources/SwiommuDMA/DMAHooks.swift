// The trace and dma-debug hook points of the DMA API. Only the dispatcher (DMAMapping, kernel/dma/mapping.c's
// place) calls them, after the backend ran, exactly where mapping.c calls trace_dma_* and debug_dma_*.
// dma-debug (DMADebug*.swift) and each trace event (DMATrace.swift) cost one load and one predictable branch
// per call while they are off.
import CKernel
import CSwiommuGlue
import SwiommuBase
import SwiommuMemory
import SwiommuPlatform

public enum DMAHooks {
    // MARK: Streaming mappings. Kernel: trace_dma_map_page/debug_dma_map_page and their unmaps.

    /// Before an unmap or a sync: dma-debug's CPU trap opens what it closed under the mapping that `key`
    /// (its DMA address, or its scatterlist) names, since the CPU gets the buffer back or the library is
    /// about to touch it. No kernel counterpart.
    @inline(__always)
    static func willTouch(_ dev: UnsafeMutablePointer<Device>, key: UInt64) {
        guard swiommu_glue_hooks_any() else { return }
        if DMADebug.CPUTrap.on { DMADebug.CPUTrap.release(dev, key: key) }
    }

    /// `route`: the route a dma_map_page_attrs_multi() call mapped on (nil: the device's path);
    /// `primary`: false for the routes whose address that call does not return.
    @inline(__always)
    static func mapPage(_ dev: UnsafeMutablePointer<Device>, page: UnsafeMutablePointer<PageFrame>, offset: Int,
                        phys: PhysicalAddress, size: Int, direction: DMADirection, attributes: DMAAttributes,
                        result: DMAAddress, route: DMARoute? = nil, primary: Bool = true) {
        guard swiommu_glue_hooks_any() else { return }
        if DMACounters.enabled && !result.isMappingError && primary {
            DMACounters.add(dev, .maps, 1)
            DMACounters.add(dev, .mappedBytes, size)
        }
        if Trace.enabled(.dmaMapPage) && !result.isMappingError {
            DMATrace.map(.dmaMapPage, dev, phys: phys.rawValue, address: result, size: size, direction: direction,
                         attributes: attributes)
        }
        if DMADebug.active {
            DMADebug.mapPage(dev, phys: phys, size: size, direction: direction, attributes: attributes, result: result,
                             route: route, primary: primary)
        }
    }

    /// Kernel: debug_dma_unmap_page, which swiommu calls before the backend unmaps where mapping.c calls it
    /// after: once the backend has freed the address, another thread may map it again at once, and the device
    /// accesses dma-debug checks (swiommu's) would meet this mapping's entry before the new one's.
    @inline(__always)
    static func willUnmapPage(_ dev: UnsafeMutablePointer<Device>, address: DMAAddress, size: Int, direction: DMADirection) {
        guard swiommu_glue_hooks_any() else { return }
        if DMADebug.active { DMADebug.unmapPage(dev, address: address, size: size, direction: direction) }
    }

    /// After the backend unmapped (dma-debug's check ran before: willUnmapPage). `primary`: false for the
    /// further routes of a dma_unmap_page_attrs_multi() call (counted once, as its map).
    @inline(__always)
    static func unmapPage(_ dev: UnsafeMutablePointer<Device>, address: DMAAddress, size: Int, direction: DMADirection,
                          attributes: DMAAttributes, primary: Bool = true) {
        guard swiommu_glue_hooks_any() else { return }
        if DMACounters.enabled && primary {
            DMACounters.add(dev, .unmaps, 1)
            DMACounters.add(dev, .unmappedBytes, size)
        }
        if Trace.enabled(.dmaUnmapPage) {
            DMATrace.unmap(.dmaUnmapPage, dev, address: address, size: size, direction: direction, attributes: attributes)
        }
    }

    /// Kernel: debug_dma_map_single (called from the dma_map_single_attrs inline, before the map).
    @inline(__always)
    static func mapSingle(_ dev: UnsafeMutablePointer<Device>, address: UnsafeRawPointer?, length: Int) {
        guard swiommu_glue_hooks_any() else { return }
        if DMADebug.active { DMADebug.mapSingle(dev, address: address, length: length) }
    }

    /// Kernel: debug_dma_mapping_error (the driver checked a mapping).
    @inline(__always)
    static func mappingError(_ dev: UnsafeMutablePointer<Device>, address: DMAAddress) {
        guard swiommu_glue_hooks_any() else { return }
        if DMADebug.active { DMADebug.mappingError(dev, address: address) }
    }

    @inline(__always)
    static func mapSG(_ dev: UnsafeMutablePointer<Device>, _ sgl: UnsafeMutablePointer<Scatterlist>, nents: Int32,
                      mapped: Int32, direction: DMADirection, attributes: DMAAttributes) {
        guard swiommu_glue_hooks_any() else { return }
        if DMACounters.enabled && mapped > 0 {
            DMACounters.add(dev, .maps, 1)
            DMACounters.add(dev, .mappedBytes, sgBytes(sgl, nents))
        }
        if Trace.enabled(.dmaMapSG) { DMATrace.mapSG(dev, sgl, nents: nents, mapped: mapped, direction: direction, attributes: attributes) }
        if DMADebug.active {
            DMADebug.mapSG(dev, sgl, nents: nents, mapped: mapped, direction: direction, attributes: attributes)
        }
    }

    /// The bytes of a scatterlist's first `nents` entries (the CPU's side, as the driver passed them).
    @inline(never)
    static func sgBytes(_ sgl: UnsafeMutablePointer<Scatterlist>, _ nents: Int32) -> Int {
        var total = 0
        var sg: UnsafeMutablePointer<Scatterlist>? = sgl
        var i: Int32 = 0
        while i < nents, let s = sg {
            total &+= Int(s.pointee.length)
            sg = sg_next(s)
            i &+= 1
        }
        return total
    }

    @inline(__always)
    static func mapSGError(_ dev: UnsafeMutablePointer<Device>, _ sgl: UnsafeMutablePointer<Scatterlist>, nents: Int32,
                           error: Int32, direction: DMADirection, attributes: DMAAttributes) {}

    @inline(__always)
    static func unmapSG(_ dev: UnsafeMutablePointer<Device>, _ sgl: UnsafeMutablePointer<Scatterlist>, nents: Int32,
                        direction: DMADirection, attributes: DMAAttributes) {
        guard swiommu_glue_hooks_any() else { return }
        if DMACounters.enabled {
            DMACounters.add(dev, .unmaps, 1)
            DMACounters.add(dev, .unmappedBytes, sgBytes(sgl, nents))
        }
        if Trace.enabled(.dmaUnmapSG) { DMATrace.unmapSG(dev, sgl, nents: nents, direction: direction, attributes: attributes) }
        if DMADebug.active { DMADebug.unmapSG(dev, sgl, nents: nents, direction: direction) }
    }

    @inline(__always)
    static func mapResource(_ dev: UnsafeMutablePointer<Device>, phys: PhysicalAddress, size: Int, direction: DMADirection,
                            attributes: DMAAttributes, result: DMAAddress) {
        guard swiommu_glue_hooks_any() else { return }
        if Trace.enabled(.dmaMapResource) && !result.isMappingError {
            DMATrace.map(.dmaMapResource, dev, phys: phys.rawValue, address: result, size: size, direction: direction,
                         attributes: attributes)
        }
        if DMADebug.active {
            DMADebug.mapResource(dev, phys: phys, size: size, direction: direction, attributes: attributes, result: result)
        }
    }

    /// Kernel: debug_dma_unmap_resource, before the backend unmaps (as willUnmapPage, for the same reason).
    @inline(__always)
    static func willUnmapResource(_ dev: UnsafeMutablePointer<Device>, address: DMAAddress, size: Int,
                                  direction: DMADirection) {
        guard swiommu_glue_hooks_any() else { return }
        if DMADebug.active { DMADebug.unmapResource(dev, address: address, size: size, direction: direction) }
    }

    @inline(__always)
    static func unmapResource(_ dev: UnsafeMutablePointer<Device>, address: DMAAddress, size: Int,
                              direction: DMADirection, attributes: DMAAttributes) {
        guard swiommu_glue_hooks_any() else { return }
        if Trace.enabled(.dmaUnmapResource) {
            DMATrace.unmap(.dmaUnmapResource, dev, address: address, size: size, direction: direction, attributes: attributes)
        }
    }

    // MARK: Syncs. Kernel: trace_dma_sync_* / debug_dma_sync_*.

    @inline(__always)
    static func syncSingle(_ dev: UnsafeMutablePointer<Device>, address: DMAAddress, size: Int, direction: DMADirection,
                           forDevice: Bool) {
        guard swiommu_glue_hooks_any() else { return }
        if DMACounters.enabled { DMACounters.add(dev, .syncs, 1) }
        if Trace.enabled(forDevice ? .dmaSyncSingleForDevice : .dmaSyncSingleForCPU) {
            DMATrace.syncSingle(dev, address: address, size: size, direction: direction, forDevice: forDevice)
        }
        if DMADebug.active {
            DMADebug.syncSingle(dev, address: address, size: size, direction: direction, forDevice: forDevice)
        }
    }

    @inline(__always)
    static func syncSG(_ dev: UnsafeMutablePointer<Device>, _ sgl: UnsafeMutablePointer<Scatterlist>, nents: Int32,
                       direction: DMADirection, forDevice: Bool) {
        guard swiommu_glue_hooks_any() else { return }
        if DMACounters.enabled { DMACounters.add(dev, .syncs, 1) }
        if Trace.enabled(forDevice ? .dmaSyncSGForDevice : .dmaSyncSGForCPU) {
            DMATrace.syncSG(dev, sgl, nents: nents, direction: direction, forDevice: forDevice)
        }
        if DMADebug.active { DMADebug.syncSG(dev, sgl, nents: nents, direction: direction, forDevice: forDevice) }
    }

    // MARK: Allocations. Kernel: trace_dma_alloc/debug_dma_alloc_coherent, trace_dma_free/debug_dma_free_coherent,
    // trace_dma_alloc_pages/debug_dma_alloc_pages, trace_dma_alloc_sgt/debug_dma_map_sg, trace_dma_free_sgt/
    // debug_dma_unmap_sg.

    @inline(__always)
    static func allocCoherent(_ dev: UnsafeMutablePointer<Device>, size: Int, handle: DMAAddress,
                              cpuAddress: UnsafeMutableRawPointer?, attributes: DMAAttributes) {
        guard swiommu_glue_hooks_any() else { return }
        if Trace.enabled(.dmaAlloc) && cpuAddress != nil {
            DMATrace.alloc(dev, cpuAddress: cpuAddress, handle: handle, size: size, attributes: attributes)
        }
        if DMADebug.active {
            DMADebug.allocCoherent(dev, size: size, handle: handle, cpuAddress: cpuAddress, attributes: attributes)
        }
    }

    @inline(__always)
    static func freeCoherent(_ dev: UnsafeMutablePointer<Device>, size: Int, cpuAddress: UnsafeMutableRawPointer?,
                             handle: DMAAddress) {
        guard swiommu_glue_hooks_any() else { return }
        if Trace.enabled(.dmaFree) { DMATrace.free(dev, cpuAddress: cpuAddress, handle: handle, size: size) }
        if DMADebug.active { DMADebug.freeCoherent(dev, size: size, cpuAddress: cpuAddress, handle: handle) }
    }

    @inline(__always)
    static func allocPages(_ dev: UnsafeMutablePointer<Device>, page: UnsafeMutablePointer<PageFrame>?, size: Int,
                           handle: DMAAddress, direction: DMADirection) {
        guard swiommu_glue_hooks_any() else { return }
        if DMADebug.active { DMADebug.allocPages(dev, page: page, size: size, handle: handle, direction: direction) }
    }

    @inline(__always)
    static func freePages(_ dev: UnsafeMutablePointer<Device>, page: UnsafeMutablePointer<PageFrame>?, size: Int,
                          handle: DMAAddress, direction: DMADirection) {
        guard swiommu_glue_hooks_any() else { return }
        if DMADebug.active { DMADebug.freePages(dev, page: page, size: size, handle: handle, direction: direction) }
    }

    @inline(__always)
    static func allocNoncontiguous(_ dev: UnsafeMutablePointer<Device>, table: UnsafeMutablePointer<SGTable>?, size: Int,
                                   direction: DMADirection) {
        guard swiommu_glue_hooks_any() else { return }
        if DMADebug.active, let table, let sgl = table.pointee.sgl {
            DMADebug.mapSG(dev, sgl, nents: Int32(truncatingIfNeeded: table.pointee.orig_nents), mapped: 1,
                           direction: direction, attributes: [])
        }
    }

    @inline(__always)
    static func freeNoncontiguous(_ dev: UnsafeMutablePointer<Device>, table: UnsafeMutablePointer<SGTable>, size: Int,
                                  direction: DMADirection) {
        guard swiommu_glue_hooks_any() else { return }
        if DMADebug.active, let sgl = table.pointee.sgl {
            DMADebug.unmapSG(dev, sgl, nents: Int32(truncatingIfNeeded: table.pointee.orig_nents), direction: direction)
        }
    }
}
