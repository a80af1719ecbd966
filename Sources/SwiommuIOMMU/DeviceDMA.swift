// The device's own DMA (swiommu_dma_read/write): the test stands in for the hardware. A channel goes through
// its IOMMU's current domain, or straight to the bus (a bypass channel, a device without an IOMMU, or one
// whose IOMMU has no driver, as on a kernel that carries on without it). Behind a built-in model the access
// goes as hardware does: the instance's IOTLB, else a walk of the table in RAM, with the permission check;
// behind a driver written in C, through its iova_to_phys. Memory is read and written as the device sees it:
// through the CPU cache model for a non-coherent master.
import CKernel
import CSwiommuGlue
import SwiommuBase
import SwiommuMemory
import SwiommuPageTable
import SwiommuPlatform
import Synchronization

public enum DeviceDMA {
    public enum Direction { case read, write }

    /// Where one channel's accesses go: cached per channel until the route generation moves (any attach,
    /// detach, probe, release or domain free), so the hot path does no lookup.
    struct Port {
        enum Kind: UInt8 { case direct, identity, driver, model, fault }
        var generation = 0
        var kind = Kind.fault
        var instance: Unmanaged<BuiltinIOMMU>?
        var modelDomain: Unmanaged<ModelDomain>?
        var domain: UnsafeMutablePointer<IOMMUDomain>?
        var context = -1
        var stream: UInt32 = 0
    }

    /// The per-device cache of ports, one per channel (DeviceState.iommuPortCache). Device DMA reads it on
    /// any thread without a lock; a thread that finds its port stale fills it under `fillLock`. A port is
    /// `words` machine words, each read and written atomically (relaxed: plain loads and stores on x86 and
    /// arm64), with a seqlock over them: the filler zeroes the generation word, writes the others, then
    /// stores the generation with release; a reader loads the generation with acquire, the others, then the
    /// generation again, and takes the port only when both loads give the current generation. So a reader
    /// never mixes two fills, and ThreadSanitizer sees no plain access race.
    final class PortCache {
        static let words = 8
        let storage: UnsafeMutablePointer<Int>
        let count: Int
        init(count: Int) {
            self.count = count
            storage = .allocate(capacity: count * PortCache.words)
            storage.initialize(repeating: 0, count: count * PortCache.words)
        }
        deinit { storage.deallocate() }

        /// Channel `channel`'s port if it was filled at `generation` (never 0: a port being filled has 0).
        @inline(__always)
        func read(_ channel: Int, generation: Int) -> Port? {
            let w = storage + channel &* PortCache.words
            guard swiommu_glue_atomic_load_acquire_long(w) == generation else { return nil }
            var p = Port()
            p.kind = Port.Kind(rawValue: UInt8(truncatingIfNeeded: swiommu_glue_atomic_load_long(w + 1))) ?? .fault
            p.instance = UnsafeRawPointer(bitPattern: swiommu_glue_atomic_load_long(w + 2)).map { Unmanaged.fromOpaque($0) }
            p.modelDomain = UnsafeRawPointer(bitPattern: swiommu_glue_atomic_load_long(w + 3)).map { Unmanaged.fromOpaque($0) }
            p.domain = UnsafeMutablePointer(bitPattern: swiommu_glue_atomic_load_long(w + 4))
            p.context = swiommu_glue_atomic_load_long(w + 5)
            p.stream = UInt32(truncatingIfNeeded: swiommu_glue_atomic_load_long(w + 6))
            atomicMemoryFence(ordering: .acquiring)
            guard swiommu_glue_atomic_load_long(w) == generation else { return nil }
            p.generation = generation
            return p
        }

        /// Store a port (the caller holds `fillLock`).
        func write(_ channel: Int, _ p: Port) {
            let w = storage + channel &* PortCache.words
            swiommu_glue_atomic_store_long(w, 0)
            atomicMemoryFence(ordering: .releasing)
            swiommu_glue_atomic_store_long(w + 1, Int(p.kind.rawValue))
            swiommu_glue_atomic_store_long(w + 2, Int(bitPattern: p.instance?.toOpaque()))
            swiommu_glue_atomic_store_long(w + 3, Int(bitPattern: p.modelDomain?.toOpaque()))
            swiommu_glue_atomic_store_long(w + 4, Int(bitPattern: p.domain))
            swiommu_glue_atomic_store_long(w + 5, p.context)
            swiommu_glue_atomic_store_long(w + 6, Int(p.stream))
            swiommu_glue_atomic_store_release_long(w, p.generation)
        }
    }

    /// Serialises the fills of every device's ports (the slow path, once per channel and route generation).
    static let fillLock = Lock()

    /// Called after each transfer that went through (dma-debug's checks, installed by the DMA layer): the
    /// device, channel, bus address, size, direction, the IOMMU domain that translated it (nil on the direct
    /// path or through an identity domain) and whether a built-in model (with its IOTLB) translated it.
    public typealias AccessHook = (UnsafeMutablePointer<Device>, Int, UInt64, Int, Direction,
                                   UnsafeMutablePointer<IOMMUDomain>?, Bool) -> Void
    nonisolated(unsafe) public static var accessHook: AccessHook?

    /// Move `size` bytes between the device and `buffer` at bus address `addr` on `channel`.
    /// 0, -EINVAL for a bad channel, or -EFAULT after a fault was reported.
    public static func transfer(_ dev: UnsafeMutablePointer<Device>, channel: Int, addr: UInt64,
                                buffer: UnsafeMutableRawPointer, size: Int, direction: Direction,
                                machine: Machine) -> Int32 {
        let state = DeviceState.of(dev)
        guard channel >= 0, channel < state.channels.count else {
            devPrintk(.error, dev, "swiommu DMA: no channel \(channel) (the device has \(state.channels.count))")
            return Errno.invalid.negated
        }
        guard size > 0 else { return 0 }
        let port = self.port(dev, channel: channel, state: state)
        let write = direction == .write
        var done = 0
        while done < size {
            let bus = addr &+ UInt64(done)
            // Chunks never cross a 4 KiB boundary: the smallest page any table maps.
            let chunk = min(size - done, 4096 - Int(bus & 0xfff))
            guard let pa = resolve(dev, port, bus: bus, write: write, state: state, channel: channel) else {
                return Errno.fault.negated
            }
            let ok = switch direction {
            case .read: machine.memory.deviceRead(PhysicalAddress(pa), into: buffer + done, size: chunk,
                                                  coherent: dev.pointee.dma_coherent)
            case .write: machine.memory.deviceWrite(PhysicalAddress(pa), from: buffer + done, size: chunk,
                                                    coherent: dev.pointee.dma_coherent)
            }
            guard ok else {
                state.countDMAFault()
                devPrintk(.error, dev, "swiommu DMA: bus address \(Kernel.hex(bus)) -> \(Kernel.hex(pa)) is not RAM")
                return Errno.fault.negated
            }
            done += chunk
        }
        if let hook = accessHook {
            let translated = port.kind == .model || port.kind == .driver
            hook(dev, channel, addr, size, direction, translated ? port.domain : nil, port.kind == .model)
        }
        return 0
    }

    /// Translate one address as the device would, without moving data: the physical address, or nil after
    /// a fault was reported (swiommu_iommu_translate). The caller checked the channel.
    @inline(__always)
    public static func translate(_ dev: UnsafeMutablePointer<Device>, channel: Int, iova: UInt64, write: Bool) -> UInt64? {
        let state = Unmanaged<DeviceState>.fromOpaque(UnsafeRawPointer(dev.pointee.swiommu!))
        return state._withUnsafeGuaranteedRef { state in
            resolve(dev, port(dev, channel: channel, state: state), bus: iova, write: write, state: state, channel: channel)
        }
    }

    /// The bus address's physical address on `port`, or nil after a fault was reported.
    @inline(__always)
    static func resolve(_ dev: UnsafeMutablePointer<Device>, _ port: Port, bus: UInt64, write: Bool, state: DeviceState,
                        channel: Int) -> UInt64? {
        switch port.kind {
        case .model:
            return port.instance.unsafelyUnwrapped._withUnsafeGuaranteedRef { inst in
                switch inst.translate(context: port.context, iova: bus, write: write) {
                case .success(let pa): return pa
                case .failure(let f):
                    modelFault(dev, inst, port: port, iova: bus, write: write, fault: f, state: state)
                    return nil
                }
            }
        case .direct:
            let phys = directPhys(dev, bus)
            if phys == nil {
                state.countDMAFault()
                devPrintk(.error, dev, "swiommu DMA: bus address \(Kernel.hex(bus)) is outside the device's dma-ranges")
            }
            return phys
        case .identity:
            return bus
        case .driver:
            return driverTranslate(dev, port.domain!, iova: bus, write: write, state: state)
        case .fault:
            state.countDMAFault()
            devPrintk(.error, dev, "swiommu DMA: channel \(channel) has no IOMMU domain to translate \(Kernel.hex(bus))")
            return nil
        }
    }

    /// The port of `channel`, from the cache when it is current.
    @inline(__always)
    static func port(_ dev: UnsafeMutablePointer<Device>, channel: Int, state: DeviceState) -> Port {
        let now = swiommu_glue_route_generation_now()
        if let raw = state.iommuPortCache.load(ordering: .acquiring) {
            let hit = Unmanaged<PortCache>.fromOpaque(raw)._withUnsafeGuaranteedRef { cache in
                channel < cache.count ? cache.read(channel, generation: now) : nil
            }
            if let hit { return hit }
        }
        return fillPort(dev, channel: channel, state: state, generation: now)
    }

    @inline(never)
    static func fillPort(_ dev: UnsafeMutablePointer<Device>, channel: Int, state: DeviceState, generation: Int) -> Port {
        fillLock.lock()
        defer { fillLock.unlock() }
        var p = Port()
        p.generation = generation
        p.kind = .direct
        if let core = IOMMUCore.current {
            switch core.route(of: dev, channel: channel) {
            case .direct: p.kind = .direct
            case .unavailable: p.kind = .fault
            case .translated(let d, _):
                p.domain = d
                if d.pointee.type == IOMMU_DOMAIN_IDENTITY_VALUE {
                    p.kind = .identity
                } else if d.pointee.type == IOMMU_DOMAIN_BLOCKED_VALUE {
                    p.kind = .fault
                } else if BuiltinModels.isModelDomain(d), let owner = core.routeDevice(of: dev, channel: channel),
                          let master = MasterConfig.of(owner),
                          let node = state.channels[channel].iommu,
                          let mp = master.ports.first(where: { $0.instance.node == node }) {
                    let domain = ModelDomain.from(d)
                    p.kind = .model
                    p.instance = .passUnretained(mp.instance)
                    p.modelDomain = .passUnretained(domain)
                    p.context = domain.context(on: mp.instance) ?? -1
                    // The faulting channel's own stream ID (its first specifier cell), else the master's first.
                    p.stream = (state.channels[channel].ids.first ?? mp.ids.first ?? 0) & 0xffff
                } else {
                    p.kind = .driver
                }
            }
        }
        // The generation starts at 1 and only grows (0 marks a port being filled).
        guard generation != 0 else { return p }
        var raw = state.iommuPortCache.load(ordering: .acquiring)
        if raw.map({ Unmanaged<PortCache>.fromOpaque($0).takeUnretainedValue().count }) != state.channels.count {
            if let old = raw { state.retiredPortCaches.append(Unmanaged<PortCache>.fromOpaque(old).takeRetainedValue()) }
            let fresh = Unmanaged.passRetained(PortCache(count: state.channels.count)).toOpaque()
            state.iommuPortCache.store(fresh, ordering: .releasing)
            raw = fresh
        }
        Unmanaged<PortCache>.fromOpaque(raw!)._withUnsafeGuaranteedRef { cache in
            if channel < cache.count { cache.write(channel, p) }
        }
        return p
    }

    /// Kernel: dma_to_phys through dma_range_map (identity without one).
    static func directPhys(_ dev: UnsafeMutablePointer<Device>, _ bus: UInt64) -> UInt64? {
        guard var r = dev.pointee.dma_range_map else { return bus }
        while r.pointee.size != 0 {
            if bus >= r.pointee.dma_start && bus - r.pointee.dma_start < r.pointee.size {
                return r.pointee.cpu_start + (bus - r.pointee.dma_start)
            }
            r += 1
        }
        return nil
    }

    /// Through a C driver's domain: its iova_to_phys. A miss is a fault reported to the domain's handler.
    static func driverTranslate(_ dev: UnsafeMutablePointer<Device>, _ d: UnsafeMutablePointer<IOMMUDomain>, iova: UInt64,
                                write: Bool, state: DeviceState) -> UInt64? {
        let pa = Mapping.iovaToPhys(d, iova)
        if pa != 0 { return pa }
        state.countDMAFault()
        let ret = IOMMUCore.reportFault(d, dev: dev, iova: iova, flags: write ? 1 : 0)   // IOMMU_FAULT_WRITE / _READ
        if ret != 0 {
            // Nothing handled it: log it as an SMMU driver does for an unhandled context fault.
            devPrintk(.error, dev, "Unhandled context fault: iova=\(Kernel.hex(iova)), \(write ? "write" : "read")")
        }
        return nil
    }

    /// A built-in model's fault: report_iommu_fault to the domain's handler, then the driver's log line.
    @inline(never)
    static func modelFault(_ dev: UnsafeMutablePointer<Device>, _ inst: BuiltinIOMMU, port: Port, iova: UInt64, write: Bool,
                           fault: WalkFault, state: DeviceState) {
        state.countDMAFault()
        inst.lock.withLock { inst.faults &+= 1 }
        let flags: Int32 = inst.reportsAccessDirection && write ? 1 : 0
        let handled = IOMMUCore.reportFault(port.domain!, dev: inst.faultDevice(master: dev), iova: iova, flags: flags) == 0
        inst.logFault(master: dev, stream: port.stream, context: port.context, iova: iova, write: write, fault: fault,
                      handled: handled)
    }
}
