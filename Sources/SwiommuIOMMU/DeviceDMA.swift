// The device's own DMA (swiommu_dma_read/write): the test stands in for the hardware. A channel goes through
// its IOMMU's current domain, or straight to the bus (a bypass channel, a device without an IOMMU, or one
// whose IOMMU has no driver, as on a kernel that carries on without it). Behind a built-in model the access
// goes as hardware does: the instance's IOTLB, else a walk of the table in RAM, with the permission check;
// behind a driver written in C, through its iova_to_phys. Memory is read and written as the device sees it:
// through the CPU cache model for a non-coherent master.
import CKernel
import SwiommuBase
import SwiommuMemory
import SwiommuPageTable
import SwiommuPlatform

public enum DeviceDMA {
    public enum Direction { case read, write }

    /// Where one channel's accesses go, decided once per transfer.
    enum Path {
        case direct
        case driver(UnsafeMutablePointer<IOMMUDomain>)
        case model(BuiltinIOMMU, ModelDomain, UnsafeMutablePointer<IOMMUDomain>, stream: UInt32)
        case identity
        case fault
    }

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
        let path = self.path(dev, channel: channel, state: state)
        let write = direction == .write
        var done = 0
        while done < size {
            let bus = addr &+ UInt64(done)
            // Chunks never cross a 4 KiB boundary: the smallest page any table maps.
            let chunk = min(size - done, 4096 - Int(bus & 0xfff))
            let phys: UInt64?
            switch path {
            case .direct:
                phys = directPhys(dev, bus)
                if phys == nil {
                    state.dmaFaults &+= 1
                    devPrintk(.error, dev, "swiommu DMA: bus address \(Kernel.hex(bus)) is outside the device's dma-ranges")
                }
            case .identity:
                phys = bus
            case .driver(let d):
                phys = driverTranslate(dev, d, iova: bus, write: write, state: state)
            case .model(let inst, let domain, let d, let stream):
                phys = modelTranslate(dev, inst, domain, d, stream: stream, iova: bus, write: write, state: state)
            case .fault:
                state.dmaFaults &+= 1
                devPrintk(.error, dev, "swiommu DMA: channel \(channel) has no IOMMU domain to translate \(Kernel.hex(bus))")
                phys = nil
            }
            guard let pa = phys else { return Errno.fault.negated }
            let ok = switch direction {
            case .read: machine.memory.deviceRead(PhysicalAddress(pa), into: buffer + done, size: chunk,
                                                  coherent: dev.pointee.dma_coherent)
            case .write: machine.memory.deviceWrite(PhysicalAddress(pa), from: buffer + done, size: chunk,
                                                    coherent: dev.pointee.dma_coherent)
            }
            guard ok else {
                state.dmaFaults &+= 1
                devPrintk(.error, dev, "swiommu DMA: bus address \(Kernel.hex(bus)) -> \(Kernel.hex(pa)) is not RAM")
                return Errno.fault.negated
            }
            done += chunk
        }
        return 0
    }

    /// Translate one address as the device would, without moving data: the physical address, or nil after
    /// a fault was reported (swiommu_iommu_translate).
    public static func translate(_ dev: UnsafeMutablePointer<Device>, channel: Int, iova: UInt64, write: Bool) -> UInt64? {
        let state = DeviceState.of(dev)
        guard channel >= 0, channel < state.channels.count else { return nil }
        switch path(dev, channel: channel, state: state) {
        case .direct: return directPhys(dev, iova)
        case .identity: return iova
        case .driver(let d): return driverTranslate(dev, d, iova: iova, write: write, state: state)
        case .model(let inst, let domain, let d, let stream):
            return modelTranslate(dev, inst, domain, d, stream: stream, iova: iova, write: write, state: state)
        case .fault: return nil
        }
    }

    static func path(_ dev: UnsafeMutablePointer<Device>, channel: Int, state: DeviceState) -> Path {
        guard let core = IOMMUCore.current else { return .direct }
        switch core.route(of: dev, channel: channel) {
        case .direct: return .direct
        case .unavailable: return .fault
        case .translated(let d, _):
            if d.pointee.type == IOMMU_DOMAIN_IDENTITY_VALUE { return .identity }
            if d.pointee.type == IOMMU_DOMAIN_BLOCKED_VALUE { return .fault }
            if BuiltinModels.isModelDomain(d), let master = MasterConfig.of(dev), let node = state.channels[channel].iommu,
               let port = master.ports.first(where: { $0.instance.node == node }) {
                return .model(port.instance, ModelDomain.from(d), d, stream: (port.ids.first ?? 0) & 0xffff)
            }
            return .driver(d)
        }
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
        state.dmaFaults &+= 1
        let ret = IOMMUCore.reportFault(d, dev: dev, iova: iova, flags: write ? 1 : 0)   // IOMMU_FAULT_WRITE / _READ
        if ret != 0 {
            // Nothing handled it: log it as an SMMU driver does for an unhandled context fault.
            devPrintk(.error, dev, "Unhandled context fault: iova=\(Kernel.hex(iova)), \(write ? "write" : "read")")
        }
        return nil
    }

    /// Through a built-in model: IOTLB, walk, permissions; a fault goes to report_iommu_fault, then the
    /// driver's log line.
    @inline(__always)
    static func modelTranslate(_ dev: UnsafeMutablePointer<Device>, _ inst: BuiltinIOMMU, _ domain: ModelDomain,
                               _ d: UnsafeMutablePointer<IOMMUDomain>, stream: UInt32, iova: UInt64, write: Bool,
                               state: DeviceState) -> UInt64? {
        let context = domain.context(on: inst)
        let result: Result<UInt64, WalkFault> = if let context {
            inst.translate(context: context, iova: iova, write: write)
        } else {
            .failure(WalkFault(kind: .translation, level: 0, iova: iova))
        }
        switch result {
        case .success(let pa): return pa
        case .failure(let f):
            state.dmaFaults &+= 1
            inst.lock.withLock { inst.faults &+= 1 }
            let flags: Int32 = inst.reportsAccessDirection && write ? 1 : 0
            let handled = IOMMUCore.reportFault(d, dev: inst.faultDevice(master: dev), iova: iova, flags: flags) == 0
            inst.logFault(master: dev, stream: stream, context: context ?? -1, iova: iova, write: write, fault: f,
                          handled: handled)
            return nil
        }
    }
}
