// swiotlb's slot allocator against its invariants: every free slot's `list` counts the free slots from it
// to the end of its segment, mappings never cross a segment, alignment and min_align_mask are honoured, and
// any sequence of maps and unmaps returns the pool to its initial state.
import Testing
import CKernel
@testable import SwiommuBase
@testable import SwiommuMemory
@testable import SwiommuPlatform
@testable import SwiommuDMA

/// A pool of `bytes` over two small banks, and a zeroed device that uses it.
final class PoolFixture {
    let memory: SimulatedMemory
    let mem: UnsafeMutablePointer<io_tlb_mem>
    let dev = UnsafeMutablePointer<Device>.allocate(capacity: 1)
    let parms = UnsafeMutablePointer<device_dma_parameters>.allocate(capacity: 1)
    let name = strdup("pool-test")!

    init(bytes: Int) throws {
        memory = try SimulatedMemory(layout: [RAMBankLayout(start: PhysicalAddress(0x8000_0000), size: 16 << 20),
                                              RAMBankLayout(start: PhysicalAddress(0x8_8000_0000), size: 16 << 20)])
        var options = BoardOptions()
        options.swiotlbBytes = bytes
        mem = SwiotlbPool.createDefault(memory: memory, options: options)
        dev.initialize(to: Device())
        parms.initialize(to: device_dma_parameters())
        dev.pointee.init_name = UnsafePointer(name)
        dev.pointee.dma_parms = parms
        dev.pointee.dma_io_tlb_mem = mem
        dev.pointee.dma_coherent = true
    }

    deinit {
        SwiotlbPool.destroy(mem, memory: memory)
        dev.deallocate()
        parms.deallocate()
        free(name)
    }

    var pool: SwiotlbPool { Unmanaged<SwiotlbPool>.fromOpaque(mem.pointee.swiommu!).takeUnretainedValue() }
    var start: UInt64 { mem.pointee.defpool.start }

    /// A physical buffer in the high bank.
    func buffer(_ offset: UInt64) -> PhysicalAddress { PhysicalAddress(0x8_8000_0000 + offset) }

    /// The free-list invariant of swiotlb_init_io_tlb_pool/swiotlb_release_slots, checked slot by slot.
    func checkLists() {
        let p = pool
        var expected: UInt32 = 0
        for i in stride(from: p.nslabs - 1, through: 0, by: -1) {
            if i % ioTLBSegmentSize == ioTLBSegmentSize - 1 { expected = 0 }
            expected = p.slots[i].list == 0 ? 0 : expected + 1
            #expect(p.slots[i].list == expected, "slot \(i)")
        }
    }
}

/// A seeded generator: a failing sequence repeats.
struct XorShift: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
}

@Suite struct SwiotlbTests {
    @Test func aFreshPoolHasWholeSegmentsFree() throws {
        let f = try PoolFixture(bytes: 1 << 20)
        #expect(f.pool.nslabs == 512)
        #expect(f.pool.slots[0].list == 128 && f.pool.slots[127].list == 1 && f.pool.slots[128].list == 128)
        #expect(f.start < 1 << 32 && f.start % 4096 == 0)
        f.checkLists()
    }

    @Test func mappingsNeverCrossASegmentAndReleaseRestoresThePool() throws {
        let f = try PoolFixture(bytes: 1 << 20)
        var rng = XorShift(seed: 0x5eed)
        var live: [(PhysicalAddress, Int)] = []
        for round in 0..<400 {
            if live.count > 6 || (round % 3 == 2 && !live.isEmpty) {
                let (tlb, size) = live.remove(at: Int.random(in: 0..<live.count, using: &rng))
                Swiotlb.unmapSingle(f.dev, tlbAddress: tlb, size: size, direction: .toDevice, attributes: [])
            } else {
                let size = Int.random(in: 1...(64 << 10), using: &rng)
                guard let tlb = Swiotlb.mapSingle(f.dev, phys: f.buffer(UInt64.random(in: 0..<4096, using: &rng)),
                                                  size: size, allocAlignMask: 0, direction: .toDevice,
                                                  attributes: .noWarn) else { continue }
                let first = Int((tlb.rawValue - f.start) >> 11), last = Int((tlb.rawValue - f.start + UInt64(size) - 1) >> 11)
                #expect(first / ioTLBSegmentSize == last / ioTLBSegmentSize, "\(size) bytes at slot \(first)")
                if size >= 4096 { #expect(tlb.rawValue % 4096 == 0) }
                live.append((tlb, size))
            }
            f.checkLists()
        }
        for (tlb, size) in live { Swiotlb.unmapSingle(f.dev, tlbAddress: tlb, size: size, direction: .toDevice, attributes: []) }
        #expect(f.pool.used == 0)
        for i in 0..<f.pool.nslabs { #expect(f.pool.slots[i].list == UInt32(ioTLBSegmentSize - i % ioTLBSegmentSize)) }
    }

    @Test func minAlignMaskAndAllocationAlignmentAreHonoured() throws {
        let f = try PoolFixture(bytes: 1 << 20)
        f.parms.pointee.min_align_mask = 0xfff
        for offset: UInt64 in [0, 0x10, 0x7ff, 0x800, 0x9a4, 0xfff] {
            let tlb = try #require(Swiotlb.mapSingle(f.dev, phys: f.buffer(0x3000 + offset), size: 300, allocAlignMask: 0,
                                                     direction: .bidirectional, attributes: []))
            #expect(tlb.rawValue & 0xfff == offset)
            Swiotlb.unmapSingle(f.dev, tlbAddress: tlb, size: 300, direction: .bidirectional, attributes: [])
        }
        f.parms.pointee.min_align_mask = 0
        let tlb = try #require(Swiotlb.mapSingle(f.dev, phys: f.buffer(0x123), size: 100, allocAlignMask: 0xffff,
                                                 direction: .toDevice, attributes: []))
        #expect(tlb.rawValue % 0x10000 == 0)
        #expect(f.pool.used == 32)   // the whole 64 KiB granule
        Swiotlb.unmapSingle(f.dev, tlbAddress: tlb, size: 100, direction: .toDevice, attributes: [])
        #expect(f.pool.used == 0)
        f.checkLists()
    }

    @Test func maxMappingSizeLeavesRoomForTheMinAlignPadding() throws {
        let f = try PoolFixture(bytes: 1 << 20)
        #expect(Swiotlb.maxMappingSize(f.dev) == 256 << 10)
        f.parms.pointee.min_align_mask = 0xfff
        #expect(Swiotlb.maxMappingSize(f.dev) == (256 << 10) - 4096)
        f.parms.pointee.min_align_mask = 0x3
        #expect(Swiotlb.maxMappingSize(f.dev) == (256 << 10) - 2048)
    }
}
