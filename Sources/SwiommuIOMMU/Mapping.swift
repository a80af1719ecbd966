// iommu_map and iommu_unmap: split a range into the domain's page sizes and call its driver, rolling back
// a partial map. No lock and no lookup: the domain leads to its ops. Kernel: __iommu_map, __iommu_unmap,
// iommu_map, iommu_unmap, iommu_unmap_fast, iommu_iova_to_phys (drivers/iommu/iommu.c).
import CKernel
import SwiommuBase
import SwiommuMemory
import SwiommuPageTable

public enum Mapping {
    /// Kernel: iommu_map. 0 or -EINVAL (not a paging domain, bad gfp, unaligned), -ENODEV (no map_pages or
    /// page sizes), or the driver's error after rolling back what was mapped (its iotlb_sync_map's included).
    public static func map(_ domain: UnsafeMutablePointer<IOMMUDomain>, iova: UInt64, paddr: UInt64, size: UInt64,
                           prot: Int32, gfp: UInt32) -> Int32 {
        var ret = mapNoSync(domain, iova: iova, paddr: paddr, size: size, prot: prot, gfp: gfp)
        guard ret == 0 else { return ret }
        ret = syncMap(domain, iova: iova, size: size)
        if ret != 0 { _ = unmap(domain, iova: iova, size: size) }
        return ret
    }

    /// iommu:map, with the format of include/trace/events/iommu.h.
    @inline(never)
    static func traceMap(_ iova: UInt64, _ paddr: UInt64, _ size: UInt64) {
        Trace.emit(.map, "IOMMU: iova=0x\(hex16(iova)) - 0x\(hex16(iova &+ size)) paddr=0x\(hex16(paddr)) size=\(size)")
    }

    /// iommu:unmap.
    @inline(never)
    static func traceUnmap(_ iova: UInt64, _ size: UInt64, _ unmapped: UInt64) {
        Trace.emit(.unmap, "IOMMU: iova=0x\(hex16(iova)) - 0x\(hex16(iova &+ size)) size=\(size) unmapped_size=\(unmapped)")
    }

    /// %016llx.
    static func hex16(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return s.count >= 16 ? s : String(repeating: "0", count: 16 - s.count) + s
    }

    /// Kernel: iommu_map_nosync.
    public static func mapNoSync(_ domain: UnsafeMutablePointer<IOMMUDomain>, iova: UInt64, paddr: UInt64, size: UInt64,
                                 prot: Int32, gfp: UInt32) -> Int32 {
        let d = domain.pointee
        // As the kernel: a domain that is not a paging one (identity, blocked) is refused quietly.
        guard d.type & domainPagingBit != 0 else { return Errno.invalid.negated }
        guard let ops = d.ops, let mapPages = ops.pointee.map_pages, d.pgsize_bitmap != 0 else {
            Kernel.warn("iommu_map: domain without map_pages or page sizes")
            return Errno.noDevice.negated
        }
        guard gfp & iommuMapBadGFP == 0 else {
            Kernel.warn("iommu_map: gfp \(Kernel.hex(gfp)) asks for a zone or compound pages")
            return Errno.invalid.negated
        }
        let bitmap = UInt64(d.pgsize_bitmap)
        let minimum = bitmap & (0 &- bitmap)
        guard (iova | paddr | size) & (minimum &- 1) == 0 else {
            // %pa: a phys_addr_t, 0x and 16 digits.
            Kernel.log(.error, "iommu: unaligned: iova \(Kernel.hex(iova)) pa 0x\(hex16(paddr)) size \(Kernel.hex(size)) min_pagesz \(Kernel.hex(minimum))")
            return Errno.invalid.negated
        }
        var (i, p, left) = (iova, paddr, size)
        var ret: Int32 = 0
        // The "iommu_map" fault-injection point fails the range's last batch, after the others are mapped.
        let inject = FaultInjection.shouldFail(.iommuMap)
        while left > 0 {
            guard let (pageSize, count) = PageSizeChoice.pick(bitmap: bitmap, iova: i, paddr: p, size: left) else {
                ret = Errno.invalid.negated
                break
            }
            if inject && pageSize &* count == left {
                ret = Errno.noMemory.negated
                break
            }
            var mapped = 0
            ret = mapPages(domain, UInt(i), p, Int(pageSize), Int(count), prot, gfp, &mapped)
            if Counting.enabled && mapped > 0 { countChange(domain, maps: 1, bytes: UInt64(mapped)) }
            // The driver reports what it mapped even when it fails part-way.
            left &-= UInt64(mapped)
            i &+= UInt64(mapped)
            p &+= UInt64(mapped)
            if ret != 0 { break }
            if mapped == 0 {
                ret = Errno.invalid.negated
                break
            }
        }
        if ret != 0 && size - left > 0 {
            _ = unmap(domain, iova: iova, size: size - left)   // roll back
        } else if ret == 0 && Trace.enabled(.map) {
            traceMap(iova, paddr, size)
        }
        return ret
    }

    /// Kernel: iommu_sync_map: the driver's iotlb_sync_map, or 0 without one. (iommu_map unmaps the range when
    /// it fails; this does not.)
    public static func syncMap(_ domain: UnsafeMutablePointer<IOMMUDomain>, iova: UInt64, size: UInt64) -> Int32 {
        guard let sync = domain.pointee.ops?.pointee.iotlb_sync_map else { return 0 }
        return sync(domain, UInt(iova), Int(size))
    }

    /// Kernel: __iommu_unmap: the bytes unmapped, which can exceed `size` when a larger block goes; 0 for
    /// a domain that cannot unmap or an unaligned range.
    public static func unmapCore(_ domain: UnsafeMutablePointer<IOMMUDomain>, iova: UInt64, size: UInt64,
                                 gather: UnsafeMutablePointer<iommu_iotlb_gather>) -> UInt64 {
        let d = domain.pointee
        guard d.type & domainPagingBit != 0 else { return 0 }
        guard let unmapPages = d.ops?.pointee.unmap_pages, d.pgsize_bitmap != 0 else {
            Kernel.warn("iommu_unmap: domain without unmap_pages or page sizes")
            return 0
        }
        let bitmap = UInt64(d.pgsize_bitmap)
        let minimum = bitmap & (0 &- bitmap)
        guard (iova | size) & (minimum &- 1) == 0 else {
            Kernel.log(.error, "iommu: unaligned: iova \(Kernel.hex(iova)) size \(Kernel.hex(size)) min_pagesz \(Kernel.hex(minimum))")
            return 0
        }
        var unmapped: UInt64 = 0
        while unmapped < size {
            let left = size - unmapped
            guard let (pageSize, count) = PageSizeChoice.pick(bitmap: bitmap, iova: iova &+ unmapped, paddr: iova &+ unmapped,
                                                                size: left) else { break }
            let n = UInt64(unmapPages(domain, UInt(iova &+ unmapped), Int(pageSize), Int(count), gather))
            if n == 0 { break }
            if Counting.enabled { countChange(domain, unmaps: 1, bytes: n) }
            unmapped &+= n
        }
        if Trace.enabled(.unmap) { traceUnmap(iova, size, unmapped) }
        return unmapped
    }

    /// Kernel: iommu_unmap: unmap and sync the IOTLB.
    public static func unmap(_ domain: UnsafeMutablePointer<IOMMUDomain>, iova: UInt64, size: UInt64) -> UInt64 {
        var gather = iommu_iotlb_gather()
        iommu_iotlb_gather_init(&gather)
        let n = unmapCore(domain, iova: iova, size: size, gather: &gather)
        sync(domain, &gather)
        return n
    }

    /// Kernel: iommu_iotlb_sync (static inline there; the core's calls go through here to be counted).
    @inline(__always)
    public static func sync(_ domain: UnsafeMutablePointer<IOMMUDomain>, _ gather: UnsafeMutablePointer<iommu_iotlb_gather>) {
        domain.pointee.ops?.pointee.iotlb_sync?(domain, gather)
        iommu_iotlb_gather_init(gather)
        if Counting.enabled { countInvalidation(domain) }
    }

    /// Kernel: iommu_flush_iotlb_all (static inline there), counted.
    public static func flushAll(_ domain: UnsafeMutablePointer<IOMMUDomain>) {
        domain.pointee.ops?.pointee.flush_iotlb_all?(domain)
        if Counting.enabled { countInvalidation(domain) }
    }

    // MARK: Counters of domains whose driver is C (the built-in models count their own)

    @inline(never)
    static func countChange(_ domain: UnsafeMutablePointer<IOMMUDomain>, maps: UInt64 = 0, unmaps: UInt64 = 0, bytes: UInt64) {
        guard !BuiltinModels.isModelDomain(domain), let s = DomainState.existing(domain) else { return }
        s._withUnsafeGuaranteedRef { s in
            if maps != 0 {
                s.maps.add(maps, ordering: .relaxed)
                s.mappedBytes.add(bytes, ordering: .relaxed)
            } else {
                s.unmaps.add(unmaps, ordering: .relaxed)
                s.unmappedBytes.add(bytes, ordering: .relaxed)
            }
        }
    }

    @inline(never)
    static func countInvalidation(_ domain: UnsafeMutablePointer<IOMMUDomain>) {
        guard !BuiltinModels.isModelDomain(domain), let s = DomainState.existing(domain) else { return }
        s._withUnsafeGuaranteedRef { _ = $0.invalidations.add(1, ordering: .relaxed) }
    }

    /// Kernel: iommu_map_sg. Physically contiguous entries merge into one map; entries the DMA layer marked
    /// as bus addresses are skipped; one iotlb_sync_map at the end; a failure unmaps everything mapped.
    /// The bytes mapped, or -errno.
    public static func mapSG(_ domain: UnsafeMutablePointer<IOMMUDomain>, iova: UInt64,
                             _ first: UnsafeMutablePointer<scatterlist>, count nents: Int, prot: Int32, gfp: UInt32,
                             memory: SimulatedMemory) -> Int {
        guard gfp & iommuMapBadGFP == 0 else {
            Kernel.warn("iommu_map_sg: gfp \(Kernel.hex(gfp)) asks for a zone or compound pages")
            return Int(Errno.invalid.negated)
        }
        var sg = first
        var (len, mapped, start): (UInt64, UInt64, UInt64) = (0, 0, 0)
        var i = 0
        var ret: Int32 = 0
        // As upstream, one pass past the last entry flushes the run being merged.
        while i <= nents {
            guard let sPhys = physicalAddress(sg, memory: memory) else {
                Kernel.log(.error, "iommu_map_sg: entry \(i) is not simulated RAM")
                ret = Errno.invalid.negated
                break
            }
            if len != 0 && sPhys != start &+ len {
                guard memory.physical.isRAM(PhysicalAddress(start), size: len) else {
                    Kernel.log(.error, "iommu_map_sg: \(PhysicalAddress(start))+\(Kernel.hex(len)) is not simulated RAM")
                    ret = Errno.invalid.negated
                    break
                }
                ret = mapNoSync(domain, iova: iova &+ mapped, paddr: start, size: len, prot: prot, gfp: gfp)
                if ret != 0 { break }
                mapped &+= len
                len = 0
            }
            if !sg_dma_is_bus_address(sg) {
                if len != 0 {
                    len &+= UInt64(sg.pointee.length)
                } else {
                    len = UInt64(sg.pointee.length)
                    start = sPhys
                }
            }
            i += 1
            if i < nents, let next = sg_next(sg) { sg = next }
        }
        if ret == 0 { ret = syncMap(domain, iova: iova, size: mapped) }
        if ret != 0 {
            if mapped != 0 { _ = unmap(domain, iova: iova, size: mapped) }
            return Int(ret)
        }
        return Int(mapped)
    }

    /// sg_phys: the entry's page's physical address plus its offset; nil for a page that is not RAM.
    @inline(__always)
    static func physicalAddress(_ sg: UnsafeMutablePointer<scatterlist>, memory: SimulatedMemory) -> UInt64? {
        guard let page = sg_page(sg), let pa = memory.physical.physicalAddress(of: page) else { return nil }
        return pa.rawValue &+ UInt64(sg.pointee.offset)
    }

    /// Kernel: iommu_iova_to_phys: 0 when nothing is mapped; identity domains return the iova.
    public static func iovaToPhys(_ domain: UnsafeMutablePointer<IOMMUDomain>, _ iova: UInt64) -> UInt64 {
        if domain.pointee.type == IOMMU_DOMAIN_IDENTITY_VALUE { return iova }
        if domain.pointee.type == IOMMU_DOMAIN_BLOCKED_VALUE { return 0 }
        return domain.pointee.ops?.pointee.iova_to_phys?(domain, iova) ?? 0
    }
}
