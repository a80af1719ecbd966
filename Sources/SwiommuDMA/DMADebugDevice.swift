// dma-debug's swiommu checks: what only a simulated machine can see, because the device's own DMA
// (swiommu_dma_read/write) goes through it. Each tracked mapping knows who owns it (the CPU after a
// sync_for_cpu, the device otherwise) and, when the device may read it, a checksum of the CPU's view taken
// when the device got it. From those:
//   - the device read a buffer the CPU changed after mapping it (or syncing it for the device) without
//     syncing it again: found when the device reads;
//   - the device wrote memory it does not own: not mapped for it (on the route it used), mapped
//     DMA_TO_DEVICE, or synced for the CPU and not yet back;
//   - device DMA reached an IOVA no mapping holds, through the IOTLB of a built-in model (the lazy
//     flush-queue window): the page table no longer has it;
//   - the CPU took back what a non-coherent device wrote without a sync_for_cpu: found at the next
//     sync_for_device of that buffer (the CPU's reads themselves are not seen).
// Messages say "DMA-API: <driver> <device>: swiommu: ...". No kernel counterpart.
import Glibc
import CKernel
import SwiommuBase
import SwiommuIOMMU
import SwiommuMemory
import SwiommuPlatform

extension DMADebug {
    // MARK: Routes: where a mapping lives for the device's own DMA.

    /// The route of the device's plain DMA API calls.
    @inline(__always)
    static func routeKey(_ dev: UnsafeMutablePointer<Device>) -> UInt {
        switch DMAMapping.path(dev) {
        case .iommu(let d): UInt(bitPattern: d)
        case .ops: DebugEntry.opsRoute
        case .direct, .unavailable: 0
        }
    }

    @inline(__always)
    static func routeKey(_ route: DMARoute) -> UInt {
        if case .iommu(let d) = route { return UInt(bitPattern: d) }
        return 0
    }

    /// Fill in what swiommu's checks need: the route, the device's coherence, the CPU view's checksum.
    static func track(_ e: UnsafeMutablePointer<DebugEntry>, _ dev: UnsafeMutablePointer<Device>, route: DMARoute?,
                      pieces: UnsafeMutablePointer<DebugSGPieces>? = nil) {
        e.pointee.route = route.map { routeKey($0) } ?? routeKey(dev)
        e.pointee.noncoherentDevice = !dev.pointee.dma_coherent
        guard e.pointee.direction.deviceReads else { return }
        switch e.pointee.type {
        case .single, .noncoherent:
            e.pointee.snapshot = checksum(of: e)
            e.pointee.snapshotValid = true
        case .scatterGather:
            guard let pieces else { return }
            pieces.pointee.references += 1
            e.pointee.pieces = pieces
            e.pointee.snapshotValid = true
        case .coherent, .resource:
            break   // shared by design, or not RAM
        }
    }

    // MARK: Checksums of the CPU's view (what C code reads and writes; the memfd).

    /// Fold `[pa, pa + size)` of the CPU's view into `h` (nothing for memory that is not RAM).
    static func fold(_ physical: PhysicalMemory, _ pa: UInt64, _ size: UInt64, into h: inout UInt64) {
        guard size > 0, physical.isRAM(PhysicalAddress(pa), size: size),
              let p = physical.virtualAddress(of: PhysicalAddress(pa)) else { return }
        fold(p, Int(size), into: &h)
    }

    /// Fold `n` bytes at `p` into `h`: any change of the bytes changes it (barring a 2^-64 chance).
    static func fold(_ p: UnsafeRawPointer, _ n: Int, into h: inout UInt64) {
        let p1: UInt64 = 0x9e37_79b1_85eb_ca87, p2: UInt64 = 0xc2b2_ae3d_27d4_eb4f
        var a = h &+ p1, b = h ^ p2, c = h &* p1, d = ~h
        var i = 0
        // Four independent lanes of 8 bytes: the multiplies overlap.
        // xxHash64's round: every input bit reaches the whole lane.
        @inline(__always) func round(_ lane: UInt64, _ word: UInt64) -> UInt64 {
            let x = lane &+ word &* p2
            return (x << 31 | x >> 33) &* p1
        }
        while i + 32 <= n {
            a = round(a, p.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            b = round(b, p.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self))
            c = round(c, p.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self))
            d = round(d, p.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self))
            i += 32
        }
        while i < n {
            a = (a ^ UInt64(p.load(fromByteOffset: i, as: UInt8.self))) &* p1
            i += 1
        }
        h = (a ^ (b << 7 | b >> 57) ^ (c << 19 | c >> 45) ^ (d << 37 | d >> 27)) &+ UInt64(n)
    }

    /// The checksum of an entry's buffer as the CPU sees it now.
    static func checksum(of e: UnsafeMutablePointer<DebugEntry>) -> UInt64 {
        withCPUTrapSuspended { checksumNow(of: e) }
    }

    private static func checksumNow(of e: UnsafeMutablePointer<DebugEntry>) -> UInt64 {
        DMALayer.withCurrent { layer in
            var h: UInt64 = 0
            if let pieces = e.pointee.pieces {
                let list = DebugSGPieces.pieces(pieces)
                for i in 0..<Int(pieces.pointee.count) { fold(layer.memory.physical, list[i].0, list[i].1, into: &h) }
            } else {
                fold(layer.memory.physical, e.pointee.paddr, e.pointee.size, into: &h)
            }
            return h
        } ?? 0
    }

    /// The physical pieces of a dma_map_sg() call (all `nents` entries) and their checksum; nil when out of
    /// host memory. References start at 0: each entry that keeps it counts.
    static func makePieces(_ sgl: UnsafeMutablePointer<Scatterlist>, _ nents: Int32,
                           _ memory: SimulatedMemory) -> UnsafeMutablePointer<DebugSGPieces>? {
        let bytes = MemoryLayout<DebugSGPieces>.stride + Int(nents) * MemoryLayout<(UInt64, UInt64)>.stride
        guard nents > 0, let raw = malloc(bytes) else { return nil }
        let p = raw.bindMemory(to: DebugSGPieces.self, capacity: 1)
        p.initialize(to: DebugSGPieces(references: 0, count: 0, snapshot: 0))
        let list = DebugSGPieces.pieces(p)
        var h: UInt64 = 0
        SG.forEach(sgl, nents) { s in
            let pa = SG.physicalAddress(s, memory)?.rawValue ?? 0
            list[Int(p.pointee.count)] = (pa, UInt64(s.pointee.length))
            p.pointee.count += 1
            fold(memory.physical, pa, UInt64(s.pointee.length), into: &h)
        }
        p.pointee.snapshot = h
        return p
    }

    /// Take a new snapshot of what the device may read (a sync for the device, or a device write).
    /// Caller holds the entry's bucket.
    static func refreshSnapshot(_ e: UnsafeMutablePointer<DebugEntry>, pieces refreshPieces: Bool = true) {
        guard e.pointee.snapshotValid else { return }
        if let pieces = e.pointee.pieces {
            if refreshPieces { pieces.pointee.snapshot = checksum(of: e) }
        } else {
            e.pointee.snapshot = checksum(of: e)
        }
    }

    // MARK: Hand-overs at syncs

    /// Move ownership for a sync; true when a non-coherent device's writes were never synced for the CPU
    /// before this sync for the device. Caller holds the entry's bucket.
    static func handOver(_ e: UnsafeMutablePointer<DebugEntry>, toCPU: Bool, refreshPieces: Bool) -> Bool {
        let streaming = e.pointee.type == .single || e.pointee.type == .scatterGather || e.pointee.type == .noncoherent
        guard streaming else { return false }
        if toCPU {
            e.pointee.cpuOwned = true
            e.pointee.deviceWrote = false
            return false
        }
        let unsynced = e.pointee.deviceWrote && e.pointee.noncoherentDevice
        e.pointee.cpuOwned = false
        e.pointee.deviceWrote = false
        refreshSnapshot(e, pieces: refreshPieces)
        return unsynced
    }

    static func cpuReadUnsynced(_ entry: DebugEntry) {
        report(entry.dev, .cpuReadUnsynced, address: entry.devAddr, size: entry.size,
               "swiommu: device driver syncs DMA memory for the device again without syncing it for cpu after the "
               + "device wrote it [device address=\(DebugFormat.address(entry.devAddr))] [size=\(entry.size) bytes] "
               + "[mapped with \(entry.direction)]")
    }

    // MARK: The device's own DMA (DeviceDMA.accessHook)

    /// A transfer of `size` bytes at bus address `address` went through, translated by `domain` (nil:
    /// the direct path or an identity domain).
    static func deviceAccess(_ dev: UnsafeMutablePointer<Device>, channel: Int, address: UInt64, size: Int, write: Bool,
                             domain: UnsafeMutablePointer<IOMMUDomain>?, throughModel: Bool) {
        // Ops installed with set_dma_ops keep their own address space: nothing to compare with.
        if case .ops = DMAMapping.path(dev) { return }
        let route: UInt
        if let domain {
            // A domain the driver manages itself (iommu_map): not the DMA API's business.
            guard domain.pointee.type & dmaAPIDomainBit != 0 else { return }
            route = UInt(bitPattern: domain)
        } else {
            route = 0
        }
        let end = address &+ UInt64(size)
        var at = address
        while at < end {
            let ref = Reference(dev: dev, devAddr: at, size: 1, type: .single, direction: .bidirectional)
            // Behind an IOMMU, any device's mapping in the domain serves (a shared domain); on the bus, only
            // the device's own.
            let (b, found) = DebugTable.findCovering(ref, bestFit: false) { e in
                e.pointee.route == route && (route != 0 || e.pointee.dev == dev)
                    && e.pointee.devAddr <= at && at < e.pointee.end
            }
            guard let e = found else {
                DebugTable.unlock(b)
                unmappedAccess(dev, address: at, size: end - at, write: write, domain: domain, throughModel: throughModel)
                return
            }
            let problem = write ? deviceWrote(e) : deviceRead(e)
            let entry = e.pointee
            DebugTable.unlock(b)
            if let problem {
                report(dev, problem.0, address: entry.devAddr, size: entry.size,
                       "swiommu: \(problem.1) [device address=\(DebugFormat.address(entry.devAddr))] "
                       + "[size=\(entry.size) bytes] [mapped with \(entry.direction)]")
            }
            at = min(end, entry.end)
        }
    }

    /// The device wrote into a tracked buffer. Caller holds its bucket.
    static func deviceWrote(_ e: UnsafeMutablePointer<DebugEntry>) -> (DMADebugCheck, String)? {
        switch e.pointee.type {
        case .coherent, .resource:
            return nil
        case .single, .scatterGather, .noncoherent:
            var problem: (DMADebugCheck, String)?
            if !e.pointee.direction.deviceWrites {
                problem = (.deviceWriteCPUOwned, "device wrote device read-only DMA memory")
            } else if e.pointee.cpuOwned {
                problem = (.deviceWriteCPUOwned, "device wrote DMA memory the cpu owns (synced for cpu, not yet for device)")
            }
            if e.pointee.direction.deviceWrites { e.pointee.deviceWrote = true }
            // A coherent device's write changes the CPU's view too: that is no CPU write.
            refreshSnapshot(e)
            return problem
        }
    }

    /// The device read a tracked buffer: has the CPU changed it since the device got it? Caller holds its
    /// bucket.
    static func deviceRead(_ e: UnsafeMutablePointer<DebugEntry>) -> (DMADebugCheck, String)? {
        guard e.pointee.snapshotValid else { return nil }
        let now = checksum(of: e)
        let before = e.pointee.pieces?.pointee.snapshot ?? e.pointee.snapshot
        guard now != before else { return nil }
        // Once per change.
        if let pieces = e.pointee.pieces { pieces.pointee.snapshot = now } else { e.pointee.snapshot = now }
        return (.cpuWriteUnsynced, "device read DMA memory the CPU changed after it was mapped or synced for the device")
    }

    /// No tracked mapping holds the address on this route.
    static func unmappedAccess(_ dev: UnsafeMutablePointer<Device>, address: UInt64, size: UInt64, write: Bool,
                               domain: UnsafeMutablePointer<IOMMUDomain>?, throughModel: Bool) {
        func at() -> String { "[device address=\(DebugFormat.address(address))] [size=\(size) bytes]" }
        // The translation went through although the page table no longer holds the IOVA: the IOTLB did it.
        if throughModel, let domain, Mapping.iovaToPhys(domain, address) == 0 {
            report(dev, .staleIOTLB, address: address, size: size,
                   "swiommu: device DMA reached an unmapped address through a stale IOTLB entry \(at())")
            return
        }
        if write {
            report(dev, .deviceWriteCPUOwned, address: address, size: size,
                   "swiommu: device wrote memory that is not mapped for it \(at())")
        }
    }
}

/// Where a host address lies, for dma_map_single()'s checks (error paths only).
enum HostMemory {
    private typealias GetAttr = @convention(c) (pthread_t, UnsafeMutablePointer<pthread_attr_t>) -> Int32

    /// On the calling thread's stack (glibc's pthread_getattr_np, looked up at run time: Swift's Glibc
    /// module does not show it).
    static func isOnStack(_ p: UnsafeRawPointer) -> Bool {
        guard let sym = dlsym(nil, "pthread_getattr_np") else { return false }
        let getattr = unsafeBitCast(sym, to: GetAttr.self)
        var attr = pthread_attr_t()
        guard getattr(pthread_self(), &attr) == 0 else { return false }
        defer { pthread_attr_destroy(&attr) }
        var base: UnsafeMutableRawPointer?
        var size = 0
        guard pthread_attr_getstack(&attr, &base, &size) == 0, let base else { return false }
        let a = UInt(bitPattern: p), low = UInt(bitPattern: base)
        return a >= low && a - low < UInt(size)
    }

    /// In a read-only mapping of a file: program or library text and read-only data (/proc/self/maps).
    static func isReadOnlyImage(_ p: UnsafeRawPointer) -> Bool {
        guard let f = fopen("/proc/self/maps", "r") else { return false }
        defer { fclose(f) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        let a = UInt(bitPattern: p)
        while getline(&line, &capacity, f) > 0, let line {
            // "start-end perms offset dev inode path"
            let fields = String(cString: line).split(whereSeparator: { $0 == " " || $0 == "\n" })
            guard fields.count >= 6 else { continue }
            let range = fields[0].split(separator: "-")
            guard range.count == 2, let low = UInt(range[0], radix: 16), let high = UInt(range[1], radix: 16),
                  a >= low && a < high else { continue }
            let perms = Array(fields[1].utf8)
            return perms.count >= 2 && perms[0] == UInt8(ascii: "r") && perms[1] == UInt8(ascii: "-")
                && fields[5].hasPrefix("/") && !fields[5].hasPrefix("/memfd:")
        }
        return false
    }
}
