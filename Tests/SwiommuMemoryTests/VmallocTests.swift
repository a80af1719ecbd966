// vmalloc and vmap: virtually contiguous, physically scattered, aliasing the linear map.
import Testing
import Glibc
import CKernel
@testable import SwiommuBase
@testable import SwiommuMemory

@Suite struct VmallocTests {
    @Test func vmallocIsContiguousForTheCPUOnly() throws {
        let mem = try smallMemory()
        let v = try #require(mem.vmalloc(size: 5 * 4096, zero: true, site: nil))
        #expect(mem.isVmallocAddress(v))
        let frames = (0..<5).map { mem.physical.physicalAddress(of: mem.vmallocToPage(v + $0 * 4096)!)! }
        for i in 1..<5 { #expect(frames[i] != frames[i - 1] + 4096, "pages \(i - 1) and \(i) are contiguous") }
        // The same bytes through the linear map.
        strcpy(v.assumingMemoryBound(to: CChar.self) + 4096 + 7, "alias")
        let linear = mem.physical.virtualAddress(of: frames[1])!
        #expect(String(cString: linear.assumingMemoryBound(to: CChar.self) + 7) == "alias")
        #expect(mem.physicalAddress(ofAnyVirtual: v + 4096 + 7) == frames[1] + 7)
        mem.vfree(v)
        #expect(mem.statistics.vmallocAreas == 0)
        #expect(mem.vmallocToPage(v) == nil)
    }

    @Test func vmapAliasesPagesWithoutOwningThem() throws {
        let mem = try smallMemory()
        let a = try #require(mem.allocatePages(order: 0, gfp: .kernel, site: nil))
        let b = try #require(mem.allocatePages(order: 0, gfp: .dma32, site: nil))
        var pages: [UnsafeMutablePointer<PageFrame>?] = [b, a]
        let v = try #require(mem.vmap(&pages, count: 2, cached: true, site: nil))
        v.storeBytes(of: 0xdead_beef, toByteOffset: 4096, as: UInt32.self)
        #expect(mem.physical.virtualAddress(of: a)!.load(as: UInt32.self) == 0xdead_beef)
        #expect(mem.statistics.vmapAreas == 1)
        mem.vunmap(v)
        #expect(mem.statistics.vmapAreas == 0)
        #expect(mem.physical.virtualAddress(of: a)!.load(as: UInt32.self) == 0xdead_beef)
        mem.freePages(a, order: 0)
        mem.freePages(b, order: 0)
    }

    @Test func unknownAreasAreReported() throws {
        let mem = try smallMemory()
        let v = try #require(mem.vmalloc(size: 100, zero: false, site: nil))
        swiommu_warn_reset()
        mem.vfree(v + 4096)
        mem.vunmap(v)   // a vmalloc area is not a vmap area
        #expect(swiommu_warn_count() == 2)
        #expect(swiommu_log_contains("Trying to vfree() nonexistent vm area"))
        #expect(swiommu_log_contains("Trying to vunmap() nonexistent vm area"))
        mem.vfree(v)
        mem.vfree(v)
        #expect(swiommu_warn_count() == 3)
    }

    @Test func addressSpaceIsReused() throws {
        let mem = try smallMemory()
        let a = try #require(mem.vmalloc(size: 8192, zero: false, site: nil))
        mem.vfree(a)
        let b = try #require(mem.vmalloc(size: 8192, zero: false, site: nil))
        #expect(a == b)
        mem.vfree(b)
    }
}

@Suite struct CacheModelTests {
    @Test func nonCoherentDeviceSeesMemoryNotTheCPUsCache() throws {
        let mem = try smallMemory()
        let p = try #require(mem.allocatePages(order: 0, gfp: .kernel, site: nil))
        let pa = mem.physical.physicalAddress(of: p)!
        let cpu = mem.physical.virtualAddress(of: p)!
        memset(cpu, 0, 4096)
        cpu.storeBytes(of: 1, as: UInt32.self)
        #expect(mem.maintainCache(.clean, pa, size: 64))
        cpu.storeBytes(of: 2, as: UInt32.self)     // written after the clean: still in the CPU cache
        var seen: UInt32 = 0
        mem.deviceRead(pa, into: &seen, size: 4, coherent: false)
        #expect(seen == 1)
        mem.deviceRead(pa, into: &seen, size: 4, coherent: true)
        #expect(seen == 2)

        var value: UInt32 = 3
        mem.deviceWrite(pa + 64, from: &value, size: 4, coherent: false)
        #expect(cpu.load(fromByteOffset: 64, as: UInt32.self) == 0)
        #expect(mem.maintainCache(.invalidate, pa + 64, size: 4))
        #expect(cpu.load(fromByteOffset: 64, as: UInt32.self) == 3)
        #expect(mem.cacheMaintenanceCount == 2)
        mem.freePages(p, order: 0)
    }

    @Test func maintenanceWorksOnWholeLines() throws {
        let mem = try smallMemory()
        let p = try #require(mem.allocatePages(order: 0, gfp: .kernel, site: nil))
        let pa = mem.physical.physicalAddress(of: p)!
        let cpu = mem.physical.virtualAddress(of: p)!
        memset(cpu, 0, 4096)
        mem.maintainCache(.clean, pa, size: 4096)
        cpu.storeBytes(of: 0xaa, toByteOffset: 70, as: UInt8.self)
        mem.maintainCache(.clean, pa + 64, size: 1)   // the line 64..127 holds byte 70
        var b: UInt8 = 0
        mem.deviceRead(pa + 70, into: &b, size: 1, coherent: false)
        #expect(b == 0xaa)
        mem.freePages(p, order: 0)
    }

    @Test func uncleanedCPUWritesNeverReachMemory() throws {
        let mem = try smallMemory()
        let p = try #require(mem.allocatePages(order: 0, gfp: .kernel, site: nil))
        let pa = mem.physical.physicalAddress(of: p)!
        mem.physical.virtualAddress(of: p)!.storeBytes(of: 0x1234_5678, as: UInt32.self)
        var seen: UInt32 = 0xffff_ffff
        mem.deviceRead(pa, into: &seen, size: 4, coherent: false)
        #expect(seen == 0)            // never cleaned: not in memory
        mem.maintainCache(.clean, pa, size: 4)
        mem.deviceRead(pa, into: &seen, size: 4, coherent: false)
        #expect(seen == 0x1234_5678)
        mem.freePages(p, order: 0)
    }

    @Test func rangesOutsideRAMFail() throws {
        let mem = try smallMemory()
        var b: UInt8 = 0
        #expect(!mem.deviceRead(PhysicalAddress(0x1000), into: &b, size: 1, coherent: true))
        #expect(!mem.maintainCache(.flush, PhysicalAddress(0x8000_0000 + (8 << 20) - 1), size: 2))
    }
}

@Suite struct LeakReportTests {
    @Test func liveAllocationsAreListed() throws {
        let mem = try smallMemory()
        let k = try #require(mem.kmalloc(size: 24, gfp: .kernel, site: nil))
        let p = try #require(mem.allocatePages(order: 1, gfp: .kernel, site: nil))
        let v = try #require(mem.vmalloc(size: 10, zero: false, site: nil))
        let leaks = mem.liveAllocations()
        #expect(leaks.count == 3)
        #expect(leaks.contains { $0.allocator == "kmalloc (kmalloc-32)" && $0.bytes == 24 })
        #expect(leaks.contains { $0.allocator == "alloc_pages(order 1)" && $0.bytes == 8192 })
        #expect(leaks.contains { $0.allocator == "vmalloc" && $0.bytes == 10 })
        mem.kfree(k)
        mem.freePages(p, order: 1)
        mem.vfree(v)
        #expect(mem.reportLeaks(print: false) == 0)
    }
}
