// The IOVA allocator's C API (linux/iova.h) and swiommu/iova.h: converts and dispatches to SwiommuIOVA.
import CKernel
import SwiommuBase
import SwiommuDMA
import SwiommuIOVA
import SwiommuPlatform

/// The CPU page size the kernel's granule check and iova_rcache_range() use: the booted machine's, else 4 KiB.
@inline(__always)
private var cpuPageSize: UInt64 { UInt64(Machine.withCurrent { $0.geometry.size } ?? 4096) }

/// The process-wide "allow a granule above PAGE_SIZE" option (swiommu_iova_allow_large_granule).
nonisolated(unsafe) private var allowLargeGranule = false

// MARK: linux/iova.h

@c(iova_cache_get)
public func abiIovaCacheGet() -> CInt {
    IOVACacheUsers.get()
    return 0
}

@c(iova_cache_put)
public func abiIovaCachePut() {
    IOVACacheUsers.put()
}

@c(iova_rcache_range)
public func abiIovaRcacheRange() -> CUnsignedLong {
    CUnsignedLong(cpuPageSize) << 5
}

@c(init_iova_domain)
public func abiInitIovaDomain(_ iovad: UnsafeMutablePointer<iova_domain>?, _ granule: CUnsignedLong,
                              _ startPfn: CUnsignedLong) {
    guard let iovad else {
        Kernel.warn("init_iova_domain: NULL iova_domain")
        return
    }
    CIOVADomain.initialise(iovad, granule: UInt64(granule), startPfn: UInt64(startPfn), pageSize: cpuPageSize,
                           allowLargeGranule: allowLargeGranule)
}

@c(iova_domain_init_rcaches)
public func abiIovaDomainInitRcaches(_ iovad: UnsafeMutablePointer<iova_domain>?) -> CInt {
    CIOVADomain.initRangeCaches(iovad)?.negated ?? 0
}

@c(put_iova_domain)
public func abiPutIovaDomain(_ iovad: UnsafeMutablePointer<iova_domain>?) {
    CIOVADomain.put(iovad)
}

@c(alloc_iova)
public func abiAllocIova(_ iovad: UnsafeMutablePointer<iova_domain>?, _ size: CUnsignedLong,
                         _ limitPfn: CUnsignedLong, _ sizeAligned: Bool) -> UnsafeMutablePointer<iova>? {
    CIOVADomain.with(iovad, "alloc_iova", nil) {
        $0.allocate(size: UInt64(size), limit: IOVAPFN(UInt64(limitPfn)), sizeAligned: sizeAligned)?
            .pointer.assumingMemoryBound(to: iova.self)
    }
}

@c(find_iova)
public func abiFindIova(_ iovad: UnsafeMutablePointer<iova_domain>?, _ pfn: CUnsignedLong)
    -> UnsafeMutablePointer<iova>? {
    CIOVADomain.with(iovad, "find_iova", nil) {
        $0.find(IOVAPFN(UInt64(pfn)))?.pointer.assumingMemoryBound(to: iova.self)
    }
}

@c(__free_iova)
public func abiFreeIovaStruct(_ iovad: UnsafeMutablePointer<iova_domain>?, _ iova: UnsafeMutablePointer<iova>?) {
    guard let iova else {
        Kernel.warn("__free_iova: NULL iova")
        return
    }
    CIOVADomain.with(iovad, "__free_iova", ()) { $0.free(IOVAHandle(UnsafeMutableRawPointer(iova))) }
}

@c(free_iova)
public func abiFreeIova(_ iovad: UnsafeMutablePointer<iova_domain>?, _ pfn: CUnsignedLong) {
    CIOVADomain.with(iovad, "free_iova", ()) { $0.free(pfn: IOVAPFN(UInt64(pfn))) }
}

@c(reserve_iova)
public func abiReserveIova(_ iovad: UnsafeMutablePointer<iova_domain>?, _ pfnLo: CUnsignedLong,
                           _ pfnHi: CUnsignedLong) -> UnsafeMutablePointer<iova>? {
    CIOVADomain.with(iovad, "reserve_iova", nil) {
        $0.reserve(lo: IOVAPFN(UInt64(pfnLo)), hi: IOVAPFN(UInt64(pfnHi)))?.pointer.assumingMemoryBound(to: iova.self)
    }
}

@c(alloc_iova_fast)
public func abiAllocIovaFast(_ iovad: UnsafeMutablePointer<iova_domain>?, _ size: CUnsignedLong,
                             _ limitPfn: CUnsignedLong, _ flushRcache: Bool) -> CUnsignedLong {
    CIOVADomain.with(iovad, "alloc_iova_fast", 0) {
        CUnsignedLong($0.allocateFast(size: UInt64(size), limit: IOVAPFN(UInt64(limitPfn)),
                                      flushRangeCache: flushRcache))
    }
}

@c(free_iova_fast)
public func abiFreeIovaFast(_ iovad: UnsafeMutablePointer<iova_domain>?, _ pfn: CUnsignedLong,
                            _ size: CUnsignedLong) {
    CIOVADomain.with(iovad, "free_iova_fast", ()) { $0.freeFast(pfn: IOVAPFN(UInt64(pfn)), size: UInt64(size)) }
}

// MARK: swiommu/iova.h

@c(swiommu_iova_set_online_cpus)
public func abiIovaSetOnlineCpus(_ n: CUnsignedInt) -> CInt {
    guard n >= 1 && Int(n) <= ThreadCPU.maxCPUs else { return Errno.invalid.negated }
    let old = ThreadCPU.onlineCPUs
    ThreadCPU.onlineCPUs = Int(n)
    return CInt(old)
}

@c(swiommu_iova_online_cpus)
public func abiIovaOnlineCpus() -> CUnsignedInt {
    CUnsignedInt(ThreadCPU.onlineCPUs)
}

@c(swiommu_iova_set_cpu)
public func abiIovaSetCpu(_ cpu: CInt) -> CInt {
    ThreadCPU.set(Int(cpu))?.negated ?? 0
}

@c(swiommu_iova_current_cpu)
public func abiIovaCurrentCpu() -> CInt {
    let cpu = ThreadCPU.current()
    return cpu < 0 ? Errno.busy.negated : CInt(cpu)
}

@c(swiommu_iova_clock_advance)
public func abiIovaClockAdvance(_ ms: CUnsignedLong) {
    IOVAClock.advance(by: UInt64(ms))
}

@c(swiommu_iova_clock_now)
public func abiIovaClockNow() -> CUnsignedLong {
    CUnsignedLong(IOVAClock.now)
}

@c(swiommu_iova_allow_large_granule)
public func abiIovaAllowLargeGranule(_ allow: Bool) -> Bool {
    let old = allowLargeGranule
    allowLargeGranule = allow
    return old
}

@c(swiommu_iova_get_stats)
public func abiIovaGetStats(_ iovad: UnsafeMutablePointer<iova_domain>?,
                            _ stats: UnsafeMutablePointer<swiommu_iova_stats>?) -> CInt {
    guard let stats else { return Errno.invalid.negated }
    guard let s = CIOVADomain.with(iovad, "swiommu_iova_get_stats", nil, { $0.statistics }) else {
        return Errno.invalid.negated
    }
    stats.pointee = cStatistics(s)
    return 0
}

private func cStatistics(_ s: IOVAStatistics) -> swiommu_iova_stats {
    swiommu_iova_stats(
        allocations: CUnsignedLong(s.allocations), cached: CUnsignedLong(s.cached),
        depot_magazines: CUnsignedLong(s.depotMagazines), node_bytes: CUnsignedLong(s.nodeBytes),
        pool_bytes: CUnsignedLong(s.poolBytes), cached_pfn_lo: CUnsignedLong(s.cachedPfnLo),
        cached32_pfn_lo: CUnsignedLong(s.cached32PfnLo), max32_alloc_size: CUnsignedLong(s.max32AllocSize),
        tree_height: CUnsignedLong(s.treeHeight), misaligned_gaps: CUnsignedLong(s.misalignedGaps))
}

@c(swiommu_iommu_dma_get_iova_stats)
public func abiIommuDMAGetIovaStats(_ domain: UnsafeMutablePointer<iommu_domain>?,
                                    _ stats: UnsafeMutablePointer<swiommu_iova_stats>?) -> CInt {
    guard Machine.isUp else { return Errno.noDevice.negated }
    guard let domain, !isNullOrError(domain), let stats else {
        Kernel.warn("swiommu_iommu_dma_get_iova_stats: NULL or ERR_PTR domain, or NULL stats")
        return Errno.invalid.negated
    }
    guard let s = IOMMUDMA.iovaStatistics(domain) else { return Errno.noDevice.negated }
    stats.pointee = cStatistics(s)
    return 0
}

@c(swiommu_iova_check)
public func abiIovaCheck(_ iovad: UnsafeMutablePointer<iova_domain>?) -> CInt {
    guard let problems = CIOVADomain.with(iovad, "swiommu_iova_check", nil, { $0.checkInvariants() }) else {
        return Errno.invalid.negated
    }
    for p in problems { Kernel.warn("iova: invariant broken: \(p)") }
    return CInt(problems.count)
}

@c(swiommu_dump_iova)
public func abiDumpIova(_ iovad: UnsafeMutablePointer<iova_domain>?, _ buf: UnsafeMutablePointer<CChar>?, _ size: size_t) -> Int {
    guard let text = CIOVADomain.with(iovad, "swiommu_dump_iova", nil, { $0.dump() }) else { return Int(Errno.invalid.negated) }
    return copyOut(text, buf, Int(size))
}
