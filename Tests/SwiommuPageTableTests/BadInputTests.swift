// Bad input: every error path returns the kernel's errno (or 0 bytes), records a WARN where Linux WARNs, never
// crashes, and never leaves a table half-updated; configurations the formats cannot provide are refused before
// any work; memory is accounted and nothing leaks.
import Testing
import CKernel
@testable import SwiommuBase
@testable import SwiommuMemory
@testable import SwiommuPageTable

@Suite(.serialized) struct BadInputTests {
    /// One table of every family, 4K-based where the format allows.
    static func tables(_ memory: SimulatedMemory) -> [TestTable] {
        [makeTable(ARM_64_LPAE_S1, pageSizes: SZ_4K | SZ_2M | SZ_1G, ias: 32, oas: 36, memory: memory)!,
         makeTable(ARM_64_LPAE_S2, pageSizes: SZ_4K | SZ_2M | SZ_1G, ias: 32, oas: 36, memory: memory)!,
         makeTable(ARM_V7S, pageSizes: SZ_4K | SZ_64K | SZ_1M | SZ_16M, ias: 32, oas: 32, memory: memory)!,
         makeTable(APPLE_DART, pageSizes: SZ_4K, ias: 32, oas: 36, memory: memory)!]
    }

    @Test func mapErrorsAreErrnosWithWarnings() throws {
        let memory = try makeMemory()
        for t in Self.tables(memory) {
            defer { t.close() }
            let name = formatName(t.fmt)
            // Unsupported page sizes: not in the bitmap, two sizes at once, zero.
            expectWarns(1) { #expect(t.map(0, 0, 0x2000) == -Errno.invalid.rawValue, "\(name)") }
            if t.fmt != APPLE_DART {
                expectWarns(1) { #expect(t.map(0, 0, SZ_4K | SZ_2M) == -Errno.invalid.rawValue, "\(name)") }
            }
            expectWarns(1) { #expect(t.map(0, 0, 0) == -Errno.invalid.rawValue, "\(name)") }
            // Unaligned iova or paddr.
            expectWarns(1) { #expect(t.map(0x800, 0, SZ_4K) == -Errno.invalid.rawValue, "\(name)") }
            expectWarns(1) { #expect(t.map(0, 0x800, SZ_4K) == -Errno.invalid.rawValue, "\(name)") }
            // Out of range: iova beyond ias, paddr beyond oas.
            expectWarns(1) { #expect(t.map(1 << 32, 0, SZ_4K) == -Errno.range.rawValue, "\(name)") }
            expectWarns(1) { #expect(t.map(0, 1 << 40, SZ_4K) == -Errno.range.rawValue, "\(name)") }
            // No permission at all: -EINVAL without a WARN (Linux 6.11+).
            expectWarns(0) { #expect(t.map(0, 0, SZ_4K, prot: CACHE) == -Errno.invalid.rawValue, "\(name)") }
            // Over a live mapping: -EEXIST with a WARN; the old mapping stays.
            #expect(t.map(0x1000, 0x5000, SZ_4K) == 0)
            expectWarns(1) { #expect(t.map(0x1000, 0x6000, SZ_4K) == -Errno.exists.rawValue, "\(name)") }
            #expect(t.phys(0x1000) == 0x5000)
            // Nothing of it changed the tables.
            #expect(t.phys(0) == 0 && t.phys(0x800) == 0)
        }
        #expect(memory.statistics.pageBlocks == 0 && memory.statistics.kmallocObjects == 0)
    }

    @Test func noWarnQuirkSilencesConflicts() throws {
        let memory = try makeMemory()
        let t = try #require(makeTable(ARM_64_LPAE_S1, pageSizes: SZ_4K, ias: 32, oas: 36, quirks: PageTableQuirk.noWarn,
                                       memory: memory))
        defer { t.close() }
        #expect(t.map(0x1000, 0x5000, SZ_4K) == 0)
        expectWarns(0) { #expect(t.map(0x1000, 0x6000, SZ_4K) == -Errno.exists.rawValue) }
        expectWarns(0) { #expect(t.unmap(0x9000, SZ_4K) == 0) }
    }

    @Test func unmapErrorsReturnZeroBytes() throws {
        let memory = try makeMemory()
        for t in Self.tables(memory) {
            defer { t.close() }
            let name = formatName(t.fmt)
            // Nothing mapped there.
            expectWarns(1) { #expect(t.unmap(0x7000, SZ_4K) == 0, "\(name)") }
            #expect(t.map(0x1000, 0x5000, SZ_4K) == 0)
            // Bad sizes, a zero count, out of range, unaligned.
            expectWarns(1) { #expect(t.unmap(0x1000, 0x2000) == 0, "\(name)") }
            let zero = warns { #expect(t.unmap(0x1000, SZ_4K, count: 0) == 0, "\(name)") }
            #expect(zero == (t.fmt == ARM_V7S ? 0 : 1), "\(name): Linux's v7s loops zero times without a WARN")
            expectWarns(1) { #expect(t.unmap(1 << 33, SZ_4K) == 0, "\(name)") }
            expectWarns(1) { #expect(t.unmap(0x1800, SZ_4K) == 0, "\(name)") }
            #expect(t.phys(0x1000) == 0x5000, "\(name): still mapped")
            #expect(t.unmap(0x1000, SZ_4K) == SZ_4K)
        }
    }

    @Test func partialUnmapOfABlockIsRefusedOncePerBoot() throws {
        let memory = try makeMemory()
        Kernel.newBoot()
        for t in Self.tables(memory) where t.fmt != APPLE_DART {
            defer { t.close() }
            let block = t.fmt == ARM_V7S ? SZ_1M : SZ_2M
            #expect(t.map(block, block, block) == 0)
            let first = warns { #expect(t.unmap(block + SZ_4K, SZ_4K) == 0) }
            let second = warns { #expect(t.unmap(block + 2 * SZ_4K, SZ_4K) == 0) }
            #expect(second == 0, "WARN_ONCE")
            if first == 1 { #expect(lastWarn().contains("Unmap of a partial large IOPTE is not allowed")) }
            #expect(t.phys(block + SZ_4K) == block + SZ_4K, "the block is intact")
            if t.fmt == ARM_V7S {
                // A large page (16 contiguous entries) and a supersection too.
                #expect(t.map(0x20_0000, 0x20_0000, SZ_64K) == 0)
                #expect(t.unmap(0x20_1000, SZ_4K) == 0)
                #expect(t.map(SZ_16M, SZ_16M, SZ_16M) == 0)
                #expect(t.unmap(SZ_16M + SZ_1M, SZ_1M) == 0)
                #expect(t.phys(SZ_16M + SZ_1M) == SZ_16M + SZ_1M)
            }
        }
    }

    @Test func freeingTwiceOrAStrayPointerIsRefused() throws {
        let memory = try makeMemory()
        let t = try #require(makeTable(ARM_64_LPAE_S1, pageSizes: SZ_4K, ias: 32, oas: 36, memory: memory))
        #expect(t.map(0x1000, 0x1000, SZ_4K) == 0)
        let ops = t.ops
        flushes = FlushRecord()
        #expect(IOPageTable.free(ops))
        #expect(flushes.all == 1, "free_io_pgtable_ops flushes the TLB through the driver's ops")
        expectWarns(1) { #expect(IOPageTable.free(ops) == false) }
        #expect(lastWarn().contains("not a live io_pgtable_ops"))
        var stray = io_pgtable_ops()
        expectWarns(1) { #expect(IOPageTable.free(&stray) == false) }
        #expect(IOPageTable(ops: ops) == nil)
        t.cfg.deallocate()
        #expect(memory.statistics.pageBlocks == 0 && memory.statistics.kmallocObjects == 0)
    }

    @Test func configurationsTheFormatsCannotProvideAreRefused() throws {
        let memory = try makeMemory()
        func refused(_ fmt: io_pgtable_fmt, _ sizes: UInt64, _ ias: UInt32, _ oas: UInt32, quirks: UInt = 0,
                     coherent: Bool = true, configure: (inout io_pgtable_cfg) -> Void = { _ in }) -> Bool {
            guard let t = makeTable(fmt, pageSizes: sizes, ias: ias, oas: oas, coherent: coherent, quirks: quirks,
                                    memory: memory, configure: configure) else { return true }
            t.close()
            return false
        }
        let lpae = SZ_4K | SZ_2M | SZ_1G
        // Quirks a format does not know, checked before any work.
        #expect(refused(ARM_64_LPAE_S1, lpae, 48, 48, quirks: PageTableQuirk.noPerms))
        #expect(refused(ARM_64_LPAE_S1, lpae, 48, 48, quirks: PageTableQuirk.armS2FWB))
        #expect(refused(ARM_64_LPAE_S2, lpae, 48, 48, quirks: PageTableQuirk.armNS))
        #expect(refused(ARM_64_LPAE_S2, lpae, 48, 48, quirks: PageTableQuirk.armTTBR1))
        #expect(refused(ARM_MALI_LPAE, lpae, 48, 40, quirks: PageTableQuirk.noWarn))
        #expect(refused(ARM_V7S, SZ_4K, 32, 32, quirks: PageTableQuirk.armTTBR1))
        #expect(refused(APPLE_DART, SZ_16K, 32, 36, quirks: PageTableQuirk.noWarn))
        #expect(refused(ARM_64_LPAE_S1, lpae, 48, 48, quirks: 1 << 20))
        // Sizes the format cannot provide.
        #expect(refused(ARM_64_LPAE_S1, 0x2000, 48, 48))
        #expect(refused(ARM_64_LPAE_S1, lpae, 48, 41), "an output size with no IPS encoding")
        #expect(refused(ARM_64_LPAE_S1, lpae, 12, 48), "no IOVA bits above the granule")
        #expect(refused(ARM_32_LPAE_S1, lpae, 33, 40))
        #expect(refused(ARM_32_LPAE_S1, lpae, 32, 41))
        #expect(refused(ARM_32_LPAE_S2, lpae, 41, 40))
        #expect(refused(ARM_MALI_LPAE, lpae, 49, 40))
        #expect(refused(ARM_V7S, SZ_4K, 33, 32))
        #expect(refused(ARM_V7S, SZ_4K, 32, 33))
        #expect(refused(APPLE_DART, SZ_16K, 32, 40), "DART output sizes are 36 and 42 bits")
        #expect(refused(APPLE_DART, SZ_16K, 40, 36), "ias > oas")
        #expect(refused(APPLE_DART, SZ_16K | SZ_4K, 32, 36), "exactly one page size")
        #expect(refused(APPLE_DART, SZ_4K, 36, 36), "more than four TTBRs")
        #expect(refused(APPLE_DART, SZ_16K, 32, 36, coherent: false), "DART walks are coherent")
        // Formats that are not modelled, or do not exist.
        #expect(refused(AMD_IOMMU_V1, lpae, 48, 48))
        #expect(refused(io_pgtable_fmt(rawValue: 99), lpae, 48, 48))
        // A custom allocator needs both hooks, and a format that accepts one.
        let allocHook: @convention(c) (UnsafeMutableRawPointer?, Int, gfp_t) -> UnsafeMutableRawPointer? = { _, _, _ in nil }
        #expect(refused(ARM_64_LPAE_S1, lpae, 48, 48) { $0.alloc = allocHook })
        #expect(refused(ARM_V7S, SZ_4K, 32, 32) { $0.alloc = allocHook; $0.free = { _, _, _ in } })
        // The cfg comes back narrowed.
        let t = try #require(makeTable(ARM_64_LPAE_S1, pageSizes: lpae | SZ_16K | SZ_64K | 0x2000, ias: 52, oas: 52, memory: memory))
        #expect(UInt64(t.cfg.pointee.pgsize_bitmap) == lpae && t.cfg.pointee.ias == 48 && t.cfg.pointee.oas == 48)
        #expect(t.table.config.pgsize_bitmap == t.cfg.pointee.pgsize_bitmap, "iop->cfg is the narrowed copy")
        t.close()
        #expect(memory.statistics.pageBlocks == 0 && memory.statistics.kmallocObjects == 0, "refusals leak nothing")
    }

    @Test func allocationFailuresLeaveTablesUnchanged() throws {
        let memory = try makeMemory()
        let t = try #require(makeTable(ARM_64_LPAE_S1, pageSizes: SZ_4K | SZ_2M, ias: 48, oas: 48, memory: memory))
        defer { t.close() }
        #expect(t.map(0x1000, 0x1000, SZ_4K) == 0)
        let before = t.table.dump()
        // The next table page cannot be allocated: -ENOMEM, and no entry points at a missing table.
        FaultInjection.failNth(.allocPages, 1)
        #expect(t.map(0x80_0000_0000, 0x2000, SZ_4K) == -Errno.noMemory.rawValue)
        #expect(t.table.dump() == before)
        #expect(t.phys(0x80_0000_0000) == 0)
        if case .failure(let f) = t.translate(0x80_0000_0000) { #expect(f.kind == .translation && f.level == 0) } else { Issue.record("walk") }
        // A failure further down (level 2 of 3 new tables) leaves the tables it installed, empty, as Linux does.
        FaultInjection.failNth(.allocPages, 2)
        #expect(t.map(0x80_0000_0000, 0x2000, SZ_4K) == -Errno.noMemory.rawValue)
        #expect(t.phys(0x80_0000_0000) == 0)
        #expect(t.map(0x80_0000_0000, 0x2000, SZ_4K) == 0)
        #expect(t.phys(0x80_0000_0000) == 0x2000)
        FaultInjection.reset()

        // At allocation: no table, nothing leaked.
        FaultInjection.failNth(.allocPages, 1)
        #expect(makeTable(ARM_64_LPAE_S1, pageSizes: SZ_4K, ias: 48, oas: 48, memory: memory) == nil)
        FaultInjection.failNth(.kmalloc, 1)
        #expect(makeTable(ARM_64_LPAE_S1, pageSizes: SZ_4K, ias: 48, oas: 48, memory: memory) == nil)
        FaultInjection.reset()
        #expect(memory.statistics.kmallocObjects == 1, "only the live table's state")
    }

    @Test func aRefusedBatchWritesNothing() throws {
        let memory = try makeMemory()
        let t = try #require(makeTable(ARM_64_LPAE_S1, pageSizes: SZ_4K | SZ_2M, ias: 48, oas: 48,
                                       quirks: PageTableQuirk.noWarn, memory: memory))
        defer { t.close() }
        #expect(t.map(0x3000, 0x9000, SZ_4K) == 0)
        var mapped = 0
        // Four pages from 0x1000: the third is live, so none is written (Linux checks before writing too).
        #expect(t.map(0x1000, 0x1_0000, SZ_4K, count: 4, mapped: &mapped) == -Errno.exists.rawValue)
        #expect(mapped == 0 && t.phys(0x1000) == 0 && t.phys(0x2000) == 0 && t.phys(0x4000) == 0)
        // v7s maps page by page: the pages before the conflict stay mapped, and *mapped says how many.
        let v = try #require(makeTable(ARM_V7S, pageSizes: SZ_4K, ias: 32, oas: 32, memory: memory))
        defer { v.close() }
        #expect(v.map(0x3000, 0x9000, SZ_4K) == 0)
        mapped = 0
        #expect(v.map(0x1000, 0x1_0000, SZ_4K, count: 4, mapped: &mapped) == -Errno.exists.rawValue)
        #expect(mapped == 0x2000 && v.phys(0x1000) == 0x1_0000 && v.phys(0x2000) == 0x1_1000 && v.phys(0x3000) == 0x9000)
    }

    @Test func blocksReplaceTablesAndFlushTheWalkCache() throws {
        let memory = try makeMemory()
        let t = try #require(makeTable(ARM_64_LPAE_S1, pageSizes: SZ_4K | SZ_2M | SZ_1G, ias: 48, oas: 48, memory: memory))
        defer { t.close() }
        flushes = FlushRecord()
        flushes.expectedCookie = t.cookie
        #expect(t.map(0x20_1000, 0x1000, SZ_4K) == 0)
        let tables = t.table.statistics.tables
        // A 2M block where a level-3 table is: Linux unmaps and frees the table (with what it maps), flushing walks.
        #expect(t.map(0x20_0000, 0x4000_0000, SZ_2M) == 0)
        #expect(t.table.statistics.tables == tables - 1)
        #expect(flushes.walks.count == 1 && flushes.walks[0].iova == 0x20_0000 && flushes.walks[0].size == Int(SZ_2M))
        #expect(flushes.walks[0].granule == Int(SZ_4K))
        #expect(t.phys(0x20_1000) == 0x4000_1000)
        // The freed table is gone from every shortcut too: a page inside the block is refused, not written to it.
        #expect(t.map(0x20_2000, 0x2000, SZ_4K) == -Errno.exists.rawValue)
        #expect(t.unmap(0x20_0000, SZ_2M) == SZ_2M)
        #expect(t.map(0x20_2000, 0x2000, SZ_4K) == 0 && t.phys(0x20_2000) == 0x2000)
        #expect(t.unmap(0x20_2000, SZ_4K) == SZ_4K)
        // Unmapping a range whose entry is a table unmaps everything below it, with a walk flush.
        #expect(t.map(0x40_0000, 0x40_0000, SZ_4K) == 0)
        #expect(t.unmap(0, SZ_1G) == SZ_1G)
        #expect(flushes.walks.count == 2 && flushes.bad == 0)
        #expect(t.phys(0x20_1000) == 0 && t.phys(0x40_0000) == 0)
        #expect(t.table.statistics.tables == tables - 2, "the level-2 table and the level-3 tables below it")
    }

    @Test func gathersDecideThePerPageInvalidation() throws {
        let memory = try makeMemory()
        let gather = UnsafeMutablePointer<iommu_iotlb_gather>.allocate(capacity: 1)
        gather.initialize(to: iommu_iotlb_gather())
        defer { gather.deallocate() }
        for t in Self.tables(memory) {
            defer { t.close() }
            let name = formatName(t.fmt)
            #expect(t.map(0x1000, 0x1000, SZ_4K, count: 3) == 0)
            flushes = FlushRecord()
            #expect(t.unmap(0x1000, SZ_4K, gather: gather) == SZ_4K)
            #expect(flushes.pages.count == 1 && flushes.pages[0].iova == 0x1000 && flushes.pages[0].granule == Int(SZ_4K), "\(name)")
            #expect(flushes.gathers.first == UnsafeMutableRawPointer(gather), "\(name)")
            // A queued gather (the flush queue will flush everything): no per-page invalidation.
            gather.pointee.queued = true
            #expect(t.unmap(0x2000, SZ_4K, gather: gather) == SZ_4K)
            #expect(flushes.pages.count == 1, "\(name)")
            gather.pointee.queued = false
            // No gather: Linux 6.17's LPAE code skips tlb_add_page; v7s and DART call it with NULL.
            #expect(t.unmap(0x3000, SZ_4K) == SZ_4K)
            let lpae = t.fmt == ARM_64_LPAE_S1 || t.fmt == ARM_64_LPAE_S2
            #expect(flushes.pages.count == (lpae ? 1 : 2), "\(name)")
        }
    }

    @Test func memoryIsAccountedAndReturned() throws {
        let memory = try makeMemory()
        let base = memory.statistics
        let t = try #require(makeTable(ARM_64_LPAE_S1, pageSizes: SZ_4K | SZ_2M, ias: 48, oas: 48, memory: memory))
        // One page per table: pgd, then levels 1-3 for the first mapping.
        for i in 0..<1024 { #expect(t.map(UInt64(i) * SZ_4K, UInt64(i) * SZ_4K, SZ_4K) == 0) }
        let s = t.table.statistics
        #expect(s.tables == 1 + 1 + 1 + 2 && s.tableBytes == 5 * SZ_4K)
        let now = memory.statistics
        #expect(now.pageBytes - base.pageBytes == s.tableBytes)
        #expect(now.kmallocObjects - base.kmallocObjects == 1)
        // The state beside the tables is small: under 1% of the tables of a 1 GiB mapping (515 pages).
        #expect(Double(s.sideBytes) < 0.01 * Double(515 * SZ_4K))
        t.close()
        #expect(memory.statistics.pageBytes == base.pageBytes && memory.statistics.kmallocObjects == base.kmallocObjects)
        #expect(memory.liveAllocations().isEmpty)
    }

    @Test func customAllocatorHoldsTheTables() throws {
        let memory = try makeMemory()
        CustomAllocator.memory = memory
        CustomAllocator.live = 0
        let t = try #require(makeTable(ARM_64_LPAE_S1, pageSizes: SZ_4K, ias: 48, oas: 48, memory: memory) {
            $0.alloc = { _, size, _ in
                CustomAllocator.live += 1
                return CustomAllocator.memory!.kmalloc(size: size, gfp: [.kernel, .zero], site: nil)
            }
            $0.free = { _, pages, _ in
                CustomAllocator.live -= 1
                CustomAllocator.memory!.kfree(pages)
            }
        })
        #expect(t.map(0x1000, 0x1000, SZ_4K) == 0)
        #expect(CustomAllocator.live == 4 && t.phys(0x1000) == 0x1000)
        if case .success(let w) = t.translate(0x1000) { #expect(w.phys == 0x1000) } else { Issue.record("walk") }
        t.close()
        #expect(CustomAllocator.live == 0)
        CustomAllocator.memory = nil
    }

    @Test func concurrentMapsOfDisjointRanges() async throws {
        let memory = try makeMemory()
        let t = try #require(makeTable(ARM_64_LPAE_S1, pageSizes: SZ_4K, ias: 48, oas: 48, tlb: nil, memory: memory))
        defer { t.close() }
        let ops = UInt(bitPattern: t.ops)
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    let table = IOPageTable(ops: UnsafeMutablePointer(bitPattern: ops))!
                    for i in 0..<2000 {
                        let iova = UInt64(worker) << 32 | UInt64(i) * SZ_4K
                        _ = try? table.map(iova: IOVirtualAddress(iova), paddr: PhysicalAddress(iova), pageSize: SZ_4K, count: 1,
                                           prot: [.read, .write])
                    }
                }
            }
        }
        for worker in 0..<4 {
            for i in stride(from: 0, to: 2000, by: 97) {
                let iova = UInt64(worker) << 32 | UInt64(i) * SZ_4K
                #expect(t.phys(iova) == iova)
            }
        }
    }
}

enum CustomAllocator {
    nonisolated(unsafe) static var memory: SimulatedMemory?
    nonisolated(unsafe) static var live = 0
}
