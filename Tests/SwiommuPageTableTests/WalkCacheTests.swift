// ARM LPAE's walk cache (the level-2 and level-3 tables map and unmap last reached) as iova_to_phys uses it:
// whatever the cache holds, iova_to_phys returns what a walk from the pgd and the hardware walker find.
import Testing
import CKernel
@testable import SwiommuBase
@testable import SwiommuMemory
@testable import SwiommuPageTable

@Suite struct WalkCacheTests {
    /// The driver's answer, checked against the hardware walker's (which always starts at the pgd).
    func expectAgrees(_ t: TestTable, _ iova: UInt64, _ expected: UInt64, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(t.phys(iova) == expected, "iova_to_phys(\(Kernel.hex(iova)))", sourceLocation: sourceLocation)
        switch t.translate(iova) {
        case .success(let w): #expect(w.phys == expected, "walker at \(Kernel.hex(iova))", sourceLocation: sourceLocation)
        case .failure: #expect(expected == 0, "walker faulted at \(Kernel.hex(iova))", sourceLocation: sourceLocation)
        }
    }

    @Test func iovaToPhysIsRightInAndOutsideTheCachedRegion() throws {
        let memory = try makeMemory()
        let t = try #require(makeTable(ARM_64_LPAE_S1, pageSizes: SZ_4K | SZ_2M | SZ_1G, ias: 48, oas: 48, memory: memory))
        defer { t.close() }
        let a: UInt64 = 0x4000_0000, b: UInt64 = 0x8020_0000
        #expect(t.map(a, 0x8000_1000, SZ_4K) == 0)
        #expect(t.map(b, 0x8000_5000, SZ_4K) == 0)   // the cache now holds b's level-3 table
        expectAgrees(t, a + 0x123, 0x8000_1123)       // another region: from the pgd
        expectAgrees(t, b + 0x456, 0x8000_5456)       // the cached table
        expectAgrees(t, b + SZ_4K, 0)                 // the cached table, an empty entry
        expectAgrees(t, b + SZ_2M, 0)                 // the next region: no table there
        expectAgrees(t, a + 0x123, 0x8000_1123)
        // The cache follows the last map: a's table again.
        #expect(t.map(a + SZ_4K, 0x8000_9000, SZ_4K) == 0)
        expectAgrees(t, b + 0x456, 0x8000_5456)
        expectAgrees(t, a + SZ_4K + 8, 0x8000_9008)
        // Bits above the input size: the kernel's level indices drop them (ARM_LPAE_LVL_IDX), with or
        // without the cache.
        #expect(t.phys((1 << 48) | (b + 0x456)) == 0x8000_5456)
    }

    @Test func aBlockThatReplacesTheCachedTableIsSeen() throws {
        let memory = try makeMemory()
        let t = try #require(makeTable(ARM_64_LPAE_S1, pageSizes: SZ_4K | SZ_2M | SZ_1G, ias: 48, oas: 48, memory: memory))
        defer { t.close() }
        let b: UInt64 = 0x8020_0000
        #expect(t.map(b, 0x8000_5000, SZ_4K) == 0)
        #expect(t.unmap(b, SZ_4K) == SZ_4K)
        expectAgrees(t, b + 0x10, 0)
        // A 2 MiB block over the (empty) level-3 table frees it; iova_to_phys must find the block, not the table.
        #expect(t.map(b, 0x8040_0000, SZ_2M) == 0)
        expectAgrees(t, b + 0x12_3456, 0x8052_3456)
        #expect(t.unmap(b, SZ_2M) == SZ_2M)
        expectAgrees(t, b + 0x12_3456, 0)
        // Pages again: a new table, found through the cache.
        #expect(t.map(b + 0x3000, 0x8000_7000, SZ_4K) == 0)
        expectAgrees(t, b + 0x3abc, 0x8000_7abc)
    }

    @Test func randomMappingsAgreeWithTheWalker() throws {
        let memory = try makeMemory()
        let t = try #require(makeTable(ARM_64_LPAE_S1, pageSizes: SZ_4K | SZ_2M | SZ_1G, ias: 48, oas: 48, memory: memory))
        defer { t.close() }
        var rng = Rng(7)
        var live: [UInt64: UInt64] = [:]   // page -> output page
        for _ in 0..<4000 {
            // Pages in 8 regions of 2 MiB, so that the cache changes region often.
            let page = 0x1000_0000 + rng.below(8) * SZ_2M + rng.below(16) * SZ_4K
            if live[page] != nil {
                #expect(t.unmap(page, SZ_4K) == SZ_4K)
                live[page] = nil
            } else {
                let out = 0x8000_0000 + rng.below(0x1000) * SZ_4K
                #expect(t.map(page, out, SZ_4K) == 0)
                live[page] = out
            }
            let probe = 0x1000_0000 + rng.below(8) * SZ_2M + rng.below(16) * SZ_4K + rng.below(SZ_4K)
            let expected = live[probe & ~(SZ_4K - 1)].map { $0 + probe % SZ_4K } ?? 0
            #expect(t.phys(probe) == expected)
        }
    }
}
