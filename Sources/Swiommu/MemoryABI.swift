// The kernel's memory API (linux/gfp.h, mm.h, slab.h, vmalloc.h, asm/io.h) and swiommu/memory.h.
import Glibc
import CKernel
import SwiommuBase
import SwiommuMemory
import SwiommuPlatform

// MARK: Page allocator

@c(alloc_pages_noprof)
public func abiAllocPages(_ gfp: gfp_t, _ order: CUnsignedInt) -> UnsafeMutablePointer<page>? {
    withMachine("alloc_pages", nil) {
        $0.memory.allocatePages(order: Int(order), gfp: GFP(rawValue: gfp), site: currentSite)
    }
}

@c(get_free_pages_noprof)
public func abiGetFreePages(_ gfp: gfp_t, _ order: CUnsignedInt) -> CUnsignedLong {
    guard let m = machine("__get_free_pages"),
          let p = m.memory.allocatePages(order: Int(order), gfp: GFP(rawValue: gfp), site: currentSite) else { return 0 }
    return CUnsignedLong(UInt(bitPattern: m.memory.physical.virtualAddress(of: p)))
}

@c(__free_pages)
public func abiFreePages(_ p: UnsafeMutablePointer<page>?, _ order: CUnsignedInt) {
    guard let p else { return }
    withMachine("__free_pages", ()) { $0.memory.freePages(p, order: Int(order)) }
}

@c(free_pages)
public func abiFreePagesByAddress(_ addr: CUnsignedLong, _ order: CUnsignedInt) {
    guard addr != 0, let m = machine("free_pages") else { return }
    guard let raw = UnsafeRawPointer(bitPattern: UInt(addr)),
          let p = m.memory.physical.page(containingVirtual: raw),
          m.memory.physical.virtualAddress(of: p) == UnsafeMutableRawPointer(mutating: raw) else {
        Kernel.warn("free_pages(\(Kernel.hex(addr))): not a page-aligned linear-map address")
        return
    }
    m.memory.freePages(p, order: Int(order))
}

// MARK: Frames and the linear map

@c(pfn_to_page)
public func abiPfnToPage(_ pfn: CUnsignedLong) -> UnsafeMutablePointer<page>? {
    guard let m = machine("pfn_to_page") else { return nil }
    guard let p = m.memory.physical.page(for: PFN(UInt64(pfn))) else {
        Kernel.warn("pfn_to_page(\(Kernel.hex(pfn))): frame outside simulated RAM")
        return nil
    }
    return p
}

@c(page_to_pfn)
public func abiPageToPfn(_ p: UnsafePointer<page>?) -> CUnsignedLong {
    guard let p, let m = machine("page_to_pfn") else { return 0 }
    guard let pfn = m.memory.physical.pfn(of: p) else {
        Kernel.warn("page_to_pfn(\(Kernel.hex(UInt(bitPattern: p)))): not a struct page of simulated RAM")
        return 0
    }
    return CUnsignedLong(pfn.rawValue)
}

@c(page_to_phys)
public func abiPageToPhys(_ p: UnsafePointer<page>?) -> phys_addr_t {
    guard let p else { return 0 }
    return withMachine("page_to_phys", 0) { m in
        guard let pa = m.memory.physical.physicalAddress(of: p) else {
            Kernel.warn("page_to_phys(\(Kernel.hex(UInt(bitPattern: p)))): not a struct page of simulated RAM")
            return 0
        }
        return pa.rawValue
    }
}

@c(page_address)
public func abiPageAddress(_ p: UnsafePointer<page>?) -> UnsafeMutableRawPointer? {
    guard let p else { return nil }
    return withMachine("page_address", nil) { m in
        guard let v = m.memory.physical.virtualAddress(of: p) else {
            Kernel.warn("page_address(\(Kernel.hex(UInt(bitPattern: p)))): not a struct page of simulated RAM")
            return nil
        }
        return v
    }
}

@c(virt_to_page)
public func abiVirtToPage(_ addr: UnsafeRawPointer?) -> UnsafeMutablePointer<page>? {
    guard let addr, let m = machine("virt_to_page") else { return nil }
    guard let p = m.memory.physical.page(containingVirtual: addr) else {
        let hint = m.memory.isVmallocAddress(addr) ? " (a vmalloc address: use vmalloc_to_page())" : ""
        Kernel.warn("virt_to_page(\(Kernel.hex(UInt(bitPattern: addr)))): not in the linear map\(hint)")
        return nil
    }
    return p
}

@c(virt_addr_valid)
public func abiVirtAddrValid(_ addr: UnsafeRawPointer?) -> Bool {
    guard let addr, let m = Machine.current else { return false }
    return m.memory.physical.bankIndex(containingVirtual: addr) != nil
}

@c(swiommu_virt_to_phys)
public func abiVirtToPhys(_ addr: UnsafeRawPointer?) -> phys_addr_t {
    guard let addr else { return 0 }
    return withMachine("virt_to_phys", 0) { m in
        guard let pa = m.memory.physical.physicalAddress(ofVirtual: addr) else {
            let hint = m.memory.isVmallocAddress(addr) ? " (a vmalloc address: use vmalloc_to_page())" : ""
            Kernel.warn("virt_to_phys used for non-linear address: \(Kernel.hex(UInt(bitPattern: addr)))\(hint)")
            return 0
        }
        return pa.rawValue
    }
}

@c(phys_to_virt)
public func abiPhysToVirt(_ address: phys_addr_t) -> UnsafeMutableRawPointer? {
    withMachine("phys_to_virt", nil) { m in
        guard let v = m.memory.physical.virtualAddress(of: PhysicalAddress(address)) else {
            Kernel.warn("phys_to_virt(\(Kernel.hex(address))): address outside simulated RAM")
            return nil
        }
        return v
    }
}

// MARK: kmalloc

@c(kmalloc_noprof)
public func abiKmalloc(_ size: size_t, _ flags: gfp_t) -> UnsafeMutableRawPointer? {
    withMachine("kmalloc", nil) { $0.memory.kmalloc(size: size, gfp: GFP(rawValue: flags), site: currentSite) }
}

@c(krealloc_noprof)
public func abiKrealloc(_ p: UnsafeRawPointer?, _ newSize: size_t, _ flags: gfp_t) -> UnsafeMutableRawPointer? {
    guard let m = machine("krealloc") else { return nil }
    return m.memory.krealloc(p, newSize: newSize, gfp: GFP(rawValue: flags), site: currentSite)
}

@c(kfree)
public func abiKfree(_ p: UnsafeRawPointer?) {
    guard let p, UInt(bitPattern: p) > 16 else { return }
    withMachine("kfree", ()) { $0.memory.kfree(p) }
}

@c(ksize)
public func abiKsize(_ p: UnsafeRawPointer?) -> size_t {
    guard let m = Machine.current else { return 0 }
    return m.memory.ksize(p)
}

@c(kmemdup_noprof)
public func abiKmemdup(_ src: UnsafeRawPointer?, _ len: size_t, _ gfp: gfp_t) -> UnsafeMutableRawPointer? {
    guard let m = machine("kmemdup") else { return nil }
    guard let src else {
        Kernel.warn("kmemdup: NULL source")
        return nil
    }
    guard let p = m.memory.kmalloc(size: len, gfp: GFP(rawValue: gfp), site: currentSite) else { return nil }
    if len > 0 { memcpy(p, src, len) }
    return p
}

@c(kstrdup)
public func abiKstrdup(_ s: UnsafePointer<CChar>?, _ gfp: gfp_t) -> UnsafeMutablePointer<CChar>? {
    guard let s, let m = machine("kstrdup") else { return nil }
    let len = strlen(s) + 1
    guard let p = m.memory.kmalloc(size: len, gfp: GFP(rawValue: gfp), site: currentSite) else { return nil }
    memcpy(p, s, len)
    return p.assumingMemoryBound(to: CChar.self)
}

@c(kvmalloc_node_noprof)
public func abiKvmalloc(_ size: size_t, _ flags: gfp_t, _ node: CInt) -> UnsafeMutableRawPointer? {
    guard let m = machine("kvmalloc") else { return nil }
    let gfp = GFP(rawValue: flags)
    // kvmalloc_node: try kmalloc quietly for anything above a page, then fall back to vmalloc.
    if let p = m.memory.kmalloc(size: size, gfp: size > m.geometry.size ? gfp.union(.noWarn) : gfp, site: currentSite) {
        return p
    }
    guard size > m.geometry.size else { return nil }
    return m.memory.vmalloc(size: size, zero: gfp.contains(.zero), site: currentSite)
}

@c(kvfree)
public func abiKvfree(_ p: UnsafeRawPointer?) {
    guard let p, UInt(bitPattern: p) > 16, let m = machine("kvfree") else { return }
    if m.memory.isVmallocAddress(p) { m.memory.vfree(p) } else { m.memory.kfree(p) }
}

// MARK: vmalloc

@c(vmalloc_noprof)
public func abiVmalloc(_ size: CUnsignedLong) -> UnsafeMutableRawPointer? {
    guard let m = machine("vmalloc") else { return nil }
    return m.memory.vmalloc(size: Int(size), zero: false, site: currentSite)
}

@c(vzalloc_noprof)
public func abiVzalloc(_ size: CUnsignedLong) -> UnsafeMutableRawPointer? {
    guard let m = machine("vzalloc") else { return nil }
    return m.memory.vmalloc(size: Int(size), zero: true, site: currentSite)
}

@c(vfree)
public func abiVfree(_ p: UnsafeRawPointer?) {
    guard let p, let m = machine("vfree") else { return }
    m.memory.vfree(p)
}

@c(vmap)
public func abiVmap(_ pages: UnsafeMutablePointer<UnsafeMutablePointer<page>?>?, _ count: CUnsignedInt,
                    _ flags: CUnsignedLong, _ prot: pgprot_t) -> UnsafeMutableRawPointer? {
    guard let m = machine("vmap") else { return nil }
    guard let pages else {
        Kernel.warn("vmap: NULL page array")
        return nil
    }
    // pgprot_noncached()/pgprot_writecombine() set bits 4 and 5 (include/linux/vmalloc.h).
    return m.memory.vmap(pages, count: Int(count), cached: prot.pgprot & 0x30 == 0, site: currentSite)
}

@c(vunmap)
public func abiVunmap(_ p: UnsafeRawPointer?) {
    guard let p, let m = machine("vunmap") else { return }
    m.memory.vunmap(p)
}

@c(vmalloc_to_page)
public func abiVmallocToPage(_ p: UnsafeRawPointer?) -> UnsafeMutablePointer<page>? {
    guard let p, let m = machine("vmalloc_to_page") else { return nil }
    return m.memory.vmallocToPage(p)
}

@c(vmalloc_to_pfn)
public func abiVmallocToPfn(_ p: UnsafeRawPointer?) -> CUnsignedLong {
    guard let p, let m = machine("vmalloc_to_pfn"), let pg = m.memory.vmallocToPage(p),
          let pfn = m.memory.physical.pfn(of: pg) else { return 0 }
    return CUnsignedLong(pfn.rawValue)
}

@c(is_vmalloc_addr)
public func abiIsVmallocAddr(_ p: UnsafeRawPointer?) -> Bool {
    guard let p, let m = Machine.current else { return false }
    return m.memory.isVmallocAddress(p)
}

// MARK: swiommu/memory.h

@c(swiommu_mem_get_stats)
public func abiMemGetStats(_ out: UnsafeMutablePointer<swiommu_mem_stats>?) -> CInt {
    guard let out else { return Errno.invalid.negated }
    guard let m = Machine.current else { return Errno.noDevice.negated }
    let s = m.memory.statistics
    out.pointee = swiommu_mem_stats(ram_bytes: s.ramBytes, free_bytes: s.freeBytes, page_blocks: s.pageBlocks,
                                    page_bytes: s.pageBytes, kmalloc_objects: s.kmallocObjects,
                                    kmalloc_bytes: s.kmallocBytes, vmalloc_areas: s.vmallocAreas,
                                    vmalloc_bytes: s.vmallocBytes, vmap_areas: s.vmapAreas)
    return 0
}

@c(swiommu_mem_check_leaks)
public func abiMemCheckLeaks(_ print: Bool) -> CLong {
    guard let m = Machine.current else { return CLong(Errno.noDevice.negated) }
    return CLong(m.memory.reportLeaks(print: print, sinceBoot: true))
}

@c(swiommu_ram_bank)
public func abiRamBank(_ index: CUnsignedInt, _ start: UnsafeMutablePointer<phys_addr_t>?,
                       _ size: UnsafeMutablePointer<u64>?) -> CInt {
    guard let start, let size else { return Errno.invalid.negated }
    guard let m = Machine.current else { return Errno.noDevice.negated }
    guard Int(index) < m.memory.physical.banks.count else { return Errno.noEntry.negated }
    start.pointee = m.memory.physical.banks[Int(index)].start.rawValue
    size.pointee = m.memory.physical.banks[Int(index)].size
    return 0
}

private func maintain(_ op: CacheMaintenance, _ pa: phys_addr_t, _ size: size_t, _ name: StaticString) -> CInt {
    guard let m = machine(name) else { return Errno.noDevice.negated }
    return m.memory.maintainCache(op, PhysicalAddress(pa), size: size) ? 0 : Errno.fault.negated
}

@c(swiommu_cache_clean)
public func abiCacheClean(_ pa: phys_addr_t, _ size: size_t) -> CInt { maintain(.clean, pa, size, "swiommu_cache_clean") }

@c(swiommu_cache_invalidate)
public func abiCacheInvalidate(_ pa: phys_addr_t, _ size: size_t) -> CInt {
    maintain(.invalidate, pa, size, "swiommu_cache_invalidate")
}

@c(swiommu_cache_flush)
public func abiCacheFlush(_ pa: phys_addr_t, _ size: size_t) -> CInt { maintain(.flush, pa, size, "swiommu_cache_flush") }

@c(swiommu_mem_read)
public func abiMemRead(_ pa: phys_addr_t, _ dst: UnsafeMutableRawPointer?, _ size: size_t, _ coherent: Bool) -> CInt {
    guard let dst else { return Errno.invalid.negated }
    guard let m = machine("swiommu_mem_read") else { return Errno.noDevice.negated }
    return m.memory.deviceRead(PhysicalAddress(pa), into: dst, size: size, coherent: coherent) ? 0 : Errno.fault.negated
}

@c(swiommu_mem_write)
public func abiMemWrite(_ pa: phys_addr_t, _ src: UnsafeRawPointer?, _ size: size_t, _ coherent: Bool) -> CInt {
    guard let src else { return Errno.invalid.negated }
    guard let m = machine("swiommu_mem_write") else { return Errno.noDevice.negated }
    return m.memory.deviceWrite(PhysicalAddress(pa), from: src, size: size, coherent: coherent) ? 0 : Errno.fault.negated
}

@c(swiommu_cache_maintenance_count)
public func abiCacheMaintenanceCount() -> CUnsignedLong {
    CUnsignedLong(Machine.current?.memory.cacheMaintenanceCount ?? 0)
}
