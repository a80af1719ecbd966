// The buddy allocator over small banks: alignment, zones, splitting and merging, exhaustion, bad frees.
import Testing
import CKernel
@testable import SwiommuBase
@testable import SwiommuMemory

/// Two 8 MiB banks, one below and one above 4 GiB.
func smallMemory(_ geometry: PageGeometry = .k4) throws -> SimulatedMemory {
    try SimulatedMemory(layout: [RAMBankLayout(start: PhysicalAddress(0x8000_0000), size: 8 << 20),
                                 RAMBankLayout(start: PhysicalAddress(0x8_8000_0000), size: 8 << 20)],
                        geometry: geometry)
}

@Suite struct PageAllocatorTests {
    @Test func blocksAreNaturallyAligned() throws {
        let mem = try smallMemory()
        for order in 0...mem.geometry.maxOrder {
            let p = try #require(mem.allocatePages(order: order, gfp: .kernel, site: nil))
            let pa = try #require(mem.physical.physicalAddress(of: p))
            #expect(pa.rawValue % UInt64(4096 << order) == 0, "order \(order) at \(pa)")
            mem.freePages(p, order: order)
        }
        #expect(mem.statistics.pageBlocks == 0)
    }

    @Test func kernelAllocationsPreferHighMemoryAndDMA32StaysLow() throws {
        let mem = try smallMemory()
        let high = try #require(mem.allocatePages(order: 0, gfp: .kernel, site: nil))
        let low = try #require(mem.allocatePages(order: 0, gfp: [.kernel, .dma32], site: nil))
        #expect(mem.physical.physicalAddress(of: high)!.rawValue >= 1 << 32)
        #expect(mem.physical.physicalAddress(of: low)!.rawValue < 1 << 32)
        mem.freePages(high, order: 0)
        mem.freePages(low, order: 0)
    }

    @Test func freedPagesMergeBackIntoMaximalBlocks() throws {
        let mem = try smallMemory()
        let freeBefore = mem.freePageCount
        var pages: [UnsafeMutablePointer<PageFrame>] = []
        while let p = mem.allocatePages(order: 0, gfp: [.kernel, .dma32], site: nil) { pages.append(p) }
        #expect(pages.count == (8 << 20) / 4096)
        // The low bank is exhausted: a DMA32 request fails, a normal one is served from high memory.
        #expect(mem.allocatePages(order: 0, gfp: .dma32, site: nil) == nil)
        for p in pages.shuffled() { mem.freePages(p, order: 0) }
        #expect(mem.freePageCount == freeBefore)
        // Only merging gives back two max-order blocks in the 8 MiB bank.
        let a = try #require(mem.allocatePages(order: 10, gfp: .dma32, site: nil))
        let b = try #require(mem.allocatePages(order: 10, gfp: .dma32, site: nil))
        #expect(mem.allocatePages(order: 10, gfp: .dma32, site: nil) == nil)
        mem.freePages(a, order: 10)
        mem.freePages(b, order: 10)
    }

    @Test func splittingHandsOutTheLowerHalfFirst() throws {
        let mem = try smallMemory()
        let a = try #require(mem.allocatePages(order: 0, gfp: .dma32, site: nil))
        let b = try #require(mem.allocatePages(order: 0, gfp: .dma32, site: nil))
        #expect(mem.physical.physicalAddress(of: a) == PhysicalAddress(0x8000_0000))
        #expect(mem.physical.physicalAddress(of: b) == PhysicalAddress(0x8000_1000))
        mem.freePages(a, order: 0)
        mem.freePages(b, order: 0)
    }

    @Test func zeroFlagZeroes() throws {
        let mem = try smallMemory()
        let p = try #require(mem.allocatePages(order: 1, gfp: .kernel, site: nil))
        let v = mem.physical.virtualAddress(of: p)!
        v.initializeMemory(as: UInt8.self, repeating: 0xa5, count: 8192)
        mem.freePages(p, order: 1)
        let q = try #require(mem.allocatePages(order: 1, gfp: [.kernel, .zero], site: nil))
        let w = mem.physical.virtualAddress(of: q)!
        #expect((0..<8192).allSatisfy { w.load(fromByteOffset: $0, as: UInt8.self) == 0 })
        mem.freePages(q, order: 1)
    }

    @Test func badFreesAreRefusedAndWarned() throws {
        let mem = try smallMemory()
        let p = try #require(mem.allocatePages(order: 2, gfp: .kernel, site: nil))
        swiommu_warn_reset()
        mem.freePages(p, order: 1)            // wrong order
        #expect(swiommu_warn_count() == 1)
        #expect(swiommu_log_contains("freed with order 1, allocated with order 2"))
        mem.freePages(p, order: 2)
        mem.freePages(p, order: 2)            // double free
        #expect(swiommu_warn_count() == 2)
        #expect(swiommu_log_contains("BUG: Bad page state"))
        #expect(mem.statistics.pageBlocks == 0)
    }

    @Test func tooLargeOrdersFailWithAWarnUnlessNoWarn() throws {
        let mem = try smallMemory()
        swiommu_warn_reset()
        #expect(mem.allocatePages(order: 11, gfp: .kernel, site: nil) == nil)
        #expect(swiommu_warn_count() == 1)
        #expect(mem.allocatePages(order: 11, gfp: [.kernel, .noWarn], site: nil) == nil)
        #expect(swiommu_warn_count() == 1)
    }

    @Test(arguments: [14, 16])
    func largerPageSizesWork(shift: Int) throws {
        let g = try #require(PageGeometry(shift: shift))
        let mem = try SimulatedMemory(layout: [RAMBankLayout(start: PhysicalAddress(0x8000_0000), size: 1 << 30)],
                                      geometry: g)
        let p = try #require(mem.allocatePages(order: g.maxOrder, gfp: .kernel, site: nil))
        #expect(mem.physical.physicalAddress(of: p)!.rawValue % UInt64(g.size << g.maxOrder) == 0)
        let q = try #require(mem.allocatePages(order: 0, gfp: .kernel, site: nil))
        #expect(mem.physical.physicalAddress(of: q)!.rawValue % UInt64(g.size) == 0)
        mem.freePages(p, order: g.maxOrder)
        mem.freePages(q, order: 0)
    }

    @Test func misalignedLayoutsAreRejected() {
        #expect(throws: Errno.invalid) {
            _ = try SimulatedMemory(layout: [RAMBankLayout(start: PhysicalAddress(0x8000_0800), size: 1 << 20)])
        }
        #expect(throws: Errno.invalid) {
            _ = try SimulatedMemory(layout: [RAMBankLayout(start: PhysicalAddress(0x8000_0000), size: 1 << 20),
                                             RAMBankLayout(start: PhysicalAddress(0x8008_0000), size: 1 << 20)])
        }
        // Past the top of the address space.
        #expect(throws: Errno.invalid) {
            _ = try SimulatedMemory(layout: [RAMBankLayout(start: PhysicalAddress(~0 << 12), size: 1 << 13)])
        }
    }

    /// A bank the host cannot map fails with -ENOMEM and frees what was mapped once (the board fuzzer found the
    /// banks freed a second time by the deinit a throwing initializer runs).
    @Test func rAMTheHostCannotMapFailsCleanly() {
        #expect(throws: Errno.noMemory) {
            _ = try SimulatedMemory(layout: [RAMBankLayout(start: PhysicalAddress(0x8000_0000), size: 1 << 20),
                                             RAMBankLayout(start: PhysicalAddress(1 << 48), size: 1 << 47)])
        }
    }
}

@Suite struct ConversionTests {
    @Test func framesPagesAndAddressesRoundTrip() throws {
        let mem = try smallMemory()
        let pm = mem.physical
        let pa = PhysicalAddress(0x8_8000_3000)
        let pg = try #require(pm.page(containing: pa))
        #expect(pm.physicalAddress(of: pg) == pa)
        #expect(pm.pfn(of: pg) == PFN(0x88_0003))
        #expect(pm.page(for: PFN(0x88_0003)) == pg)
        let v = try #require(pm.virtualAddress(of: pa + 0x10))
        #expect(pm.physicalAddress(ofVirtual: v) == pa + 0x10)
        #expect(pm.page(containingVirtual: v) == pg)
        #expect(pm.virtualAddress(of: PhysicalAddress(0x1000)) == nil)
        #expect(pm.page(for: PFN(1)) == nil)
        #expect(pm.isRAM(PhysicalAddress(0x8000_0000), size: 8 << 20))
        #expect(!pm.isRAM(PhysicalAddress(0x8000_0000), size: (8 << 20) + 1))
    }
}
