// iommu_insert_resv_region: the list stays sorted by start (then type), and regions of the inserted type merge
// where they overlap or touch, as 6.17's merge does.
import Testing
import CKernel
@testable import SwiommuIOMMU
@testable import SwiommuMemory
import SwiommuBase

@Suite struct ReservedRegionTests {
    struct Region: Equatable, CustomStringConvertible {
        var start: UInt64, length: Int, type: iommu_resv_type
        var description: String { "\(String(start, radix: 16))+\(String(length, radix: 16)) type \(type.rawValue)" }
    }

    /// Insert each region as iommu_get_group_resv_regions does, then read the list back and free it.
    func merged(_ input: [Region]) throws -> [Region] {
        let memory = try SimulatedMemory(layout: [RAMBankLayout(start: PhysicalAddress(0x8000_0000), size: 8 << 20)])
        let head = UnsafeMutablePointer<list_head>.allocate(capacity: 1)
        defer { head.deallocate() }
        head.pointee.next = head
        head.pointee.prev = head
        for r in input {
            let new = try #require(ResvRegions.allocate(memory, start: r.start, length: r.length, prot: 0, type: r.type))
            #expect(ResvRegions.insert(new, into: head, memory: memory) == nil)
            memory.kfree(UnsafeRawPointer(new))
        }
        var out: [Region] = []
        var n = head.pointee.next
        while let node = n, node != head {
            n = node.pointee.next
            let r = UnsafeMutableRawPointer(node).assumingMemoryBound(to: iommu_resv_region.self)
            out.append(Region(start: r.pointee.start, length: r.pointee.length, type: r.pointee.type))
        }
        ResvRegions.put(nil, head, memory: memory)
        #expect(memory.statistics.kmallocObjects == 0)
        return out
    }

    @Test func overlappingAndTouchingRegionsOfOneTypeMerge() throws {
        let got = try merged([Region(start: 0x3000, length: 0x1000, type: IOMMU_RESV_RESERVED),
                              Region(start: 0x1000, length: 0x1000, type: IOMMU_RESV_RESERVED),
                              Region(start: 0x2000, length: 0x1000, type: IOMMU_RESV_RESERVED),  // touches both
                              Region(start: 0x9000, length: 0x100, type: IOMMU_RESV_RESERVED),
                              Region(start: 0x8000, length: 0x800, type: IOMMU_RESV_RESERVED)])  // a gap below 0x9000
        #expect(got == [Region(start: 0x1000, length: 0x3000, type: IOMMU_RESV_RESERVED),
                        Region(start: 0x8000, length: 0x800, type: IOMMU_RESV_RESERVED),
                        Region(start: 0x9000, length: 0x100, type: IOMMU_RESV_RESERVED)])
    }

    @Test func regionsOfOtherTypesStaySeparateAndSorted() throws {
        let got = try merged([Region(start: 0x1000, length: 0x2000, type: IOMMU_RESV_RESERVED),
                              Region(start: 0x1800, length: 0x1000, type: IOMMU_RESV_DIRECT),
                              Region(start: 0x1000, length: 0x100, type: IOMMU_RESV_DIRECT),
                              Region(start: 0x500, length: 0x100, type: IOMMU_RESV_MSI)])
        // At one start the lower type goes first (DIRECT 0 before RESERVED 2); the two DIRECTs do not touch.
        #expect(got == [Region(start: 0x500, length: 0x100, type: IOMMU_RESV_MSI),
                        Region(start: 0x1000, length: 0x100, type: IOMMU_RESV_DIRECT),
                        Region(start: 0x1000, length: 0x2000, type: IOMMU_RESV_RESERVED),
                        Region(start: 0x1800, length: 0x1000, type: IOMMU_RESV_DIRECT)])
    }

    @Test func aRegionInsideAnotherIsAbsorbed() throws {
        let got = try merged([Region(start: 0x10000, length: 0x10000, type: IOMMU_RESV_SW_MSI),
                              Region(start: 0x14000, length: 0x1000, type: IOMMU_RESV_SW_MSI)])
        #expect(got == [Region(start: 0x10000, length: 0x10000, type: IOMMU_RESV_SW_MSI)])
    }
}
