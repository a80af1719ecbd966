// The leak report of swiommu_exit(): every live allocation with the site that made it.
import CKernel
import CSwiommuGlue
import SwiommuBase

/// One live allocation.
public struct Leak: Sendable, CustomStringConvertible {
    public var allocator: String
    public var address: UInt
    public var physical: PhysicalAddress?
    public var bytes: Int
    public var file: String
    public var line: Int
    public var function: String

    public var description: String {
        let where_ = line > 0 ? "\(file):\(line) (\(function))" : "an unknown site (a _noprof call)"
        let phys = physical.map { ", phys \($0)" } ?? ""
        return "\(allocator) \(bytes) bytes at \(Kernel.hex(address))\(phys), allocated at \(where_)"
    }
}

extension SimulatedMemory {
    private static func describe(_ site: AllocationSite?) -> (String, Int, String) {
        guard let site else { return ("?", 0, "?") }
        let s = site.assumingMemoryBound(to: swiommu_alloc_site.self)
        return (String(cString: swiommu_glue_site_file(s)), Int(swiommu_glue_site_line(s)),
                String(cString: swiommu_glue_site_func(s)))
    }

    /// Every live allocation: page blocks, kmalloc objects, vmalloc areas, vmap mappings.
    public func liveAllocations() -> [Leak] {
        lock.withLock {
            var leaks: [Leak] = []
            buddy.forEachLive { head in
                let owner = PageState.owner(head.pointee.swiommu.state)
                guard owner == .pages || owner == .kmallocLarge else { return }
                let (f, l, fn) = Self.describe(head.pointee.swiommu.site.map { UnsafeRawPointer($0) })
                let order = Int(head.pointee.swiommu.order)
                let bytes = owner == .pages ? geometry.size << order : Int(head.pointee.private)
                leaks.append(Leak(allocator: owner == .pages ? "alloc_pages(order \(order))" : "kmalloc",
                                  address: UInt(bitPattern: physical.virtualAddress(of: head)),
                                  physical: physical.physicalAddress(of: head), bytes: bytes,
                                  file: f, line: l, function: fn))
            }
            forEachLiveObjectLocked { p, size, cache, site in
                let (f, l, fn) = Self.describe(site)
                leaks.append(Leak(allocator: "kmalloc (\(cache))", address: UInt(bitPattern: p),
                                  physical: physical.physicalAddress(ofVirtual: p), bytes: size,
                                  file: f, line: l, function: fn))
            }
            for a in vmallocSpace.areas {
                let (f, l, fn) = Self.describe(a.site)
                leaks.append(Leak(allocator: a.kind == .vmalloc ? "vmalloc" : "vmap", address: a.start,
                                  physical: nil, bytes: a.requested, file: f, line: l, function: fn))
            }
            return leaks
        }
    }

    /// Remember what is live now (the end of boot: firmware tables, default domains, the IOMMU drivers'
    /// own state), so that a test's leak check reports only what was allocated after it.
    public func markBootAllocations() {
        let live = liveAllocations().map(\.address)
        lock.withLock { bootAllocations = Set(live) }
    }

    /// Log every live allocation as a leak; returns how many there are. `sinceBoot`: leave out what was
    /// live when boot finished (swiommu_mem_check_leaks; swiommu_exit reports everything).
    @discardableResult
    public func reportLeaks(print: Bool, sinceBoot: Bool = false) -> Int {
        let baseline = sinceBoot ? lock.withLock { bootAllocations } : []
        let leaks = liveAllocations().filter { !baseline.contains($0.address) }
        if print {
            for l in leaks { Kernel.log(.error, "swiommu: leak: \(l)") }
            if !leaks.isEmpty { Kernel.log(.error, "swiommu: \(leaks.count) allocation(s) leaked") }
        }
        return leaks.count
    }
}
