// Trace events with the kernel's names and TP_printk formats (include/trace/events/iommu.h, dma.h,
// swiotlb.h). A caller checks `Trace.enabled(event)` (one relaxed load) before it formats anything; the
// C glue adds ftrace's line prefix and keeps the ring, the file and the callback.
import CSwiommuGlue

/// Every event swiommu records. The raw value is its bit in the glue's mask.
public enum TraceEvent: Int, CaseIterable, Sendable {
    case addDeviceToGroup, removeDeviceFromGroup, attachDeviceToDomain, map, unmap, ioPageFault
    case dmaMapPage, dmaUnmapPage, dmaMapResource, dmaUnmapResource, dmaMapSG, dmaUnmapSG, dmaAlloc, dmaFree
    case dmaSyncSingleForCPU, dmaSyncSingleForDevice, dmaSyncSGForCPU, dmaSyncSGForDevice
    case swiotlbBounced

    /// The trace system ("iommu", "dma", "swiotlb").
    public var system: String {
        switch self {
        case .addDeviceToGroup, .removeDeviceFromGroup, .attachDeviceToDomain, .map, .unmap, .ioPageFault: "iommu"
        case .swiotlbBounced: "swiotlb"
        default: "dma"
        }
    }

    /// The event's name in its system.
    public var name: String {
        switch self {
        case .addDeviceToGroup: "add_device_to_group"
        case .removeDeviceFromGroup: "remove_device_from_group"
        case .attachDeviceToDomain: "attach_device_to_domain"
        case .map: "map"
        case .unmap: "unmap"
        case .ioPageFault: "io_page_fault"
        case .dmaMapPage: "dma_map_page"
        case .dmaUnmapPage: "dma_unmap_page"
        case .dmaMapResource: "dma_map_resource"
        case .dmaUnmapResource: "dma_unmap_resource"
        case .dmaMapSG: "dma_map_sg"
        case .dmaUnmapSG: "dma_unmap_sg"
        case .dmaAlloc: "dma_alloc"
        case .dmaFree: "dma_free"
        case .dmaSyncSingleForCPU: "dma_sync_single_for_cpu"
        case .dmaSyncSingleForDevice: "dma_sync_single_for_device"
        case .dmaSyncSGForCPU: "dma_sync_sg_for_cpu"
        case .dmaSyncSGForDevice: "dma_sync_sg_for_device"
        case .swiotlbBounced: "swiotlb_bounced"
        }
    }
}

public enum Trace {
    /// Whether `event` is recorded now.
    @inlinable @inline(__always) public static func enabled(_ event: TraceEvent) -> Bool {
        #if SWIOMMU_NO_TRACE
        // A build for measuring what the disabled events cost (make bench-trace-cost): no check at all.
        return false
        #else
        return swiommu_glue_trace_enabled(Int32(event.rawValue))
        #endif
    }

    /// Record `event` with its TP_printk text.
    public static func emit(_ event: TraceEvent, _ text: String) {
        event.system.withCString { s in event.name.withCString { n in text.withCString { swiommu_glue_trace_emit(s, n, $0) } } }
    }

    /// Turn on exactly the events `spec` names ("iommu:map,dma:*", "*"; "" turns all off). Nil (nothing
    /// changed) with the first name that matches no event.
    public static func enable(_ spec: String) -> String? {
        var mask: UInt64 = 0
        for item in spec.split(separator: ",").map({ $0.trimmingSpaces }) where !item.isEmpty {
            let matching = TraceEvent.allCases.filter { e in
                if item == "*" || item == "all" { return true }
                let parts = item.split(separator: ":", maxSplits: 1).map(String.init)
                if parts.count == 1 { return e.name == parts[0] }
                return e.system == parts[0] && (parts[1] == "*" || parts[1] == e.name)
            }
            if matching.isEmpty { return item }
            for e in matching { mask |= 1 << UInt64(e.rawValue) }
        }
        // Keep the bits of other hooks (dma-debug's) above the events'.
        let events = (UInt64(1) << UInt64(TraceEvent.allCases.count)) &- 1
        swiommu_glue_trace_set_mask(mask | (swiommu_glue_trace_get_mask() & ~events))
        return nil
    }
}

extension Substring {
    var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}

/// The counters' switch (swiommu_dma_counters_enable): the DMA API's per-device counters and the core's map
/// counters of domains whose driver is C. Bit 62 of the hooks' mask, so that off it costs the load the
/// hooks make anyway. Kernel equivalent: none.
public enum Counting {
    @inlinable @inline(__always) public static var enabled: Bool {
        get { swiommu_glue_trace_get_mask() & (1 << 62) != 0 }
        set { swiommu_glue_trace_set_bit(62, newValue) }
    }
}
