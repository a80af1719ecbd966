// io-pgtable's C face (linux/io-pgtable.h, swiommu/io_pgtable.h): converts and dispatches to SwiommuPageTable.
import CKernel
import SwiommuBase
import SwiommuMemory
import SwiommuPageTable
import SwiommuPlatform

// MARK: alloc_io_pgtable_ops, free_io_pgtable_ops

@c(alloc_io_pgtable_ops)
public func abiAllocIoPgtableOps(_ fmt: io_pgtable_fmt, _ cfg: UnsafeMutablePointer<io_pgtable_cfg>?,
                                 _ cookie: UnsafeMutableRawPointer?) -> UnsafeMutablePointer<io_pgtable_ops>? {
    guard let cfg else {
        Kernel.warn("alloc_io_pgtable_ops: NULL cfg")
        return nil
    }
    return withMachine("alloc_io_pgtable_ops", nil) { m in
        guard let table = IOPageTable.allocate(format: fmt, config: cfg, cookie: cookie, memory: m.memory) else { return nil }
        let ops = table.ops
        switch table.family {
        case .armLPAE:
            ops.pointee.map_pages = abiArmLpaeMapPages
            ops.pointee.unmap_pages = abiArmLpaeUnmapPages
            ops.pointee.iova_to_phys = abiArmLpaeIovaToPhys
            ops.pointee.pgtable_walk = abiArmLpaePgtableWalk
        case .armV7S:
            ops.pointee.map_pages = abiArmV7sMapPages
            ops.pointee.unmap_pages = abiArmV7sUnmapPages
            ops.pointee.iova_to_phys = abiArmV7sIovaToPhys
        case .appleDART:
            ops.pointee.map_pages = abiDartMapPages
            ops.pointee.unmap_pages = abiDartUnmapPages
            ops.pointee.iova_to_phys = abiDartIovaToPhys
        }
        return ops
    }
}

@c(free_io_pgtable_ops)
public func abiFreeIoPgtableOps(_ ops: UnsafeMutablePointer<io_pgtable_ops>?) {
    guard let ops else { return }
    IOPageTable.free(ops)
}

// MARK: The ops, per format family

@c(swiommu_arm_lpae_map_pages)
public func abiArmLpaeMapPages(_ ops: UnsafeMutablePointer<io_pgtable_ops>?, _ iova: CUnsignedLong, _ paddr: phys_addr_t,
                               _ pgsize: size_t, _ pgcount: size_t, _ prot: CInt, _ gfp: gfp_t,
                               _ mapped: UnsafeMutablePointer<size_t>?) -> CInt {
    guard let ops else { return Errno.invalid.negated }
    return ARMLPAEOps.mapPages(ops, iova: UInt64(iova), paddr: paddr, pageSize: pgsize, count: pgcount, prot: prot,
                               gfp: gfp, mapped: mapped)
}

@c(swiommu_arm_lpae_unmap_pages)
public func abiArmLpaeUnmapPages(_ ops: UnsafeMutablePointer<io_pgtable_ops>?, _ iova: CUnsignedLong, _ pgsize: size_t,
                                 _ pgcount: size_t, _ gather: UnsafeMutablePointer<iommu_iotlb_gather>?) -> size_t {
    guard let ops else { return 0 }
    return ARMLPAEOps.unmapPages(ops, iova: UInt64(iova), pageSize: pgsize, count: pgcount, gather: gather)
}

@c(swiommu_arm_lpae_iova_to_phys)
public func abiArmLpaeIovaToPhys(_ ops: UnsafeMutablePointer<io_pgtable_ops>?, _ iova: CUnsignedLong) -> phys_addr_t {
    guard let ops else { return 0 }
    return ARMLPAEOps.iovaToPhys(ops, iova: UInt64(iova))
}

@c(swiommu_arm_lpae_pgtable_walk)
public func abiArmLpaePgtableWalk(_ ops: UnsafeMutablePointer<io_pgtable_ops>?, _ iova: CUnsignedLong,
                                  _ wd: UnsafeMutableRawPointer?) -> CInt {
    guard let ops else { return Errno.invalid.negated }
    return ARMLPAEOps.pgtableWalk(ops, iova: UInt64(iova), data: wd)
}

@c(swiommu_arm_v7s_map_pages)
public func abiArmV7sMapPages(_ ops: UnsafeMutablePointer<io_pgtable_ops>?, _ iova: CUnsignedLong, _ paddr: phys_addr_t,
                              _ pgsize: size_t, _ pgcount: size_t, _ prot: CInt, _ gfp: gfp_t,
                              _ mapped: UnsafeMutablePointer<size_t>?) -> CInt {
    guard let ops else { return Errno.invalid.negated }
    return ARMv7SOps.mapPages(ops, iova: UInt64(iova), paddr: paddr, pageSize: pgsize, count: pgcount, prot: prot,
                              gfp: gfp, mapped: mapped)
}

@c(swiommu_arm_v7s_unmap_pages)
public func abiArmV7sUnmapPages(_ ops: UnsafeMutablePointer<io_pgtable_ops>?, _ iova: CUnsignedLong, _ pgsize: size_t,
                                _ pgcount: size_t, _ gather: UnsafeMutablePointer<iommu_iotlb_gather>?) -> size_t {
    guard let ops else { return 0 }
    return ARMv7SOps.unmapPages(ops, iova: UInt64(iova), pageSize: pgsize, count: pgcount, gather: gather)
}

@c(swiommu_arm_v7s_iova_to_phys)
public func abiArmV7sIovaToPhys(_ ops: UnsafeMutablePointer<io_pgtable_ops>?, _ iova: CUnsignedLong) -> phys_addr_t {
    guard let ops else { return 0 }
    return ARMv7SOps.iovaToPhys(ops, iova: UInt64(iova))
}

@c(swiommu_dart_map_pages)
public func abiDartMapPages(_ ops: UnsafeMutablePointer<io_pgtable_ops>?, _ iova: CUnsignedLong, _ paddr: phys_addr_t,
                            _ pgsize: size_t, _ pgcount: size_t, _ prot: CInt, _ gfp: gfp_t,
                            _ mapped: UnsafeMutablePointer<size_t>?) -> CInt {
    guard let ops else { return Errno.invalid.negated }
    return AppleDARTOps.mapPages(ops, iova: UInt64(iova), paddr: paddr, pageSize: pgsize, count: pgcount, prot: prot,
                                 gfp: gfp, mapped: mapped)
}

@c(swiommu_dart_unmap_pages)
public func abiDartUnmapPages(_ ops: UnsafeMutablePointer<io_pgtable_ops>?, _ iova: CUnsignedLong, _ pgsize: size_t,
                              _ pgcount: size_t, _ gather: UnsafeMutablePointer<iommu_iotlb_gather>?) -> size_t {
    guard let ops else { return 0 }
    return AppleDARTOps.unmapPages(ops, iova: UInt64(iova), pageSize: pgsize, count: pgcount, gather: gather)
}

@c(swiommu_dart_iova_to_phys)
public func abiDartIovaToPhys(_ ops: UnsafeMutablePointer<io_pgtable_ops>?, _ iova: CUnsignedLong) -> phys_addr_t {
    guard let ops else { return 0 }
    return AppleDARTOps.iovaToPhys(ops, iova: UInt64(iova))
}

// MARK: swiommu/io_pgtable.h

@c(swiommu_io_pgtable_translate)
public func abiIoPgtableTranslate(_ fmt: io_pgtable_fmt, _ cfg: UnsafePointer<io_pgtable_cfg>?, _ iova: CUnsignedLong,
                                  _ access: CUnsignedInt,
                                  _ out: UnsafeMutablePointer<swiommu_pgtable_translation>?) -> CInt {
    guard let cfg, let out else { return Errno.invalid.negated }
    return withMachine("swiommu_io_pgtable_translate", Errno.noDevice.negated) {
        PageTableWalker.translateMemoized(format: fmt, config: cfg, memory: $0.memory, iova: UInt64(iova), access: access,
                                          into: out)
    }
}

@c(swiommu_io_pgtable_walker_init)
public func abiIoPgtableWalkerInit(_ walker: UnsafeMutablePointer<swiommu_pgtable_walker>?, _ fmt: io_pgtable_fmt,
                                   _ cfg: UnsafePointer<io_pgtable_cfg>?) -> CInt {
    guard let walker, let cfg else { return Errno.invalid.negated }
    return withMachine("swiommu_io_pgtable_walker_init", Errno.noDevice.negated) {
        PageTableWalker.latch(format: fmt, config: cfg, memory: $0.memory, into: UnsafeMutableRawPointer(walker),
                              capacity: MemoryLayout<swiommu_pgtable_walker>.size)
    }
}

@c(swiommu_io_pgtable_walker_translate)
public func abiIoPgtableWalkerTranslate(_ walker: UnsafePointer<swiommu_pgtable_walker>?, _ iova: CUnsignedLong,
                                        _ access: CUnsignedInt,
                                        _ out: UnsafeMutablePointer<swiommu_pgtable_translation>?) -> CInt {
    guard let walker, let out else { return Errno.invalid.negated }
    return withMachine("swiommu_io_pgtable_walker_translate", Errno.noDevice.negated) { _ in
        PageTableWalker.translate(latched: UnsafeRawPointer(walker), iova: UInt64(iova), access: access, into: out)
    }
}

@c(swiommu_io_pgtable_dump)
public func abiIoPgtableDump(_ ops: UnsafeMutablePointer<io_pgtable_ops>?, _ buf: UnsafeMutablePointer<CChar>?,
                             _ size: size_t) -> CLong {
    guard let table = IOPageTable(ops: ops) else { return CLong(Errno.invalid.negated) }
    var text = table.dump()
    return text.withUTF8 { bytes in
        if let buf, size > 0 {
            let n = min(bytes.count, size - 1)
            if n > 0 { UnsafeMutableRawPointer(buf).copyMemory(from: bytes.baseAddress!, byteCount: n) }
            buf[n] = 0
        }
        return CLong(bytes.count)
    }
}

@c(swiommu_io_pgtable_split_blocks)
public func abiIoPgtableSplitBlocks(_ ops: UnsafeMutablePointer<io_pgtable_ops>?, _ split: Bool) -> CInt {
    guard let ops else {
        IOPageTable.splitBlocksByDefault = split
        return 0
    }
    guard let table = IOPageTable(ops: ops) else { return Errno.invalid.negated }
    table.splitBlocks = split
    return 0
}

@c(swiommu_io_pgtable_get_stats)
public func abiIoPgtableGetStats(_ ops: UnsafeMutablePointer<io_pgtable_ops>?,
                                 _ stats: UnsafeMutablePointer<swiommu_io_pgtable_stats>?) -> CInt {
    guard let stats, let table = IOPageTable(ops: ops) else { return Errno.invalid.negated }
    let s = table.statistics
    stats.pointee = swiommu_io_pgtable_stats(table_bytes: s.tableBytes, tables: s.tables, side_bytes: s.sideBytes, syncs: s.syncs)
    return 0
}

@c(swiommu_io_pgtable_pgsize)
public func abiIoPgtablePgsize(_ bitmap: CUnsignedLong, _ iova: CUnsignedLong, _ paddr: phys_addr_t, _ size: size_t,
                               _ count: UnsafeMutablePointer<size_t>?) -> size_t {
    guard let (pageSize, n) = PageSizeChoice.pick(bitmap: UInt64(bitmap), iova: UInt64(iova), paddr: paddr,
                                                  size: UInt64(bitPattern: Int64(size))) else {
        count?.pointee = 0
        return 0
    }
    count?.pointee = Int(n)
    return Int(pageSize)
}
