// kmalloc: size classes, alignment, zeroing, krealloc, large objects, and SLUB's checks on free.
import Testing
import Glibc
import CKernel
@testable import SwiommuBase
@testable import SwiommuMemory

@Suite struct SlabTests {
    @Test(arguments: [(1, 8), (8, 8), (9, 16), (33, 64), (65, 96), (96, 96), (97, 128), (129, 192), (193, 256),
                      (257, 512), (1000, 1024), (2000, 2048), (4096, 4096), (4097, 8192), (8192, 8192)])
    func sizeClassesAreSLUBs(size: Int, usable: Int) throws {
        let mem = try smallMemory()
        let p = try #require(mem.kmalloc(size: size, gfp: .kernel, site: nil))
        #expect(mem.ksize(p) == usable)
        mem.kfree(p)
    }

    @Test func powerOfTwoObjectsAreNaturallyAligned() throws {
        let mem = try smallMemory()
        for shift in 3...13 {
            var ps: [UnsafeMutableRawPointer] = []
            for _ in 0..<5 {
                let p = try #require(mem.kmalloc(size: 1 << shift, gfp: .kernel, site: nil))
                #expect(UInt(bitPattern: p) % UInt(1 << shift) == 0)
                ps.append(p)
            }
            for p in ps { mem.kfree(p) }
        }
        #expect(mem.statistics.kmallocObjects == 0)
    }

    @Test func zeroSizeGivesZeroSizePointer() throws {
        let mem = try smallMemory()
        let p = mem.kmalloc(size: 0, gfp: .kernel, site: nil)
        #expect(p == SimulatedMemory.zeroSizePointer)
        mem.kfree(p)
        #expect(mem.statistics.kmallocObjects == 0)
    }

    @Test func objectsAreReusedLIFOAndCountersTrackThem() throws {
        let mem = try smallMemory()
        let a = try #require(mem.kmalloc(size: 40, gfp: .kernel, site: nil))
        #expect(mem.statistics.kmallocObjects == 1)
        #expect(mem.statistics.kmallocBytes == 40)
        mem.kfree(a)
        let b = try #require(mem.kmalloc(size: 64, gfp: .kernel, site: nil))
        #expect(a == b)
        mem.kfree(b)
        #expect(mem.statistics.kmallocBytes == 0)
    }

    @Test func manySlabsFillAndEmpty() throws {
        let mem = try smallMemory()
        let free0 = mem.freePageCount
        var ps: [UnsafeMutableRawPointer] = []
        for i in 0..<5000 { ps.append(try #require(mem.kmalloc(size: 8 + i % 200, gfp: .kernel, site: nil))) }
        #expect(Set(ps).count == ps.count)
        for p in ps.shuffled() { mem.kfree(p) }
        // One empty slab per cache may stay, as SLUB keeps min_partial slabs.
        #expect(free0 - mem.freePageCount <= 8)
    }

    @Test func zeroFlagZeroesTheWholeObject() throws {
        let mem = try smallMemory()
        let p = try #require(mem.kmalloc(size: 100, gfp: .kernel, site: nil))
        memset(p, 0xff, 128)
        mem.kfree(p)
        let q = try #require(mem.kmalloc(size: 100, gfp: [.kernel, .zero], site: nil))
        #expect(q == p)
        #expect((0..<128).allSatisfy { q.load(fromByteOffset: $0, as: UInt8.self) == 0 })
        mem.kfree(q)
    }

    @Test func largeObjectsArePages() throws {
        let mem = try smallMemory()
        let p = try #require(mem.kmalloc(size: 3 * 4096 + 1, gfp: .kernel, site: nil))
        #expect(UInt(bitPattern: p) % 4096 == 0)
        #expect(mem.ksize(p) == 4 * 4096)
        #expect(mem.statistics.kmallocBytes == UInt64(3 * 4096 + 1))
        #expect(mem.statistics.pageBlocks == 1)   // kmalloc_large is a page block too (swiommu/memory.h)
        #expect(mem.statistics.pageBytes == 4 * 4096)
        mem.kfree(p)
        #expect(mem.statistics.kmallocObjects == 0)
    }

    @Test func dmaObjectsComeFromLowMemory() throws {
        let mem = try smallMemory()
        let p = try #require(mem.kmalloc(size: 64, gfp: [.kernel, .dma], site: nil))
        #expect(mem.physical.physicalAddress(ofVirtual: p)!.rawValue < 1 << 32)
        mem.kfree(p)
    }

    @Test func dma32IsWarnedAboutAndDropped() throws {
        let mem = try smallMemory()
        swiommu_warn_reset()
        let p = try #require(mem.kmalloc(size: 64, gfp: [.kernel, .dma32], site: nil))
        #expect(swiommu_warn_count() == 1)
        #expect(swiommu_log_contains("Unexpected gfp: 0x4"))
        mem.kfree(p)
    }

    @Test func kreallocKeepsContents() throws {
        let mem = try smallMemory()
        let p = try #require(mem.kmalloc(size: 20, gfp: .kernel, site: nil))
        for i in 0..<20 { p.storeBytes(of: UInt8(i), toByteOffset: i, as: UInt8.self) }
        let same = try #require(mem.krealloc(p, newSize: 30, gfp: .kernel, site: nil))
        #expect(same == p)                       // still fits kmalloc-32
        let moved = try #require(mem.krealloc(same, newSize: 300, gfp: [.kernel, .zero], site: nil))
        #expect(moved != p)
        #expect((0..<20).allSatisfy { moved.load(fromByteOffset: $0, as: UInt8.self) == UInt8($0) })
        #expect((30..<300).allSatisfy { moved.load(fromByteOffset: $0, as: UInt8.self) == 0 })
        #expect(mem.statistics.kmallocBytes == 300)
        #expect(mem.krealloc(moved, newSize: 0, gfp: .kernel, site: nil) == SimulatedMemory.zeroSizePointer)
        #expect(mem.statistics.kmallocObjects == 0)
    }

    @Test func badFreesAreReportedInSLUBsWords() throws {
        let mem = try smallMemory()
        let p = try #require(mem.kmalloc(size: 64, gfp: .kernel, site: nil))
        swiommu_warn_reset()
        swiommu_log_reset()
        mem.kfree(p + 8)
        #expect(swiommu_log_contains("BUG kmalloc-64 (Not tainted): Invalid object pointer"))
        mem.kfree(p)
        mem.kfree(p)
        #expect(swiommu_log_contains("BUG kmalloc-64 (Not tainted): Object already free"))
        var local = 0
        withUnsafeMutablePointer(to: &local) { mem.kfree($0) }
        #expect(swiommu_log_contains("Attempt to free invalid pointer"))
        #expect(swiommu_warn_count() == 3)
        #expect(mem.statistics.kmallocObjects == 0)
    }
}

@Suite struct KmallocRoundupTests {
    @Test func sizeClassesAreSLUBs() throws {
        let mem = try smallMemory()
        let cases: [(Int, Int)] = [(0, 0), (1, 8), (8, 8), (9, 16), (65, 96), (96, 96), (97, 128), (129, 192),
                                   (193, 256), (4097, 8192), (8192, 8192), (8193, 16384), (16385, 32768)]
        for (size, want) in cases { #expect(mem.kmallocSizeRoundup(size) == want, "\(size)") }
        // Beyond KMALLOC_MAX_SIZE, kmalloc() fails: the size comes back as it is.
        let max = mem.geometry.size << mem.geometry.maxOrder
        #expect(mem.kmallocSizeRoundup(max + 1) == max + 1)
    }

    @Test func onlyUnalignedSmallSizesBounce() throws {
        // dma_kmalloc_size_aligned: 128-byte multiples and anything from 256 up are safe.
        let mem = try smallMemory()
        let bounce = (1...300).filter { !($0 >= 256 || mem.kmallocSizeRoundup($0) % 128 == 0) }
        #expect(bounce == Array(1...96) + Array(129...192))
    }

    /// Without swiotlb (swiotlb=noforce), 6.17 keeps every kmalloc object on a 128-byte cache line: the
    /// classes below 128 and the 192 one are served by the 128 and 256 ones, so no size needs a bounce.
    @Test func aCacheLineMinimumAlignmentFoldsTheSmallClasses() throws {
        let mem = try smallMemory()
        let early = try #require(mem.kmalloc(size: 8, gfp: .kernel, site: nil))
        #expect(mem.kmallocMinAlign == 8)
        mem.setKmallocMinAlign(128)
        #expect(mem.kmallocMinAlign == 128)
        let cases: [(Int, Int)] = [(1, 128), (8, 128), (96, 128), (128, 128), (129, 256), (192, 256), (193, 256),
                                   (257, 512)]
        for (size, want) in cases {
            #expect(mem.kmallocSizeRoundup(size) == want, "\(size)")
            let p = try #require(mem.kmalloc(size: size, gfp: .kernel, site: nil))
            #expect(mem.ksize(p) == want, "\(size)")
            #expect(UInt(bitPattern: p) % 128 == 0, "\(size)")
            mem.kfree(p)
        }
        #expect((1...300).allSatisfy { $0 >= 256 || mem.kmallocSizeRoundup($0) % 128 == 0 })
        // An object from before keeps its cache.
        #expect(mem.ksize(early) == 8)
        mem.kfree(early)
        #expect(mem.statistics.kmallocObjects == 0)
    }
}
