// The software IO TLB: bounce buffers in 2 KiB slots for devices that cannot reach a buffer. Kernel:
// kernel/dma/swiotlb.c (without SWIOTLB_DYNAMIC). dma-direct and dma-iommu both call these.
import CKernel
import SwiommuBase
import SwiommuMemory
import SwiommuPlatform

public enum Swiotlb {
    /// Kernel: swiotlb_tbl_map_single. Takes slots keeping the device's min_align_mask bits of `phys` and
    /// aligned to `allocAlignMask`, and copies the buffer in (unless SKIP_CPU_SYNC). Nil when it cannot
    /// (no pool, too large, full: logged as the kernel logs it).
    public static func mapSingle(_ dev: UnsafeMutablePointer<Device>, phys: PhysicalAddress, size: Int,
                                 allocAlignMask: UInt32, direction: DMADirection,
                                 attributes: DMAAttributes) -> PhysicalAddress? {
        devPrintk(.error, dev, "swiotlb_tbl_map_single: swiotlb is not built yet")
        return nil
    }

    /// Kernel: swiotlb_tbl_unmap_single: copy back (FROM_DEVICE, BIDIRECTIONAL unless SKIP_CPU_SYNC) and
    /// release the slots. Does nothing for an address that is no bounce buffer.
    public static func unmapSingle(_ dev: UnsafeMutablePointer<Device>, tlbAddress: PhysicalAddress, size: Int,
                                   direction: DMADirection, attributes: DMAAttributes) {
    }

    /// Kernel: swiotlb_sync_single_for_device (original -> bounce for TO_DEVICE, BIDIRECTIONAL). Does
    /// nothing for an address that is no bounce buffer.
    public static func syncSingleForDevice(_ dev: UnsafeMutablePointer<Device>, tlbAddress: PhysicalAddress, size: Int,
                                           direction: DMADirection) {
    }

    /// Kernel: swiotlb_sync_single_for_cpu (bounce -> original for FROM_DEVICE, BIDIRECTIONAL). Does nothing
    /// for an address that is no bounce buffer.
    public static func syncSingleForCPU(_ dev: UnsafeMutablePointer<Device>, tlbAddress: PhysicalAddress, size: Int,
                                        direction: DMADirection) {
    }

    /// Kernel: swiotlb_find_pool(dev, pa) != NULL.
    @inlinable
    public static func isBounceBuffer(_ dev: UnsafeMutablePointer<Device>, _ pa: PhysicalAddress) -> Bool {
        guard let mem = dev.pointee.dma_io_tlb_mem else { return false }
        return pa.rawValue >= mem.pointee.defpool.start && pa.rawValue < mem.pointee.defpool.end
    }

    /// Kernel: is_swiotlb_force_bounce.
    @inlinable
    public static func isForceBounce(_ dev: UnsafeMutablePointer<Device>) -> Bool {
        dev.pointee.dma_io_tlb_mem?.pointee.force_bounce ?? false
    }

    /// Kernel: is_swiotlb_active.
    public static func isActive(_ dev: UnsafeMutablePointer<Device>) -> Bool {
        (dev.pointee.dma_io_tlb_mem?.pointee.nslabs ?? 0) > 0
    }

    /// Kernel: swiotlb_max_mapping_size.
    public static func maxMappingSize(_ dev: UnsafeMutablePointer<Device>) -> Int {
        let minAlign = Int(dev.pointee.dma_parms?.pointee.min_align_mask ?? 0)
        let slotSize = 1 << ioTLBShift
        let padding = minAlign == 0 ? 0 : ((minAlign + 1) + slotSize - 1) & ~(slotSize - 1)
        return slotSize * ioTLBSegmentSize - padding
    }
}

/// Kernel: IO_TLB_SHIFT (2 KiB slots).
public let ioTLBShift = 11
/// Kernel: IO_TLB_SEGSIZE: a mapping uses at most this many contiguous slots.
public let ioTLBSegmentSize = 128
