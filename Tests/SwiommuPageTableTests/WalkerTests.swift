// The hardware walker against the driver side: random map/unmap histories where the walker, iova_to_phys
// and a model of the kernel's rules must agree after every step; the cache model for non-coherent walkers;
// fault kinds and their priority.
import Testing
import CKernel
@testable import SwiommuBase
@testable import SwiommuMemory
@testable import SwiommuPageTable

/// A format configuration for the random histories.
struct WalkConfig: Sendable, CustomTestStringConvertible {
    var fmt: io_pgtable_fmt
    var pageSizes: UInt64
    var ias: UInt32
    var oas: UInt32
    var coherent = true
    var quirks: UInt = 0
    var window: UInt64
    /// The table level of each page size (equal levels share a table), smallest size first.
    var levels: [UInt64: Int]
    var testDescription: String { "\(formatName(fmt)) \(Kernel.hex(pageSizes)) ias \(ias) \(coherent ? "coherent" : "non-coherent")" }
}

/// What the kernel's rules say a table holds.
struct Model {
    struct Mapping { var pa: UInt64; var size: UInt64; var prot: Int32 }
    var mappings: [UInt64: Mapping] = [:]
    let config: WalkConfig
    var sizes: [UInt64] { config.levels.keys.sorted() }

    func lookup(_ iova: UInt64) -> (base: UInt64, Mapping)? {
        for s in sizes {
            let base = iova & ~(s - 1)
            if let m = mappings[base], m.size == s { return (base, m) }
        }
        return nil
    }

    /// The mappings that overlap [start, start + length).
    func overlapping(_ start: UInt64, _ length: UInt64) -> [(UInt64, Mapping)] {
        mappings.filter { $0.key < start + length && start < $0.key + $0.value.size }.map { ($0.key, $0.value) }
    }

    /// Map one page: nil when the kernel refuses with -EEXIST; otherwise the mappings it replaces (smaller ones
    /// in tables where the block goes) are dropped.
    mutating func map(_ iova: UInt64, _ pa: UInt64, _ size: UInt64, _ prot: Int32) -> Bool {
        let level = config.levels[size]!
        for (_, m) in overlapping(iova, size) where config.levels[m.size]! <= level { return false }
        for (base, _) in overlapping(iova, size) { mappings[base] = nil }
        mappings[iova] = Mapping(pa: pa, size: size, prot: prot)
        return true
    }
}

@Suite(.serialized) struct WalkerTests {
    static let lpae4K: [UInt64: Int] = [SZ_4K: 3, SZ_2M: 2, SZ_1G: 1]
    static let configs: [WalkConfig] = [
        WalkConfig(fmt: ARM_64_LPAE_S1, pageSizes: SZ_4K | SZ_2M | SZ_1G, ias: 48, oas: 48, quirks: PageTableQuirk.noWarn,
                   window: 4 * SZ_1G, levels: lpae4K),
        WalkConfig(fmt: ARM_64_LPAE_S1, pageSizes: SZ_16K | SZ_32M, ias: 36, oas: 40, coherent: false,
                   quirks: PageTableQuirk.noWarn, window: 4 * SZ_32M, levels: [SZ_16K: 3, SZ_32M: 2]),
        WalkConfig(fmt: ARM_64_LPAE_S1, pageSizes: SZ_64K | SZ_512M, ias: 48, oas: 48, quirks: PageTableQuirk.noWarn,
                   window: 4 * SZ_512M, levels: [SZ_64K: 3, SZ_512M: 2]),
        WalkConfig(fmt: ARM_64_LPAE_S2, pageSizes: SZ_4K | SZ_2M | SZ_1G, ias: 40, oas: 40, quirks: PageTableQuirk.noWarn,
                   window: 4 * SZ_1G, levels: lpae4K),
        WalkConfig(fmt: ARM_64_LPAE_S2, pageSizes: SZ_16K | SZ_32M, ias: 48, oas: 48, quirks: PageTableQuirk.noWarn,
                   window: 4 * SZ_32M, levels: [SZ_16K: 3, SZ_32M: 2]),
        WalkConfig(fmt: ARM_32_LPAE_S1, pageSizes: SZ_4K | SZ_2M | SZ_1G, ias: 32, oas: 40, coherent: false,
                   quirks: PageTableQuirk.noWarn, window: 4 * SZ_1G, levels: lpae4K),
        WalkConfig(fmt: ARM_MALI_LPAE, pageSizes: SZ_4K | SZ_2M | SZ_1G, ias: 40, oas: 40, window: 4 * SZ_1G, levels: lpae4K),
        WalkConfig(fmt: ARM_V7S, pageSizes: SZ_4K | SZ_64K | SZ_1M | SZ_16M, ias: 32, oas: 32, window: 4 * SZ_16M,
                   levels: [SZ_4K: 2, SZ_64K: 2, SZ_1M: 1, SZ_16M: 1]),
        WalkConfig(fmt: ARM_V7S, pageSizes: SZ_4K | SZ_64K | SZ_1M | SZ_16M, ias: 32, oas: 32, coherent: false,
                   window: 4 * SZ_16M, levels: [SZ_4K: 2, SZ_64K: 2, SZ_1M: 1, SZ_16M: 1]),
        WalkConfig(fmt: APPLE_DART, pageSizes: SZ_16K, ias: 36, oas: 36, window: 64 * SZ_1M, levels: [SZ_16K: 2]),
        WalkConfig(fmt: APPLE_DART, pageSizes: SZ_4K, ias: 32, oas: 36, window: 1 << 32, levels: [SZ_4K: 2]),
        WalkConfig(fmt: APPLE_DART2, pageSizes: SZ_16K, ias: 38, oas: 42, window: 1 << 38, levels: [SZ_16K: 2]),
        WalkConfig(fmt: APPLE_DART2, pageSizes: SZ_16K, ias: 32, oas: 42, window: 32 * SZ_1M, levels: [SZ_16K: 2]),
    ]

    @Test(arguments: configs)
    func walkerAndIovaToPhysAgreeOverRandomHistories(_ config: WalkConfig) throws {
        let memory = try makeMemory()
        let t = try #require(makeTable(config.fmt, pageSizes: config.pageSizes, ias: config.ias, oas: config.oas,
                                       coherent: config.coherent, quirks: config.quirks, tlb: nil, memory: memory))
        defer { t.close() }
        let walker = try #require(t.walker())
        var model = Model(config: config)
        var rng = Rng(0x5eed ^ UInt64(config.fmt.rawValue) ^ config.pageSizes ^ UInt64(config.ias))
        let sizes = model.sizes
        let protChoices: [Int32] = [R | W, R, W, R | W | CACHE, R | W | NOEXEC, R | W | MMIO]

        func check(_ iova: UInt64, _ step: Int) {
            let expected = model.lookup(iova)
            let phys = t.phys(iova)
            let walk = walker.translate(iova, access: [])
            if let (base, m) = expected {
                #expect(phys == m.pa + (iova - base), "step \(step): iova_to_phys(\(Kernel.hex(iova)))")
                if case .success(let w) = walk {
                    #expect(w.phys == phys && w.size == m.size, "step \(step): walk of \(Kernel.hex(iova))")
                    // Stage 1 and v7s cannot express write-only: AP grants read with any access.
                    let readAlways = config.fmt == ARM_64_LPAE_S1 || config.fmt == ARM_32_LPAE_S1 || config.fmt == ARM_V7S
                    #expect(w.prot.contains(.read) == (readAlways || m.prot & R != 0) && w.prot.contains(.write) == (m.prot & W != 0),
                            "step \(step): permissions of \(Kernel.hex(iova)): \(w.prot) for prot \(m.prot)")
                } else {
                    Issue.record("step \(step): the walker faults at mapped \(Kernel.hex(iova)): \(walk)")
                }
            } else {
                #expect(phys == 0, "step \(step): iova_to_phys(\(Kernel.hex(iova))) of nothing")
                if case .failure(let f) = walk { #expect(f.kind == .translation) } else {
                    Issue.record("step \(step): the walker translates unmapped \(Kernel.hex(iova))")
                }
            }
        }

        for step in 0..<300 {
            let roll = rng.below(10)
            if roll < 6 {
                // Map: a random size, an aligned IOVA in the window, a batch of the smallest size at times.
                let size = sizes[Int(rng.below(UInt64(sizes.count)))]
                let iova = rng.below(config.window / size) * size
                let pa = (rng.below(1 << 20) * size) & ((1 << UInt64(min(config.oas, 40))) - 1) & ~(size - 1)
                let prot = protChoices[Int(rng.below(UInt64(protChoices.count)))]
                var count = 1
                if size == sizes[0] && rng.below(3) == 0 { count = Int(rng.below(16)) + 1 }
                // LPAE and DART map one batch up to the end of the table; v7s maps page by page.
                if config.fmt != ARM_V7S {
                    let span = config.fmt == APPLE_DART || config.fmt == APPLE_DART2
                        ? size << UInt64(size.trailingZeroBitCount - 3) : size << UInt64(sizes[0].trailingZeroBitCount - 3)
                    count = min(count, Int((span - iova % span) / size))
                }
                count = min(count, Int((config.window - iova) / size))
                var mapped = 0
                let r = t.map(iova, pa, size, count: count, prot: prot, mapped: &mapped)
                var expectMapped = 0
                var expectError: Int32 = 0
                if config.fmt == ARM_V7S {
                    for i in 0..<count {
                        guard model.map(iova + UInt64(i) * size, pa + UInt64(i) * size, size, prot) else {
                            expectError = -Errno.exists.rawValue
                            break
                        }
                        expectMapped += Int(size)
                    }
                } else {
                    // All or nothing.
                    var trial = model
                    var ok = true
                    for i in 0..<count where ok { ok = trial.map(iova + UInt64(i) * size, pa + UInt64(i) * size, size, prot) }
                    if ok {
                        model = trial
                        expectMapped = count * Int(size)
                    } else {
                        expectError = -Errno.exists.rawValue
                    }
                }
                #expect(r == expectError && mapped == expectMapped,
                        "step \(step): map \(count) x \(Kernel.hex(size)) at \(Kernel.hex(iova)): \(r), \(mapped)")
            } else if roll < 9, !model.mappings.isEmpty {
                // Unmap a mapping exactly.
                let keys = Array(model.mappings.keys)
                let iova = keys[Int(rng.below(UInt64(keys.count)))]
                let m = model.mappings[iova]!
                #expect(t.unmap(iova, m.size) == m.size, "step \(step): unmap \(Kernel.hex(m.size)) at \(Kernel.hex(iova))")
                model.mappings[iova] = nil
            } else {
                // Unmap smallest pages at a random place: what is there, up to the first hole.
                let size = sizes[0]
                let iova = rng.below(config.window / size) * size
                var count = Int(rng.below(4)) + 1
                if config.fmt != ARM_V7S {
                    let span = size << UInt64(size.trailingZeroBitCount - 3)
                    count = min(count, Int((span - iova % span) / size))
                }
                var expect = 0
                while expect < count, let m = model.mappings[iova + UInt64(expect) * size], m.size == size { expect += 1 }
                #expect(t.unmap(iova, size, count: count) == UInt64(expect) * size, "step \(step): unmap at \(Kernel.hex(iova))")
                for i in 0..<expect { model.mappings[iova + UInt64(i) * size] = nil }
            }
            // Probe mapped pages and random addresses.
            let keys = Array(model.mappings.keys)
            for _ in 0..<6 where !keys.isEmpty {
                let base = keys[Int(rng.below(UInt64(keys.count)))]
                check(base + rng.below(model.mappings[base]!.size), step)
            }
            for _ in 0..<6 { check(rng.below(config.window), step) }
        }
        // Everything the model holds is what the table holds, and freeing returns every page.
        for (iova, m) in model.mappings { #expect(t.phys(iova) == m.pa) }
    }

    @Test func nonCoherentWalkerSeesOnlyWhatWasCleaned() throws {
        let memory = try makeMemory()
        let t = try #require(makeTable(ARM_64_LPAE_S1, pageSizes: SZ_4K | SZ_2M, ias: 32, oas: 40, coherent: false,
                                       memory: memory))
        defer { t.close() }
        let maintenanceBefore = memory.cacheMaintenanceCount
        let syncsBefore = t.table.statistics.syncs
        #expect(t.map(0x1000, 0x5000, SZ_4K, prot: R | W) == 0)
        // New tables are cleaned when mapped for the device (dma_map_single), entries after every write.
        #expect(t.table.statistics.syncs > syncsBefore)
        #expect(memory.cacheMaintenanceCount - maintenanceBefore == t.table.statistics.syncs - syncsBefore)
        if case .success(let w) = t.translate(0x1000) { #expect(w.phys == 0x5000) } else { Issue.record("cleaned walk") }

        // A driver that writes a descriptor behind io-pgtable's back without cleaning: the CPU sees the new
        // entry, the non-coherent walker still reads the old one from memory, until the line is cleaned.
        let ttbr = t.cfg.pointee.arm_lpae_s1_cfg.ttbr
        let l3 = address(entry64(memory, address(entry64(memory, ttbr, 0)), 0))
        let leaf = memory.physical.virtualAddress(of: PhysicalAddress(l3))!.assumingMemoryBound(to: UInt64.self) + 1
        let old = leaf.pointee
        leaf.pointee = (old & ~0x0000_ffff_ffff_f000) | 0x9000
        #expect(t.phys(0x1000) == 0x9000, "the CPU's view")
        if case .success(let w) = t.translate(0x1000) { #expect(w.phys == 0x5000, "memory's view: stale") } else { Issue.record("stale walk") }
        memory.maintainCache(.clean, PhysicalAddress(l3 + 8), size: 8)
        if case .success(let w) = t.translate(0x1000) { #expect(w.phys == 0x9000, "after the clean") } else { Issue.record("walk") }
        // Clearing it without a clean: the walker still translates through the stale entry.
        leaf.pointee = 0
        if case .success = t.translate(0x1000) {} else { Issue.record("the walker saw an uncleaned clear") }
        memory.maintainCache(.clean, PhysicalAddress(l3 + 8), size: 8)
        if case .failure(let f) = t.translate(0x1000) { #expect(f.kind == .translation && f.level == 3) } else { Issue.record("cleared") }
        // A coherent walker on the same tables would have seen every write at once.
        let coherent = PageTableWalker(format: ARM_64_LPAE_S1, config: t.cfg, memory: memory)!
        #expect(coherent.coherent == false, "the registers say non-cacheable: the walk reads memory")
    }

    @Test func faultKindsAndPriority() throws {
        let memory = try makeMemory()
        let t = try #require(makeTable(ARM_64_LPAE_S1, pageSizes: SZ_4K | SZ_2M, ias: 39, oas: 40, memory: memory))
        defer { t.close() }
        #expect(t.map(0x1000, 0x5000, SZ_4K, prot: R | NOEXEC) == 0)
        // Outside ias: a translation fault at level 0.
        if case .failure(let f) = t.translate(1 << 39) { #expect(f.kind == .translation && f.level == 0) } else { Issue.record("ias") }
        // Nothing mapped: a translation fault at the level of the first invalid descriptor.
        if case .failure(let f) = t.translate(0x4000_0000) { #expect(f.kind == .translation && f.level == 1) } else { Issue.record("L1") }
        if case .failure(let f) = t.translate(0x2000) { #expect(f.kind == .translation && f.level == 3) } else { Issue.record("L3") }
        // Permissions: write to read-only, instruction fetch from XN.
        if case .failure(let f) = t.translate(0x1000, .write) { #expect(f.kind == .permission && f.level == 3) } else { Issue.record("W") }
        if case .failure(let f) = t.translate(0x1000, .exec) { #expect(f.kind == .permission) } else { Issue.record("X") }
        let ttbr = t.cfg.pointee.arm_lpae_s1_cfg.ttbr
        let l3 = address(entry64(memory, address(entry64(memory, ttbr, 0)), 0))
        let leaf = memory.physical.virtualAddress(of: PhysicalAddress(l3))!.assumingMemoryBound(to: UInt64.self) + 1
        let good = leaf.pointee
        // Access flag clear: an access flag fault, before the permission check.
        leaf.pointee = good & ~(1 << 10)
        if case .failure(let f) = t.translate(0x1000, .write) { #expect(f.kind == .accessFlag && f.level == 3) } else { Issue.record("AF") }
        // An output address beyond oas: an address size fault, before the access flag.
        leaf.pointee = (good & ~(1 << 10)) | (1 << 44)
        if case .failure(let f) = t.translate(0x1000) { #expect(f.kind == .addressSize && f.level == 3) } else { Issue.record("OA") }
        // A reserved descriptor type (0b01 at level 3): a translation fault.
        leaf.pointee = (good & ~3) | 1
        if case .failure(let f) = t.translate(0x1000) { #expect(f.kind == .translation && f.level == 3) } else { Issue.record("type") }
        // A table address outside RAM but inside oas: an external abort on the walk.
        let l2 = address(entry64(memory, ttbr, 0))
        let l2e = memory.physical.virtualAddress(of: PhysicalAddress(l2))!.assumingMemoryBound(to: UInt64.self)
        let table = l2e.pointee
        l2e.pointee = 0x10_0000_0000 | 3
        if case .failure(let f) = t.translate(0x1000) { #expect(f.kind == .external && f.level == 3) } else { Issue.record("external") }
        // A table address beyond oas: an address size fault at the level of the table descriptor.
        l2e.pointee = (1 << 41) | 3
        if case .failure(let f) = t.translate(0x1000) { #expect(f.kind == .addressSize && f.level == 2) } else { Issue.record("table OA") }
        // io-pgtable never reads through such an entry into non-RAM: iova_to_phys returns 0.
        #expect(t.phys(0x1000) == 0)
        l2e.pointee = table
        leaf.pointee = good
        if case .success = t.translate(0x1000) {} else { Issue.record("restored") }
        // Hierarchical APTable[1] (read-only below) in the level-1 descriptor: writes fault even to RW pages.
        #expect(t.map(0x3000, 0x6000, SZ_4K, prot: R | W) == 0)
        let top = memory.physical.virtualAddress(of: PhysicalAddress(ttbr))!.assumingMemoryBound(to: UInt64.self)
        top.pointee |= 1 << 62
        if case .failure(let f) = t.translate(0x3000, .write) { #expect(f.kind == .permission) } else { Issue.record("APTable") }
        top.pointee &= ~(1 << 62)
        if case .success = t.translate(0x3000, .write) {} else { Issue.record("APTable cleared") }
    }

    @Test func memoizedTranslationFollowsEveryRegisterChange() throws {
        let memory = try makeMemory()
        let a = try #require(makeTable(ARM_64_LPAE_S1, pageSizes: SZ_4K, ias: 48, oas: 48, memory: memory))
        let b = try #require(makeTable(ARM_64_LPAE_S1, pageSizes: SZ_4K, ias: 48, oas: 48, memory: memory))
        defer { a.close(); b.close() }
        #expect(a.map(0x1000, 0xa000, SZ_4K) == 0)
        #expect(b.map(0x1000, 0xb000, SZ_4K, prot: R) == 0)
        var cfg = a.cfg.pointee
        var out = swiommu_pgtable_translation()
        func walk(_ access: UInt32 = 0) -> Int32 {
            PageTableWalker.translateMemoized(format: ARM_64_LPAE_S1, config: &cfg, memory: memory, iova: 0x1000, access: access, into: &out)
        }
        #expect(walk() == 0 && out.phys == 0xa000)
        #expect(walk() == 0 && out.phys == 0xa000, "from the memo")
        // Another table base in the same cfg.
        cfg.arm_lpae_s1_cfg.ttbr = b.cfg.pointee.arm_lpae_s1_cfg.ttbr
        #expect(walk() == 0 && out.phys == 0xb000)
        #expect(walk(2) == -Errno.fault.rawValue && out.fault.type == SWIOMMU_PGTABLE_FAULT_PERMISSION)
        // A reserved granule encoding, then back.
        cfg.arm_lpae_s1_cfg.tcr.tg = 3
        #expect(walk() == -Errno.invalid.rawValue)
        cfg.arm_lpae_s1_cfg.tcr.tg = 0
        #expect(walk() == 0 && out.phys == 0xb000)
        // A smaller input size puts 0x1000 on another level-0 path: a different walk.
        cfg.arm_lpae_s1_cfg.tcr.tsz = 64 - 39
        #expect(walk() == -Errno.fault.rawValue)
        // The upper range (a quirk the walker decodes), the format, the memory.
        cfg = b.cfg.pointee
        #expect(walk() == 0 && out.phys == 0xb000)
        cfg.quirks = PageTableQuirk.armTTBR1
        #expect(walk() == -Errno.invalid.rawValue, "TG0's 4K encoding is reserved in TG1")
        cfg.arm_lpae_s1_cfg.tcr.tg = 2
        #expect(walk() == -Errno.fault.rawValue && out.fault.type == SWIOMMU_PGTABLE_FAULT_TRANSLATION, "a lower-half address")
        cfg = b.cfg.pointee
        #expect(PageTableWalker.translateMemoized(format: ARM_64_LPAE_S2, config: &cfg, memory: memory, iova: 0x1000, access: 0,
                                                  into: &out) != 0 || out.phys != 0xb000, "stage 2 reads VTTBR/VTCR bits")
        let other = try makeMemory()
        #expect(PageTableWalker.translateMemoized(format: ARM_64_LPAE_S1, config: &cfg, memory: other, iova: 0x1000, access: 0,
                                                  into: &out) == -Errno.fault.rawValue, "another machine's RAM")
    }

    @Test func walkerRejectsRegistersThatDescribeNoTable() throws {
        let memory = try makeMemory()
        let t = try #require(makeTable(ARM_64_LPAE_S1, pageSizes: SZ_4K, ias: 48, oas: 48, memory: memory))
        defer { t.close() }
        var cfg = t.cfg.pointee
        cfg.arm_lpae_s1_cfg.tcr.tg = 3 // reserved TG0 encoding
        #expect(withUnsafePointer(to: &cfg) { PageTableWalker(format: ARM_64_LPAE_S1, config: $0, memory: memory) } == nil)
        cfg = t.cfg.pointee
        cfg.arm_lpae_s1_cfg.tcr.ips = 7 // reserved PS encoding
        #expect(withUnsafePointer(to: &cfg) { PageTableWalker(format: ARM_64_LPAE_S1, config: $0, memory: memory) } == nil)
        #expect(withUnsafePointer(to: &cfg) { PageTableWalker(format: AMD_IOMMU_V1, config: $0, memory: memory) } == nil)
        // The C result structure is filled for a fault too.
        var out = swiommu_pgtable_translation()
        #expect(PageTableWalker.translate(format: ARM_64_LPAE_S1, config: t.cfg, memory: memory, iova: 0x1000, access: 2,
                                          into: &out) == -Errno.fault.rawValue)
        #expect(out.fault.type == SWIOMMU_PGTABLE_FAULT_TRANSLATION && out.fault.level == 0 && out.fault.iova == 0x1000)
        #expect(out.fault.access == 2)
        #expect(t.map(0x1000, 0x7000, SZ_4K, prot: R | W) == 0)
        #expect(PageTableWalker.translate(format: ARM_64_LPAE_S1, config: t.cfg, memory: memory, iova: 0x1234, access: 3,
                                          into: &out) == 0)
        #expect(out.phys == 0x7234 && out.size == 0x1000 && out.level == 3 && out.fault.type == SWIOMMU_PGTABLE_FAULT_NONE)
        #expect(out.prot == UInt32(R | W))
    }
}
