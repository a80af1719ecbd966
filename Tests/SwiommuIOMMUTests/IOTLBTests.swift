// The IOTLB model: hits, misses, blocks, contexts, the three kinds of invalidation, eviction, counters.
import Testing
@testable import SwiommuIOMMU

@Suite struct IOTLBTests {
    let sizes = PageSizeBitmap(rawValue: 0x1000 | 0x20_0000)

    @Test func fillThenHitUntilInvalidated() {
        var tlb = IOTLB(capacity: 64, pageSizes: sizes)
        defer { tlb.destroy() }
        #expect(tlb.lookup(context: 1, iova: 0x1234) == nil)
        tlb.fill(IOTLBEntry(context: 1, sizeShift: 12, permissions: 3, iova: 0x1000, output: 0x8000_1000))
        #expect(tlb.lookup(context: 1, iova: 0x1ffc)?.output == 0x8000_1000)
        #expect(tlb.lookup(context: 2, iova: 0x1ffc) == nil)        // another context
        #expect(tlb.lookup(context: 1, iova: 0x2000) == nil)        // the next page
        tlb.invalidate(context: 1, iova: 0x1000, size: 0x1000)
        #expect(tlb.lookup(context: 1, iova: 0x1ffc) == nil)
        #expect(tlb.counters.lookups == 5 && tlb.counters.hits == 1 && tlb.counters.misses == 4)
        #expect(tlb.counters.invalidateRange == 1 && tlb.counters.invalidations == 1)
    }

    @Test func blocksCoverEveryAddressInside() {
        var tlb = IOTLB(capacity: 64, pageSizes: sizes)
        defer { tlb.destroy() }
        tlb.fill(IOTLBEntry(context: 0, sizeShift: 21, permissions: 1, iova: 0x20_0000, output: 0x9000_0000))
        #expect(tlb.lookup(context: 0, iova: 0x3f_ffff)?.output == 0x9000_0000)
        // A range invalidation of one 4K page inside the block drops the block entry.
        tlb.invalidate(context: 0, iova: 0x30_0000, size: 0x1000)
        #expect(tlb.lookup(context: 0, iova: 0x20_0000) == nil)
    }

    @Test func contextAndFullInvalidation() {
        var tlb = IOTLB(capacity: 64, pageSizes: sizes)
        defer { tlb.destroy() }
        for ctx in UInt32(0)..<3 {
            tlb.fill(IOTLBEntry(context: ctx, sizeShift: 12, permissions: 3, iova: 0x5000, output: 0x1000 * UInt64(ctx)))
        }
        tlb.invalidate(context: 1)
        #expect(tlb.lookup(context: 0, iova: 0x5000) != nil)
        #expect(tlb.lookup(context: 1, iova: 0x5000) == nil)
        tlb.invalidateAll()
        #expect(tlb.liveEntries.isEmpty)
        #expect(tlb.counters.invalidateContext == 1 && tlb.counters.invalidateAll == 1)
    }

    @Test func capacityIsBoundedAndEvicts() {
        var tlb = IOTLB(capacity: 100, pageSizes: sizes)
        defer { tlb.destroy() }
        #expect(tlb.capacity == 128)   // 32 sets of 4 ways
        for page in UInt64(0)..<1000 {
            tlb.fill(IOTLBEntry(context: 0, sizeShift: 12, permissions: 3, iova: page << 12, output: page << 12))
        }
        #expect(tlb.liveEntries.count <= tlb.capacity)
        #expect(tlb.counters.evictions == 1000 - UInt64(tlb.liveEntries.count))
        // What remains translates correctly.
        for e in tlb.liveEntries { #expect(tlb.lookup(context: 0, iova: e.iova)?.output == e.iova) }
    }

    @Test func contextEpochsDropOnlyThatContextAndSurviveRefill() {
        var tlb = IOTLB(capacity: 64, pageSizes: sizes, contexts: 4)
        defer { tlb.destroy() }
        tlb.fill(IOTLBEntry(context: 2, sizeShift: 12, permissions: 3, iova: 0x7000, output: 0x1000))
        tlb.fill(IOTLBEntry(context: 3, sizeShift: 12, permissions: 3, iova: 0x7000, output: 0x2000))
        tlb.invalidate(context: 2)                                   // an epoch bump, no scan
        #expect(tlb.lookup(context: 2, iova: 0x7000) == nil)
        #expect(tlb.lookup(context: 3, iova: 0x7000)?.output == 0x2000)
        #expect(tlb.liveEntries.count == 1)
        tlb.fill(IOTLBEntry(context: 2, sizeShift: 12, permissions: 1, iova: 0x7000, output: 0x3000))
        #expect(tlb.lookup(context: 2, iova: 0x7000)?.output == 0x3000)
        // A context number beyond the epoch table is scanned instead.
        tlb.fill(IOTLBEntry(context: 9, sizeShift: 12, permissions: 3, iova: 0x7000, output: 0x4000))
        tlb.invalidate(context: 9)
        #expect(tlb.lookup(context: 9, iova: 0x7000) == nil)
    }

    @Test func smallAndLargeRangeInvalidationsAgree() {
        // The same fills, invalidated once by probing the sets of a small range and once by a scan of a
        // range too large to probe: the same entries must go.
        for size in [UInt64(0x3000), UInt64(0x4000_0000)] {
            var tlb = IOTLB(capacity: 64, pageSizes: sizes)
            defer { tlb.destroy() }
            for page in UInt64(0)..<8 {
                tlb.fill(IOTLBEntry(context: 1, sizeShift: 12, permissions: 3, iova: 0x10_0000 + page << 12, output: page << 12))
            }
            tlb.fill(IOTLBEntry(context: 1, sizeShift: 21, permissions: 3, iova: 0x20_0000, output: 0x8000_0000))
            tlb.invalidate(context: 1, iova: 0x10_2000, size: size)
            #expect(tlb.lookup(context: 1, iova: 0x10_1000) != nil)
            #expect(tlb.lookup(context: 1, iova: 0x10_2000) == nil)
            #expect(tlb.lookup(context: 1, iova: 0x10_4000) == nil)
            #expect((tlb.lookup(context: 1, iova: 0x10_5000) == nil) == (size > 0x3000))
            #expect((tlb.lookup(context: 1, iova: 0x20_0000) == nil) == (size > 0x3000))
        }
    }
}
