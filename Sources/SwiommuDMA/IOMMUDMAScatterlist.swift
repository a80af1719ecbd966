// Scatterlists through an IOMMU: the whole list in one contiguous IOVA range, each entry rounded out to
// granules in place (its offset and length parked in the DMA fields), boundary padding, one iommu_map_sg,
// then __finalise_sg restores the entries and merges what the device may see as one segment. Lists that
// must bounce go entry by entry through iommu_dma_map_page. Kernel: iommu_dma_map_sg, __finalise_sg,
// __invalidate_sg, iommu_dma_unmap_sg, iommu_dma_map_sg_swiotlb, dev_use_sg_swiotlb,
// iommu_dma_sync_sg_for_cpu/device (drivers/iommu/dma-iommu.c) and iommu_map_sg (drivers/iommu/iommu.c).
import Glibc
import CKernel
import SwiommuBase
import SwiommuIOMMU
import SwiommuMemory
import SwiommuPlatform

/// Kernel: SG_DMA_BUS_ADDRESS, SG_DMA_SWIOTLB (scatterlist dma_flags).
let sgDMABusAddress = UInt32(SG_DMA_BUS_ADDRESS)
let sgDMASwiotlb = UInt32(SG_DMA_SWIOTLB)

/// Kernel: dma_get_max_seg_size (64 KiB without dma_parms or a value).
@inline(__always)
func dmaMaxSegmentSize(_ dev: UnsafeMutablePointer<Device>) -> UInt32 {
    if let p = dev.pointee.dma_parms, p.pointee.max_segment_size != 0 { return p.pointee.max_segment_size }
    return 0x10000
}

extension IOMMUDMACookie {
    /// Kernel: dev_use_sg_swiotlb: some entry would bounce in iommu_dma_map_page (an unaligned small kmalloc
    /// buffer for a non-coherent device; with a granule above PAGE_SIZE, any entry not granule-aligned).
    func useSGSwiotlb(_ dev: UnsafeMutablePointer<Device>, _ sgl: UnsafeMutablePointer<Scatterlist>, count nents: Int32,
                      direction: DMADirection) -> Bool {
        var bounce = false
        if largeGranule {
            SG.forEach(sgl, nents) { s in
                let phys = SG.physicalAddress(s, memory)?.rawValue ?? 0
                if (phys | UInt64(s.pointee.length)) & mask != 0 { bounce = true }
            }
            return bounce
        }
        // If kmalloc() buffers are not DMA-safe for this device and direction, check the individual lengths.
        if dev.pointee.dma_coherent || direction == .toDevice { return false }
        SG.forEach(sgl, nents) { s in
            if DMADirect.kmallocNeedsBounce(dev, memory, size: Int(s.pointee.length), direction: direction) { bounce = true }
        }
        return bounce
    }

    /// Kernel: iommu_dma_map_sg_swiotlb: every entry through iommu_dma_map_page, the list marked SG_DMA_SWIOTLB.
    func mapSGSwiotlb(_ dev: UnsafeMutablePointer<Device>, _ sgl: UnsafeMutablePointer<Scatterlist>, count nents: Int32,
                      direction: DMADirection, attributes: DMAAttributes) -> Int32 {
        sgl.pointee.dma_flags |= sgDMASwiotlb
        var i: Int32 = 0
        var failed = false
        SG.forEach(sgl, nents) { s in
            if failed { return }
            guard let phys = SG.physicalAddress(s, memory), memory.physical.isRAM(phys, size: UInt64(s.pointee.length)) else {
                devPrintk(.error, dev, "dma_map_sg: entry \(i) is not simulated RAM")
                s.pointee.dma_address = DMAAddress.mappingError.rawValue
                failed = true
                return
            }
            let a = mapPage(dev, phys: phys.rawValue, size: Int(s.pointee.length), direction: direction, attributes: attributes)
            s.pointee.dma_address = a.rawValue
            if a.isMappingError {
                failed = true
                return
            }
            s.pointee.dma_length = s.pointee.length
            i += 1
        }
        if failed {
            unmapSGSwiotlb(dev, sgl, count: i, direction: direction, attributes: attributes.union(.skipCPUSync))
            return Errno.io.negated
        }
        return nents
    }

    /// Kernel: iommu_dma_unmap_sg_swiotlb.
    func unmapSGSwiotlb(_ dev: UnsafeMutablePointer<Device>, _ sgl: UnsafeMutablePointer<Scatterlist>, count nents: Int32,
                        direction: DMADirection, attributes: DMAAttributes) {
        SG.forEach(sgl, nents) { s in
            unmapPage(dev, address: s.pointee.dma_address, size: Int(s.pointee.dma_length), direction: direction,
                      attributes: attributes)
        }
    }

    /// Kernel: iommu_dma_map_sg.
    func mapSG(_ dev: UnsafeMutablePointer<Device>, _ sgl: UnsafeMutablePointer<Scatterlist>, count nents: Int32,
               direction: DMADirection, attributes: DMAAttributes) -> Int32 {
        if useSGSwiotlb(dev, sgl, count: nents, direction: direction) {
            return mapSGSwiotlb(dev, sgl, count: nents, direction: direction, attributes: attributes)
        }
        if !attributes.contains(.skipCPUSync) { syncSG(dev, sgl, count: nents, direction: direction, forDevice: true) }
        let prot = IOMMUDMA.prot(direction, coherent: dev.pointee.dma_coherent, attributes)
        let boundary = UInt64(dmaSegmentBoundary(dev))
        // Work out how much IOVA space we need, and align the segments to IOVA granules for the IOMMU driver to
        // handle, stashing the unaligned parts in the as-yet-unused DMA fields.
        var iovaLen: UInt64 = 0
        var prev: UnsafeMutablePointer<Scatterlist>?
        var sg: UnsafeMutablePointer<Scatterlist>? = sgl
        var i: Int32 = 0
        while i < nents, let s = sg {
            let off = UInt64(s.pointee.offset) & mask
            let length = UInt64(s.pointee.length)
            let padLen = (boundary &- iovaLen &+ 1) & boundary
            s.pointee.dma_address = off
            s.pointee.dma_length = s.pointee.length
            s.pointee.offset &-= UInt32(truncatingIfNeeded: off)
            let rounded = align(length &+ off)
            s.pointee.length = UInt32(truncatingIfNeeded: rounded)
            // The single IOVA allocation is aligned to its size: if the boundary mask is smaller, the range
            // starts on a boundary, so the layout follows from the lengths alone. pad_len is 0 for the first.
            if padLen != 0 && padLen < rounded &- 1, let p = prev {
                p.pointee.length &+= UInt32(truncatingIfNeeded: padLen)
                iovaLen &+= padLen
            }
            iovaLen &+= rounded
            prev = s
            i += 1
            sg = SG.next(s)
        }
        if iovaLen == 0 { return finalise(dev, sgl, count: nents, dmaAddress: 0) }
        let iova = allocIOVA(dev, size: iovaLen, dmaLimit: DMAMapping.mask(dev))
        var ret: Int32
        if iova == 0 {
            ret = Errno.noMemory.negated
        } else {
            // Any physical concatenation is left to iommu_map_sg, which knows better.
            let mapped = mapSGRange(dev, iova: iova, sgl, count: nents, prot: prot)
            if mapped >= 0 && UInt64(mapped) >= iovaLen { return finalise(dev, sgl, count: nents, dmaAddress: iova) }
            ret = mapped < 0 ? Int32(mapped) : Errno.invalid.negated
            freeIOVA(iova, size: iovaLen, gather: nil)
        }
        invalidate(sgl, count: nents)
        return ret == Errno.noMemory.negated || ret == -remoteIOErrno ? ret : Errno.invalid.negated
    }

    /// Kernel: iommu_map_sg with GFP_ATOMIC, the IOMMU core's: the bytes mapped, or a negative errno with
    /// everything unmapped again.
    func mapSGRange(_ dev: UnsafeMutablePointer<Device>, iova: UInt64, _ sgl: UnsafeMutablePointer<Scatterlist>,
                    count nents: Int32, prot: Int32) -> Int {
        Mapping.mapSG(domain, iova: iova, sgl, count: Int(nents), prot: prot, gfp: gfpAtomic, memory: memory)
    }

    /// Kernel: __finalise_sg: restore each entry's offset and length and hand out DMA addresses, merging an
    /// entry into the current segment when it starts on a granule, the running IOVA is not on a segment
    /// boundary, and the merged length fits the maximum segment size. The number of DMA segments.
    func finalise(_ dev: UnsafeMutablePointer<Device>, _ sgl: UnsafeMutablePointer<Scatterlist>, count nents: Int32,
                  dmaAddress: UInt64) -> Int32 {
        var cur = sgl
        let segMask = UInt64(dmaSegmentBoundary(dev))
        let maxLen = dmaMaxSegmentSize(dev)
        var curLen: UInt32 = 0
        var dma = dmaAddress
        var count: Int32 = 0
        var i: Int32 = 0
        var sg: UnsafeMutablePointer<Scatterlist>? = sgl
        while i < nents, let s = sg {
            // Restore this segment's original unaligned fields first.
            let sDMA = s.pointee.dma_address
            let sOff = UInt32(truncatingIfNeeded: s.pointee.dma_address)
            let sLen = s.pointee.dma_length
            let sIovaLen = s.pointee.length
            s.pointee.dma_address = DMAAddress.mappingError.rawValue
            s.pointee.dma_length = 0
            if s.pointee.dma_flags & sgDMABusAddress != 0 {
                if i > 0 { cur = SG.next(cur).unsafelyUnwrapped }
                s.pointee.dma_flags &= ~sgDMABusAddress
                cur.pointee.dma_address = sDMA
                cur.pointee.dma_length = sLen
                cur.pointee.dma_flags |= sgDMABusAddress
                count += 1
                curLen = 0
            } else {
                s.pointee.offset &+= sOff
                s.pointee.length = sLen
                // Append to the current output segment if it is valid, this segment starts on an IOVA
                // granule, it does not fall at a segment boundary, and the result would not be too long.
                if curLen != 0 && sOff == 0 && dma & segMask != 0 && maxLen &- curLen >= sLen {
                    curLen &+= sLen
                } else {
                    if i > 0 { cur = SG.next(cur).unsafelyUnwrapped }
                    curLen = sLen
                    count += 1
                    cur.pointee.dma_address = dma &+ UInt64(sOff)
                }
                cur.pointee.dma_length = curLen
                dma &+= UInt64(sIovaLen)
                if sLen &+ sOff < sIovaLen { curLen = 0 }
            }
            i += 1
            sg = SG.next(s)
        }
        return count
    }

    /// Kernel: __invalidate_sg: after a failed map, restore the list with the DMA fields invalidated.
    func invalidate(_ sgl: UnsafeMutablePointer<Scatterlist>, count nents: Int32) {
        SG.forEach(sgl, nents) { s in
            if s.pointee.dma_flags & sgDMABusAddress != 0 {
                s.pointee.dma_flags &= ~sgDMABusAddress
            } else {
                if s.pointee.dma_address != DMAAddress.mappingError.rawValue {
                    s.pointee.offset &+= UInt32(truncatingIfNeeded: s.pointee.dma_address)
                }
                if s.pointee.dma_length != 0 { s.pointee.length = s.pointee.dma_length }
            }
            s.pointee.dma_address = DMAAddress.mappingError.rawValue
            s.pointee.dma_length = 0
        }
    }

    /// Kernel: iommu_dma_unmap_sg: the one IOVA range from the first DMA segment to the end of the last.
    func unmapSG(_ dev: UnsafeMutablePointer<Device>, _ sgl: UnsafeMutablePointer<Scatterlist>, count nents: Int32,
                 direction: DMADirection, attributes: DMAAttributes) {
        if sgl.pointee.dma_flags & sgDMASwiotlb != 0 {
            unmapSGSwiotlb(dev, sgl, count: nents, direction: direction, attributes: attributes)
            return
        }
        if !attributes.contains(.skipCPUSync) { syncSG(dev, sgl, count: nents, direction: direction, forDevice: false) }
        // The segments are mapped into a single contiguous IOVA allocation: find its start and end.
        var start: UInt64 = 0
        var end: UInt64 = 0
        var tmp: UnsafeMutablePointer<Scatterlist>? = sgl
        var i: Int32 = 0
        while i < nents, let s = tmp {
            if s.pointee.dma_flags & sgDMABusAddress != 0 {
                s.pointee.dma_flags &= ~sgDMABusAddress
                i += 1
                tmp = SG.next(s)
                continue
            }
            if s.pointee.dma_length != 0 { start = s.pointee.dma_address }
            break
        }
        let left = nents - i
        var j: Int32 = 0
        while j < left, let s = tmp {
            if s.pointee.dma_flags & sgDMABusAddress != 0 {
                s.pointee.dma_flags &= ~sgDMABusAddress
            } else {
                if s.pointee.dma_length == 0 { break }
                end = s.pointee.dma_address &+ UInt64(s.pointee.dma_length)
            }
            j += 1
            tmp = SG.next(s)
        }
        if end != 0 { unmap(start, size: Int(end &- start)) }
    }

    /// Kernel: iommu_dma_sync_sg_for_cpu / _for_device.
    func syncSG(_ dev: UnsafeMutablePointer<Device>, _ sgl: UnsafeMutablePointer<Scatterlist>, count nents: Int32,
                direction: DMADirection, forDevice: Bool) {
        if sgl.pointee.dma_flags & sgDMASwiotlb != 0 {
            SG.forEach(sgl, nents) { s in
                syncSingle(dev, address: s.pointee.dma_address, size: Int(s.pointee.length), direction: direction,
                           forDevice: forDevice)
            }
        } else if !dev.pointee.dma_coherent {
            SG.forEach(sgl, nents) { s in
                guard let phys = SG.physicalAddress(s, memory) else { return }
                if forDevice {
                    ArchDMA.syncForDevice(memory, phys, size: Int(s.pointee.length), direction: direction)
                } else {
                    ArchDMA.syncForCPU(memory, phys, size: Int(s.pointee.length), direction: direction)
                }
            }
        }
    }
}
