// dma-debug's checks as kernel/dma/debug.c makes them, in its order and wording: what each debug_dma_*
// hook records, the unmap, sync and scatterlist checks, the unbind leak check and the dump. The hooks run
// only while DMADebug.active; DMAHooks calls them after one branch.
// Kernel: kernel/dma/debug.c (6.17, with 7e2368a21741: dma_alloc_pages is a "noncoherent" entry).
import Glibc
import CKernel
import SwiommuBase
import SwiommuMemory
import SwiommuPlatform

extension DMADebug {
    typealias Reference = DebugTable.Reference

    // MARK: Adding entries. Kernel: add_dma_entry.

    /// Hash the entry, then track its first cache line: a second live mapping starting in the same line
    /// that the device may write is reported (unless DMA_ATTR_SKIP_CPU_SYNC), beyond 7 once per boot.
    /// `trackLine` false: a further route of one dma_map_page_attrs_multi() call, no second mapping.
    static func add(_ e: UnsafeMutablePointer<DebugEntry>, _ attributes: DMAAttributes, trackLine: Bool = true) {
        let b = DebugTable.bucket(e.pointee.devAddr)
        DebugTable.lock(b)
        DebugTable.append(e, to: b)
        DebugTable.unlock(b)
        guard trackLine else { return }
        let overlap = DebugTable.lineInsert(e)
        guard overlap > 0 else { return }
        let line = DebugTable.lineNumber(e.pointee.paddr)
        if overlap > DebugTable.maxOverlap { overlapLimit(e, line: line) }
        if !attributes.contains(.skipCPUSync) {
            report(e.pointee.dev, .overlap, address: e.pointee.devAddr, size: e.pointee.size,
                   "cacheline tracking EEXIST, overlapping mappings aren't supported")
        }
    }

    /// A new entry, filled in, prepared for swiommu's checks and added; false when the pool is out (the
    /// kernel's dma_entry_alloc, then add_dma_entry).
    @discardableResult
    static func enter(_ dev: UnsafeMutablePointer<Device>, _ type: DebugEntryType, devAddr: UInt64, size: Int,
                      paddr: UInt64, direction: DMADirection, mapError: MapErrorCheck = .notApplicable,
                      sgCallEnts: Int32 = 0, sgMappedEnts: Int32 = 0, route: DMARoute? = nil,
                      pieces: UnsafeMutablePointer<DebugSGPieces>? = nil, attributes: DMAAttributes = [],
                      trackLine: Bool = true) -> Bool {
        guard let e = DebugTable.allocate(size: UInt64(size)) else { return false }
        e.pointee = DebugEntry(dev: dev, devAddr: devAddr, size: UInt64(size), paddr: paddr, type: type, direction: direction,
                               mapError: mapError, sgCallEnts: sgCallEnts, sgMappedEnts: sgMappedEnts)
        track(e, dev, route: route, pieces: pieces)
        add(e, attributes, trackLine: trackLine)
        return true
    }

    // MARK: Streaming maps. Kernel: debug_dma_map_page, debug_dma_map_single, debug_dma_mapping_error.

    /// `primary`: false for the routes of a dma_map_page_attrs_multi() call other than the one whose address
    /// it returns: the driver checks that one, and the buffer is mapped once, whatever the channels (swiommu's
    /// extension has no kernel counterpart).
    @inline(never)
    static func mapPage(_ dev: UnsafeMutablePointer<Device>, phys: PhysicalAddress, size: Int, direction: DMADirection,
                        attributes: DMAAttributes, result: DMAAddress, route: DMARoute?, primary: Bool) {
        if result.isMappingError { return }
        // check_for_stack and check_for_illegal_area have nothing to find in a page of simulated RAM: it holds
        // no stack and no program text (mapSingle looks at the CPU address instead).
        enter(dev, .single, devAddr: result.rawValue, size: size, paddr: phys.rawValue, direction: direction,
              mapError: primary ? .notChecked : .notApplicable, route: route, attributes: attributes, trackLine: primary)
        if primary && CPUTrap.on && CPUTrap.applies(dev, direction) {
            CPUTrap.arm(dev, pa: phys.rawValue, size: UInt64(size), key: result.rawValue, keyLength: UInt64(size),
                        devAddr: result.rawValue, direction: direction)
        }
    }

    /// The checks of dma_map_single()'s CPU address. Memory that is not simulated RAM's linear map is an
    /// "invalid area", unless it is the calling thread's stack or the program's text or read-only data,
    /// which the kernel finds from the page (check_for_stack, check_for_illegal_area) and swiommu from the
    /// address, since such memory has no page here.
    @inline(never)
    static func mapSingle(_ dev: UnsafeMutablePointer<Device>, address: UnsafeRawPointer?, length: Int) {
        let (linear, vmalloc) = DMALayer.withCurrent { layer in
            guard let address else { return (false, false) }
            return (layer.memory.physical.bankIndex(containingVirtual: address) != nil, layer.memory.isVmallocAddress(address))
        } ?? (false, false)
        let at = UInt64(UInt(bitPattern: address))
        func where_() -> String { "[addr=\(DebugFormat.pointer(address))] [len=\(length)]" }
        if !linear {
            if let address, !vmalloc, HostMemory.isOnStack(address) {
                report(dev, .mapStack, address: at, size: UInt64(length),
                       "device driver maps memory from stack [addr=\(DebugFormat.pointer(address))]")
            } else if let address, !vmalloc, HostMemory.isReadOnlyImage(address) {
                report(dev, .mapText, address: at, size: UInt64(length),
                       "device driver maps memory from kernel text or rodata \(where_())")
            } else {
                report(dev, .mapInvalid, address: at, size: UInt64(length), "device driver maps memory from invalid area \(where_())")
            }
        }
        if vmalloc {
            report(dev, .mapVmalloc, address: at, size: UInt64(length), "device driver maps memory from vmalloc area \(where_())")
        }
    }

    /// The first unchecked mapping at exactly (dev, address) is checked now.
    @inline(never)
    static func mappingError(_ dev: UnsafeMutablePointer<Device>, address: DMAAddress) {
        let b = DebugTable.bucket(address.rawValue)
        DebugTable.lock(b)
        var e = b.pointee.head
        while let c = e {
            e = c.pointee.next
            if c.pointee.devAddr == address.rawValue && c.pointee.dev == dev && c.pointee.mapError == .notChecked {
                c.pointee.mapError = .checked
                break
            }
        }
        DebugTable.unlock(b)
    }

    @inline(never)
    static func unmapPage(_ dev: UnsafeMutablePointer<Device>, address: DMAAddress, size: Int, direction: DMADirection) {
        checkUnmap(Reference(dev: dev, devAddr: address.rawValue, size: UInt64(size), type: .single, direction: direction))
    }

    // MARK: Unmaps and frees. Kernel: check_unmap.

    static func checkUnmap(_ ref: Reference) {
        let (b, found) = DebugTable.findExact(ref)
        guard let e = found else {
            DebugTable.unlock(b)
            if DMAAddress(ref.devAddr).isMappingError {
                report(ref.dev, .freeInvalid, address: ref.devAddr, size: ref.size,
                       "device driver tries to free an invalid DMA memory address")
            } else {
                report(ref.dev, .freeNotAllocated, address: ref.devAddr, size: ref.size,
                       "device driver tries to free DMA memory it has not allocated [device address="
                       + "\(DebugFormat.address(ref.devAddr))] [size=\(ref.size) bytes]")
            }
            return
        }
        // Out of the hash before reporting, so that no lock is held while the log is written.
        DebugTable.remove(e, from: b)
        DebugTable.unlock(b)
        let entry = e.pointee
        // Built only for a report: unmaps are hot.
        func at() -> String { "[device address=\(DebugFormat.address(ref.devAddr))]" }
        if ref.size != entry.size {
            report(ref.dev, .freeSize, address: ref.devAddr, size: ref.size,
                   "device driver frees DMA memory with different size \(at()) [map size=\(entry.size) bytes] "
                   + "[unmap size=\(ref.size) bytes]")
        }
        if ref.type != entry.type {
            report(ref.dev, .freeFunction, address: ref.devAddr, size: ref.size,
                   "device driver frees DMA memory with wrong function \(at()) [size=\(ref.size) bytes] "
                   + "[mapped as \(entry.type.name)] [unmapped as \(ref.type.name)]")
        } else if (entry.type == .coherent || entry.type == .noncoherent) && ref.paddr != entry.paddr {
            // The kernel's format: "0x%pa", and %pa prints its own 0x.
            report(ref.dev, .freeCPUAddress, address: ref.devAddr, size: ref.size,
                   "device driver frees DMA memory with different CPU address \(at()) [size=\(ref.size) bytes] "
                   + "[cpu alloc address=0x\(DebugFormat.pa(entry.paddr))] [cpu free address=0x\(DebugFormat.pa(ref.paddr))]")
        }
        if ref.sgCallEnts != 0 && ref.type == .scatterGather && ref.sgCallEnts != entry.sgCallEnts {
            report(ref.dev, .freeSGCount, address: ref.devAddr, size: ref.size,
                   "device driver frees DMA sg list with different entry count [map count=\(entry.sgCallEnts)] "
                   + "[unmap count=\(ref.sgCallEnts)]")
        }
        if ref.direction != entry.direction {
            report(ref.dev, .freeDirection, address: ref.devAddr, size: ref.size,
                   "device driver frees DMA memory with different direction \(at()) [size=\(ref.size) bytes] "
                   + "[mapped with \(entry.direction)] [unmapped with \(ref.direction)]")
        }
        if entry.mapError == .notChecked {
            // The kernel's text has no space before the first '['.
            report(ref.dev, .mapErrorNotChecked, address: ref.devAddr, size: ref.size,
                   "device driver failed to check map error\(at()) [size=\(ref.size) bytes] [mapped as \(entry.type.name)]")
        }
        DebugTable.free(e)
    }

    // MARK: Scatterlists. Kernel: debug_dma_map_sg, check_sg_segment, debug_dma_unmap_sg.

    @inline(never)
    static func mapSG(_ dev: UnsafeMutablePointer<Device>, _ sgl: UnsafeMutablePointer<Scatterlist>, nents: Int32,
                      mapped: Int32, direction: DMADirection, attributes: DMAAttributes) {
        // check_for_stack, check_for_illegal_area: nothing to find in simulated RAM (see mapPage).
        DMALayer.withCurrent { layer in
            let pieces = direction.deviceReads ? makePieces(sgl, nents, layer.memory) : nil
            var s: UnsafeMutablePointer<Scatterlist>? = sgl
            var i: Int32 = 0
            while i < mapped, let cur = s {
                checkSegment(dev, cur)
                guard enter(dev, .scatterGather, devAddr: cur.pointee.dma_address, size: Int(cur.pointee.dma_length),
                            paddr: SG.physicalAddress(cur, layer.memory)?.rawValue ?? 0, direction: direction,
                            sgCallEnts: nents, sgMappedEnts: mapped, pieces: pieces, attributes: attributes)
                else { break }
                i += 1
                s = SG.next(cur)
            }
            if let pieces, pieces.pointee.references == 0 { free(pieces) }
        }
        if mapped > 0 && CPUTrap.on && CPUTrap.applies(dev, direction) { CPUTrap.armSG(dev, sgl, nents: nents, direction: direction) }
    }

    /// Kernel: check_sg_segment (dma_get_max_seg_size, dma_get_seg_boundary).
    static func checkSegment(_ dev: UnsafeMutablePointer<Device>, _ s: UnsafeMutablePointer<Scatterlist>) {
        let maxSegment = dmaMaxSegmentSize(dev)
        let boundary = UInt64(dmaSegmentBoundary(dev))
        let length = s.pointee.length
        if length > maxSegment {
            report(dev, .sgSegmentLength, address: s.pointee.dma_address, size: UInt64(length),
                   "mapping sg segment longer than device claims to support [len=\(length)] [max=\(maxSegment)]")
        }
        let start = s.pointee.dma_address
        let end = start &+ UInt64(s.pointee.dma_length) &- 1
        if (start ^ end) & ~boundary != 0 {
            report(dev, .sgSegmentBoundary, address: start, size: UInt64(s.pointee.dma_length),
                   "mapping sg segment across boundary [start=\(DebugFormat.address(start))] [end=\(DebugFormat.address(end))] "
                   + "[boundary=\(DebugFormat.address(boundary))]")
        }
    }

    static func sgReference(_ dev: UnsafeMutablePointer<Device>, _ s: UnsafeMutablePointer<Scatterlist>, nents: Int32,
                            direction: DMADirection, _ memory: SimulatedMemory) -> Reference {
        Reference(dev: dev, devAddr: s.pointee.dma_address, size: UInt64(s.pointee.dma_length), type: .scatterGather,
                  direction: direction, sgCallEnts: nents, paddr: SG.physicalAddress(s, memory)?.rawValue ?? 0)
    }

    /// The mapped count of the map_sg call whose first entry `ref` names; 0 when unknown. Kernel:
    /// get_nr_mapped_entries.
    static func mappedEntries(_ ref: Reference) -> Int32 {
        let (b, e) = DebugTable.findExact(ref)
        let n = e?.pointee.sgMappedEnts ?? 0
        DebugTable.unlock(b)
        return n
    }

    /// The list's references, as the kernel's unmap and sync loops walk them: the mapped count comes from
    /// the first entry's mapping and bounds the walk; when it is unknown, unmap checks every entry
    /// (`allWhenUnknown`), sync none.
    static func forEachReference(_ dev: UnsafeMutablePointer<Device>, _ sgl: UnsafeMutablePointer<Scatterlist>, nents: Int32,
                                 direction: DMADirection, allWhenUnknown: Bool, _ body: (Reference, Int32) -> Void) {
        DMALayer.withCurrent { layer in
            var mapped: Int32 = 0
            var s: UnsafeMutablePointer<Scatterlist>? = sgl
            var i: Int32 = 0
            while i < nents, let cur = s {
                let ref = sgReference(dev, cur, nents: nents, direction: direction, layer.memory)
                if i == 0 { mapped = mappedEntries(ref) }
                if i >= mapped && (mapped != 0 || !allWhenUnknown) { break }
                body(ref, i)
                i += 1
                s = SG.next(cur)
            }
        }
    }

    @inline(never)
    static func unmapSG(_ dev: UnsafeMutablePointer<Device>, _ sgl: UnsafeMutablePointer<Scatterlist>, nents: Int32,
                        direction: DMADirection) {
        forEachReference(dev, sgl, nents: nents, direction: direction, allWhenUnknown: true) { ref, _ in checkUnmap(ref) }
    }

    // MARK: Syncs. Kernel: check_sync, debug_dma_sync_single_for_cpu/device, debug_dma_sync_sg_for_cpu/device.

    @inline(never)
    static func syncSingle(_ dev: UnsafeMutablePointer<Device>, address: DMAAddress, size: Int, direction: DMADirection,
                           forDevice: Bool) {
        checkSync(dev, Reference(dev: dev, devAddr: address.rawValue, size: UInt64(size), type: .single, direction: direction),
                  toCPU: !forDevice, refreshPieces: true)
    }

    @inline(never)
    static func syncSG(_ dev: UnsafeMutablePointer<Device>, _ sgl: UnsafeMutablePointer<Scatterlist>, nents: Int32,
                       direction: DMADirection, forDevice: Bool) {
        forEachReference(dev, sgl, nents: nents, direction: direction, allWhenUnknown: false) { ref, i in
            checkSync(dev, ref, toCPU: !forDevice, refreshPieces: i == 0)
        }
        if forDevice && CPUTrap.on && CPUTrap.applies(dev, direction) { CPUTrap.armSG(dev, sgl, nents: nents, direction: direction) }
    }

    /// The mapping containing the synced range must exist; unless it is bidirectional, the sync's direction
    /// must be the mapping's. (The kernel's "syncs DMA memory outside allocated range" follows here in the
    /// source, but a mapping found by containment is never smaller than the sync: a sync past the end is
    /// "tries to sync DMA memory it has not allocated".) Then swiommu's ownership: who has the buffer.
    static func checkSync(_ dev: UnsafeMutablePointer<Device>, _ ref: Reference, toCPU: Bool, refreshPieces: Bool) {
        let (b, found) = DebugTable.findContaining(ref)
        guard let e = found else {
            DebugTable.unlock(b)
            report(dev, .syncNotAllocated, address: ref.devAddr, size: ref.size,
                   "device driver tries to sync DMA memory it has not allocated [device address="
                   + "\(DebugFormat.address(ref.devAddr))] [size=\(ref.size) bytes]")
            return
        }
        let tookBackUnsynced = handOver(e, toCPU: toCPU, refreshPieces: refreshPieces)
        let entry = e.pointee
        DebugTable.unlock(b)
        if entry.direction != .bidirectional {
            func which() -> String {
                "[device address=\(DebugFormat.address(ref.devAddr))] [size=\(entry.size) bytes] "
                    + "[mapped with \(entry.direction)] [synced with \(ref.direction)]"
            }
            if ref.direction != entry.direction {
                report(dev, .syncDirection, address: ref.devAddr, size: entry.size,
                       "device driver syncs DMA memory with different direction \(which())")
            }
            if toCPU && entry.direction != .fromDevice && ref.direction != .toDevice {
                report(dev, .syncReadOnly, address: ref.devAddr, size: entry.size,
                       "device driver syncs device read-only DMA memory for cpu \(which())")
            }
            if !toCPU && entry.direction != .toDevice && ref.direction != .fromDevice {
                report(dev, .syncWriteOnly, address: ref.devAddr, size: entry.size,
                       "device driver syncs device write-only DMA memory to device \(which())")
            }
            if ref.sgCallEnts != 0 && ref.type == .scatterGather && ref.sgCallEnts != entry.sgCallEnts {
                report(ref.dev, .syncSGCount, address: ref.devAddr, size: entry.size,
                       "device driver syncs DMA sg list with different entry count [map count=\(entry.sgCallEnts)] "
                       + "[sync count=\(ref.sgCallEnts)]")
            }
        }
        if tookBackUnsynced { cpuReadUnsynced(entry) }
        if !toCPU && entry.type == .single && CPUTrap.on && CPUTrap.applies(dev, entry.direction) {
            CPUTrap.arm(dev, pa: entry.paddr, size: entry.size, key: entry.devAddr, keyLength: entry.size,
                        devAddr: entry.devAddr, direction: entry.direction)
        }
    }

    // MARK: Allocations. Kernel: debug_dma_alloc_coherent, debug_dma_free_coherent, debug_dma_alloc_pages,
    // debug_dma_free_pages, and dma_alloc_noncontiguous's debug_dma_map_sg.

    @inline(never)
    static func allocCoherent(_ dev: UnsafeMutablePointer<Device>, size: Int, handle: DMAAddress,
                              cpuAddress: UnsafeMutableRawPointer?, attributes: DMAAttributes) {
        // Linear and vmalloc addresses only (DMA_ATTR_NO_KERNEL_MAPPING's cookie is neither).
        guard let cpuAddress, let pa = DMALayer.withCurrent({ $0.memory.physicalAddress(ofAnyVirtual: cpuAddress) }) ?? nil
        else { return }
        enter(dev, .coherent, devAddr: handle.rawValue, size: size, paddr: pa.rawValue, direction: .bidirectional,
              attributes: attributes)
    }

    @inline(never)
    static func freeCoherent(_ dev: UnsafeMutablePointer<Device>, size: Int, cpuAddress: UnsafeMutableRawPointer?,
                             handle: DMAAddress) {
        guard let cpuAddress, let pa = DMALayer.withCurrent({ $0.memory.physicalAddress(ofAnyVirtual: cpuAddress) }) ?? nil
        else { return }
        checkUnmap(Reference(dev: dev, devAddr: handle.rawValue, size: UInt64(size), type: .coherent,
                             direction: .bidirectional, paddr: pa.rawValue))
    }

    @inline(never)
    static func allocPages(_ dev: UnsafeMutablePointer<Device>, page: UnsafeMutablePointer<PageFrame>?, size: Int,
                           handle: DMAAddress, direction: DMADirection) {
        guard let page, let pa = DMALayer.withCurrent({ $0.memory.physical.physicalAddress(of: page) }) ?? nil else { return }
        enter(dev, .noncoherent, devAddr: handle.rawValue, size: size, paddr: pa.rawValue, direction: direction)
    }

    @inline(never)
    static func freePages(_ dev: UnsafeMutablePointer<Device>, page: UnsafeMutablePointer<PageFrame>?, size: Int,
                          handle: DMAAddress, direction: DMADirection) {
        let pa = page.flatMap { p in DMALayer.withCurrent { $0.memory.physical.physicalAddress(of: p) } ?? nil }
        checkUnmap(Reference(dev: dev, devAddr: handle.rawValue, size: UInt64(size), type: .noncoherent, direction: direction,
                             paddr: pa?.rawValue ?? 0))
    }

    // MARK: Resources. Kernel: debug_dma_map_resource (which, unlike map_page, records a failed mapping
    // too), debug_dma_unmap_resource.

    @inline(never)
    static func mapResource(_ dev: UnsafeMutablePointer<Device>, phys: PhysicalAddress, size: Int, direction: DMADirection,
                            attributes: DMAAttributes, result: DMAAddress) {
        enter(dev, .resource, devAddr: result.rawValue, size: size, paddr: phys.rawValue, direction: direction,
              mapError: .notChecked, attributes: attributes)
    }

    @inline(never)
    static func unmapResource(_ dev: UnsafeMutablePointer<Device>, address: DMAAddress, size: Int, direction: DMADirection) {
        checkUnmap(Reference(dev: dev, devAddr: address.rawValue, size: UInt64(size), type: .resource, direction: direction))
    }

    // MARK: Unbind and dump. Kernel: dma_debug_device_change (BUS_NOTIFY_UNBOUND_DRIVER), debug_dma_dump_mappings.

    /// The driver is gone: anything it left mapped or allocated leaked. The message shows the last such entry
    /// in hash order, as the kernel's device_dma_allocations leaves it.
    static func driverUnbound(_ dev: UnsafeMutablePointer<Device>) {
        guard DebugTable.inUse > 0 else { return }
        var count = 0
        var last = DebugEntry()
        DebugTable.forEach { _, e in
            if e.pointee.dev == dev {
                count += 1
                last = e.pointee
            }
        }
        guard count > 0 else { return }
        report(dev, .pendingAtUnbind, address: last.devAddr, size: last.size,
               "device driver has pending DMA allocations while released from device [count=\(count)]\n"
               + "One of leaked entries details: [device address=\(DebugFormat.address(last.devAddr))] "
               + "[size=\(last.size) bytes] [mapped with \(last.direction)] [mapped as \(last.type.name)]")
    }

    /// Log each tracked mapping of `dev` (nil: all) as a dev_info line.
    public static func dumpMappings(_ dev: UnsafeMutablePointer<Device>?) {
        guard active else { return }
        var lines: [(UnsafeMutablePointer<Device>, String)] = []
        DebugTable.forEach { index, e in
            let x = e.pointee
            guard let owner = x.dev, dev == nil || owner == dev else { return }
            lines.append((owner, "\(x.type.name) idx \(index) P=\(DebugFormat.pa(x.paddr)) D=\(String(x.devAddr, radix: 16)) "
                          + "L=\(String(x.size, radix: 16)) cln=\(DebugFormat.pa(DebugTable.lineNumber(x.paddr))) "
                          + "\(x.direction) \(x.mapError.name)"))
        }
        for (owner, text) in lines { devPrintk(.info, owner, text) }
    }
}
