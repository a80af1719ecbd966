// The kernel's own io-pgtable selftests, replayed: arm_lpae_do_selftests over its page-size x IAS x OAS
// matrix for both stages (Linux 6.17), the same sequence for the 32-bit and Mali formats, and
// arm_v7s_do_selftests; every translation is also checked against the hardware walker.
import Testing
import CKernel
@testable import SwiommuBase
@testable import SwiommuMemory
@testable import SwiommuPageTable

@Suite(.serialized) struct SelfTests {
    static let pageSizeSets: [UInt64] = [SZ_4K | SZ_2M | SZ_1G, SZ_16K | SZ_32M, SZ_64K | SZ_512M]
    static let addressSizes: [UInt32] = [32, 36, 40, 42, 44, 48]

    /// The sizes of a bitmap, smallest first. Kernel: for_each_set_bit.
    static func sizes(_ bitmap: UInt64) -> [UInt64] {
        (0..<64).compactMap { bitmap & (1 << UInt64($0)) != 0 ? 1 << UInt64($0) : nil }
    }

    /// Kernel: arm_lpae_run_tests() (io-pgtable-arm.c, 6.17). Returns what failed, empty when it passes.
    static func runLPAETests(_ memory: SimulatedMemory, formats: [io_pgtable_fmt], pageSizes: UInt64, ias: UInt32,
                             oas: UInt32) -> [String] {
        var failures: [String] = []
        for fmt in formats {
            guard let t = makeTable(fmt, pageSizes: pageSizes, ias: ias, oas: oas, quirks: PageTableQuirk.noWarn,
                                    memory: memory) else {
                return ["\(formatName(fmt)): failed to allocate io pgtable ops"]
            }
            defer { t.close() }
            let fail = { (what: String) in failures.append("\(formatName(fmt)) \(Kernel.hex(pageSizes)) ias \(ias) oas \(oas): \(what)") }
            let bitmap = UInt64(t.cfg.pointee.pgsize_bitmap)
            // The walker can only reach tables inside the output size (PS): with oas 32 the tables (above 4 GiB)
            // give it an address size fault, as hardware would.
            let top = fmt == ARM_64_LPAE_S2 || fmt == ARM_32_LPAE_S2 ? t.cfg.pointee.arm_lpae_s2_cfg.vttbr
                                                                    : t.cfg.pointee.arm_lpae_s1_cfg.ttbr
            let walkable = top >> UInt64(t.cfg.pointee.oas) == 0
            if !walkable {
                if case .failure(let f) = t.translate(0) { if f.kind != .addressSize { fail("walk beyond oas: \(f)") } }
                else { fail("walk beyond oas succeeded") }
            }
            flushes = FlushRecord()
            flushes.expectedCookie = t.cookie
            flushes.pageSizes = bitmap

            // Empty page tables shouldn't provide any translations.
            for iova in [42, SZ_1G + 42, SZ_2G + 42] where t.phys(iova) != 0 { fail("empty table translates \(iova)") }

            // Distinct mappings of different granule sizes.
            var iova: UInt64 = 0
            for size in sizes(bitmap) {
                var mapped = 0
                if t.map(iova, iova, size, prot: R | W | NOEXEC | CACHE, mapped: &mapped) != 0 { fail("map \(size)") }
                // Overlapping mappings.
                if t.map(iova, iova + size, size, prot: R | NOEXEC) == 0 { fail("overlapping map \(size) succeeded") }
                if t.phys(iova + 42) != iova + 42 { fail("iova_to_phys after map \(size)") }
                if walkable, case .success(let w) = t.translate(iova + 42, .read), w.phys == iova + 42 {} else if walkable { fail("walker after map \(size)") }
                iova += SZ_1G
            }

            // Full unmap.
            iova = 0
            for size in sizes(bitmap) {
                if t.unmap(iova, size) != size { fail("unmap \(size)") }
                if t.phys(iova + 42) != 0 { fail("iova_to_phys after unmap \(size)") }
                if walkable, case .failure(let f) = t.translate(iova + 42), f.kind == .translation {} else if walkable { fail("walker after unmap \(size)") }
                // Remap full block.
                if t.map(iova, iova, size, prot: W) != 0 { fail("remap \(size)") }
                if t.phys(iova + 42) != iova + 42 { fail("iova_to_phys after remap \(size)") }
                if walkable, case .success(let w) = t.translate(iova + 42, .write), w.phys == iova + 42 {} else if walkable { fail("walker after remap \(size)") }
                iova += SZ_1G
            }

            // Map/unmap the last largest supported page of the IAS: corner cases of concatenated tables.
            let size = UInt64(1) << UInt64(63 - bitmap.leadingZeroBitCount)
            iova = (UInt64(1) << UInt64(t.cfg.pointee.ias)) - size
            var mapped = 0
            if t.map(iova, iova, size, prot: R | W | NOEXEC | CACHE, mapped: &mapped) != 0 { fail("map last page") }
            if mapped != Int(size) { fail("mapped \(mapped) of the last page") }
            if walkable, case .success = t.translate(iova) {} else if walkable { fail("walker on the last page") }
            if t.unmap(iova, size) != size { fail("unmap last page") }
            if flushes.bad != 0 { fail("\(flushes.bad) flush calls with a bad cookie or size") }
        }
        return failures
    }

    @Test func lpaeSelftestMatrix() throws {
        let memory = try makeMemory()
        var pass = 0
        var failures: [String] = []
        for pageSizes in Self.pageSizeSets {
            for (j, oas) in Self.addressSizes.enumerated() {
                // Don't use ias > oas as it is not valid for stage-2.
                for ias in Self.addressSizes[0...j] {
                    let f = Self.runLPAETests(memory, formats: [ARM_64_LPAE_S1, ARM_64_LPAE_S2], pageSizes: pageSizes,
                                              ias: ias, oas: oas)
                    if f.isEmpty { pass += 1 } else { failures += f }
                }
            }
        }
        #expect(failures.isEmpty, "\(failures)")
        #expect(pass == 3 * 21, "selftest: completed with \(pass) PASS \(failures.count) FAIL")
        #expect(memory.statistics.pageBlocks == 0, "table pages leaked")
        #expect(memory.statistics.kmallocObjects == 0, "state leaked")
    }

    @Test func lpaeSelftestOnEveryCPUPageSize() throws {
        // The granule follows PAGE_SIZE when offered: a 16K and a 64K CPU pick other granules from a mixed bitmap.
        for (shift, granule) in [(14, SZ_16K), (16, SZ_64K)] {
            let memory = try makeMemory(PageGeometry(shift: shift)!)
            let all = SZ_4K | SZ_2M | SZ_1G | SZ_16K | SZ_32M | SZ_64K | SZ_512M
            let t = try #require(makeTable(ARM_64_LPAE_S1, pageSizes: all, ias: 48, oas: 48, memory: memory))
            #expect(UInt64(t.cfg.pointee.pgsize_bitmap) & (SZ_4K | SZ_16K | SZ_64K) == granule)
            t.close()
            #expect(Self.runLPAETests(memory, formats: [ARM_64_LPAE_S1, ARM_64_LPAE_S2], pageSizes: all, ias: 48, oas: 48).isEmpty)
            #expect(memory.statistics.pageBlocks == 0)
        }
    }

    @Test func thirtyTwoBitAndMaliFormatsPassTheSameSequence() throws {
        let memory = try makeMemory()
        for oas: UInt32 in [32, 36, 40] {
            for ias: UInt32 in [32] where ias <= oas {
                #expect(Self.runLPAETests(memory, formats: [ARM_32_LPAE_S1], pageSizes: SZ_4K | SZ_2M | SZ_1G, ias: ias, oas: oas).isEmpty)
            }
            for ias: UInt32 in [32, 36, 40] where ias <= oas {
                #expect(Self.runLPAETests(memory, formats: [ARM_32_LPAE_S2], pageSizes: SZ_4K | SZ_2M | SZ_1G, ias: ias, oas: oas).isEmpty)
            }
        }
        // Mali accepts no quirks, so it runs without NO_WARN: the overlapping maps WARN.
        for ias: UInt32 in [32, 39, 40, 48] {
            let t = try #require(makeTable(ARM_MALI_LPAE, pageSizes: SZ_4K | SZ_2M | SZ_1G, ias: ias, oas: 40, memory: memory))
            var iova: UInt64 = 0
            for size in Self.sizes(SZ_4K | SZ_2M | SZ_1G) {
                #expect(t.map(iova, iova, size, prot: R | W | CACHE) == 0)
                #expect(t.map(iova, iova + size, size, prot: R) == -Errno.exists.rawValue)
                #expect(t.phys(iova + 42) == iova + 42)
                if case .success(let w) = t.translate(iova + 42, .write) { #expect(w.phys == iova + 42) } else { Issue.record("Mali walk") }
                #expect(t.unmap(iova, size) == size)
                #expect(t.phys(iova + 42) == 0)
                iova += SZ_1G
            }
            t.close()
        }
        #expect(memory.statistics.pageBlocks == 0)
    }

    /// Kernel: arm_v7s_do_selftests() (io-pgtable-arm-v7s.c).
    @Test func v7sSelftest() throws {
        let memory = try makeMemory()
        let bitmap = SZ_4K | SZ_64K | SZ_1M | SZ_16M
        let t = try #require(makeTable(ARM_V7S, pageSizes: bitmap, ias: 32, oas: 32, quirks: PageTableQuirk.armNS,
                                       memory: memory))
        defer { t.close() }
        flushes = FlushRecord()
        flushes.expectedCookie = t.cookie
        flushes.pageSizes = bitmap

        // Empty page tables shouldn't provide any translations.
        #expect(t.phys(42) == 0)
        #expect(t.phys(SZ_1G + 42) == 0)
        #expect(t.phys(SZ_2G + 42) == 0)

        // Distinct mappings of different granule sizes.
        var iova: UInt64 = 0
        for size in Self.sizes(bitmap) {
            #expect(t.map(iova, iova, size, prot: R | W | NOEXEC | CACHE) == 0)
            // Overlapping mappings (Linux WARNs unless its selftest runs; swiommu always does).
            #expect(t.map(iova, iova + size, size, prot: R | NOEXEC) != 0)
            #expect(t.phys(iova + 42) == iova + 42)
            if case .success(let w) = t.translate(iova + 42, .read) {
                #expect(w.phys == iova + 42 && w.size == size)
            } else { Issue.record("v7s walker after map \(size)") }
            iova += SZ_16M
        }

        // Full unmap.
        iova = 0
        for size in Self.sizes(bitmap) {
            #expect(t.unmap(iova, size) == size)
            #expect(t.phys(iova + 42) == 0)
            // Remap full block.
            #expect(t.map(iova, iova, size, prot: W) == 0)
            #expect(t.phys(iova + 42) == iova + 42)
            iova += SZ_16M
        }
        #expect(flushes.bad == 0)
    }

    /// The DART formats have no selftest upstream; the same sequence over their one page size.
    @Test(arguments: [(APPLE_DART, SZ_16K, UInt32(36)), (APPLE_DART, SZ_4K, UInt32(36)),
                      (APPLE_DART2, SZ_16K, UInt32(42))])
    func dartSequence(fmt: io_pgtable_fmt, pageSize: UInt64, oas: UInt32) throws {
        let memory = try makeMemory()
        let t = try #require(makeTable(fmt, pageSizes: pageSize, ias: 32, oas: oas, memory: memory))
        #expect(t.cfg.pointee.apple_dart_cfg.n_ttbrs == (pageSize == SZ_4K ? 4 : 1))
        #expect(t.phys(42) == 0 && t.phys(SZ_1G + 42) == 0 && t.phys(SZ_2G + 42) == 0)
        for iova in [0, SZ_1G, SZ_2G, 0xffff_ffff & ~(pageSize - 1)] {
            #expect(t.map(iova, iova, pageSize, prot: R | W | CACHE) == 0)
            #expect(t.map(iova, iova + pageSize, pageSize, prot: R) == -Errno.exists.rawValue)
            #expect(t.phys(iova + 42) == iova + 42)
            if case .success(let w) = t.translate(iova + 42, .write) { #expect(w.phys == iova + 42) } else { Issue.record("DART walk") }
            #expect(t.unmap(iova, pageSize) == pageSize)
            #expect(t.phys(iova + 42) == 0)
            #expect(t.map(iova, iova, pageSize, prot: W) == 0)
            #expect(t.phys(iova + 42) == iova + 42)
        }
        t.close()
        #expect(memory.statistics.pageBlocks == 0)
    }
}
