// The IOTLB of one IOMMU instance: it caches translations by context (ASID/VMID), IOVA and page size, and
// keeps each entry until an invalidation removes it, so a missing or late invalidation is visible to
// device DMA (the window lazy mode opens). Set-associative, fixed capacity, no allocation after creation.
// Modelled on QEMU's smmu-common.c IOTLB (keyed by {asid, iova, granule, level}) and on the hardware
// commands the drivers issue: invalidate all, by context, by range.

/// One cached translation.
public struct IOTLBEntry: Sendable, Equatable {
    /// The context it belongs to (ASID, VMID, context bank ...).
    public var context: UInt32
    /// log2 of the mapped page or block size.
    public var sizeShift: UInt8
    /// IOMMU_READ / IOMMU_WRITE permission bits the walk granted.
    public var permissions: UInt8
    /// The first IOVA of the page or block.
    public var iova: UInt64
    /// The output address of that first byte.
    public var output: UInt64
    /// The context's invalidation epoch when it was cached: a context invalidation bumps the epoch, so
    /// older entries stop matching at once (the TLB need not be scanned).
    var epoch: UInt32 = 0

    public init(context: UInt32, sizeShift: UInt8, permissions: UInt8, iova: UInt64, output: UInt64) {
        self.context = context
        self.sizeShift = sizeShift
        self.permissions = permissions
        self.iova = iova
        self.output = output
    }
}

/// What the IOTLB has seen. Kernel equivalent: none; the counters tests and dumps read.
public struct IOTLBCounters: Sendable, Equatable {
    public var lookups: UInt64 = 0
    public var hits: UInt64 = 0
    public var misses: UInt64 = 0
    public var fills: UInt64 = 0
    public var evictions: UInt64 = 0
    public var invalidateAll: UInt64 = 0
    public var invalidateContext: UInt64 = 0
    public var invalidateRange: UInt64 = 0
    /// Every invalidation command, whatever its kind (swiommu_iotlb_invalidations).
    public var invalidations: UInt64 { invalidateAll &+ invalidateContext &+ invalidateRange }
    public init() {}
}

public struct IOTLB {
    public static let ways = 4
    /// Entries in total (sets × ways).
    public let capacity: Int
    private let sets: Int
    /// Page sizes the instance maps with (log2), smallest first: lookups probe each.
    private let sizeShifts: UnsafeMutablePointer<UInt8>
    private let sizeCount: Int
    private var entries: UnsafeMutablePointer<IOTLBEntry>
    private var valid: UnsafeMutablePointer<Bool>
    /// Round-robin victim per set.
    private var victim: UnsafeMutablePointer<UInt8>
    /// Per context number below `contextSlots`: its invalidation epoch.
    private let epochs: UnsafeMutablePointer<UInt32>
    private let contextSlots: Int
    public private(set) var counters = IOTLBCounters()

    /// A TLB of about `capacity` entries (rounded up to a power-of-two number of 4-way sets) for the
    /// given page sizes.
    public init(capacity: Int, pageSizes: PageSizeBitmap, contexts: Int = 64) {
        contextSlots = max(contexts, 1)
        epochs = .allocate(capacity: contextSlots)
        epochs.initialize(repeating: 0, count: contextSlots)
        var setCount = 1
        while setCount * Self.ways < max(capacity, Self.ways) { setCount <<= 1 }
        sets = setCount
        self.capacity = setCount * Self.ways
        var shifts: [UInt8] = []
        for bit in 0..<64 where pageSizes.rawValue & (1 << UInt64(bit)) != 0 { shifts.append(UInt8(bit)) }
        if shifts.isEmpty { shifts = [12] }
        sizeCount = shifts.count
        sizeShifts = .allocate(capacity: shifts.count)
        sizeShifts.initialize(from: shifts, count: shifts.count)
        entries = .allocate(capacity: self.capacity)
        entries.initialize(repeating: IOTLBEntry(context: 0, sizeShift: 0, permissions: 0, iova: 0, output: 0),
                           count: self.capacity)
        valid = .allocate(capacity: self.capacity)
        valid.initialize(repeating: false, count: self.capacity)
        victim = .allocate(capacity: sets)
        victim.initialize(repeating: 0, count: sets)
    }

    /// Free the storage (the owner calls this once).
    public func destroy() {
        entries.deallocate()
        valid.deallocate()
        victim.deallocate()
        sizeShifts.deallocate()
        epochs.deallocate()
    }

    @inline(__always)
    private func set(context: UInt32, page: UInt64, shift: UInt8) -> Int {
        // Mix the page number, context and size so neighbouring pages spread over the sets.
        var h = page &* 0x9E37_79B9_7F4A_7C15
        h ^= UInt64(context) &* 0xC2B2_AE3D_27D4_EB4F
        h ^= UInt64(shift) &<< 59
        return Int(truncatingIfNeeded: h >> 32) & (sets - 1)
    }

    /// The cached translation covering `iova` in `context`, or nil (a miss: the hardware walks).
    @inline(__always)
    public mutating func lookup(context: UInt32, iova: UInt64) -> IOTLBEntry? {
        counters.lookups &+= 1
        if let e = probe(context: context, iova: iova) {
            counters.hits &+= 1
            return e
        }
        counters.misses &+= 1
        return nil
    }

    @inline(__always)
    private func probe(context: UInt32, iova: UInt64) -> IOTLBEntry? {
        var i = 0
        while i < sizeCount {
            let shift = sizeShifts[i]
            let page = iova >> UInt64(shift)
            let base = set(context: context, page: page, shift: shift) &* Self.ways
            var w = 0
            while w < Self.ways {
                if valid[base &+ w] {
                    let e = entries[base &+ w]
                    if e.context == context && e.sizeShift == shift && e.iova >> UInt64(shift) == page
                        && e.epoch == epoch(context) { return e }
                }
                w &+= 1
            }
            i &+= 1
        }
        return nil
    }

    @inline(__always)
    private func epoch(_ context: UInt32) -> UInt32 {
        Int(context) < contextSlots ? epochs[Int(context)] : 0
    }

    /// Cache a walk's result, evicting round-robin within the set.
    public mutating func fill(_ entry: IOTLBEntry) {
        var entry = entry
        entry.epoch = epoch(entry.context)
        counters.fills &+= 1
        let s = set(context: entry.context, page: entry.iova >> UInt64(entry.sizeShift), shift: entry.sizeShift)
        let base = s * Self.ways
        var slot = -1
        for w in 0..<Self.ways where !valid[base + w] {
            slot = base + w
            break
        }
        if slot < 0 {
            slot = base + Int(victim[s])
            victim[s] = (victim[s] &+ 1) % UInt8(Self.ways)
            counters.evictions &+= 1
        }
        entries[slot] = entry
        valid[slot] = true
    }

    /// Invalidate everything (CMD_TLBI_NSNH_ALL, TLBIALL ...).
    public mutating func invalidateAll() {
        counters.invalidateAll &+= 1
        valid.update(repeating: false, count: capacity)
    }

    /// Invalidate one context (CMD_TLBI_NH_ASID, TLBIASID ...): a new epoch, or a scan for a context number
    /// beyond the epoch table.
    public mutating func invalidate(context: UInt32) {
        counters.invalidateContext &+= 1
        if Int(context) < contextSlots {
            epochs[Int(context)] &+= 1
            return
        }
        for i in 0..<capacity where valid[i] && entries[i].context == context { valid[i] = false }
    }

    /// Invalidate the entries of a context that overlap [iova, iova + size) (CMD_TLBI_NH_VA, TLBIVA ...).
    /// A small range probes the sets its pages hash to, for each page size; a large one scans the whole TLB.
    public mutating func invalidate(context: UInt32, iova: UInt64, size: UInt64) {
        counters.invalidateRange &+= 1
        let end = iova &+ size
        var probes = 0
        for i in 0..<sizeCount {
            let shift = UInt64(sizeShifts[i])
            probes &+= Int(truncatingIfNeeded: min(((end &- 1) >> shift) &- (iova >> shift) &+ 1, UInt64(capacity)))
        }
        guard probes < capacity / Self.ways else {
            for i in 0..<capacity where valid[i] && entries[i].context == context {
                let e = entries[i]
                let eEnd = e.iova &+ (UInt64(1) << UInt64(e.sizeShift))
                if e.iova < end && iova < eEnd { valid[i] = false }
            }
            return
        }
        for i in 0..<sizeCount {
            let shift = sizeShifts[i]
            var page = iova >> UInt64(shift)
            let last = (end &- 1) >> UInt64(shift)
            while page <= last {
                let base = set(context: context, page: page, shift: shift) &* Self.ways
                for w in 0..<Self.ways where valid[base &+ w] {
                    let e = entries[base &+ w]
                    if e.context == context && e.sizeShift == shift && e.iova >> UInt64(shift) == page { valid[base &+ w] = false }
                }
                page &+= 1
            }
        }
    }

    /// Entries currently cached, for dumps.
    public var liveEntries: [IOTLBEntry] {
        (0..<capacity).compactMap { valid[$0] && entries[$0].epoch == epoch(entries[$0].context) ? entries[$0] : nil }
    }
}
